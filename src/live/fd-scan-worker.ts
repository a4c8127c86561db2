import { type MessagePort, workerData } from 'node:worker_threads';
import { emptyScanOut, scanPids } from './fd-scan.js';

/**
 * A helper thread for owners.ts. The caller blocks in Atomics.wait, so this thread reports through shared memory
 * (state: 0 not started, 1 scanning, 2 done, 3 cancelled) and a MessagePort the caller drains synchronously.
 */
interface WorkerInput {
  procDir: string;
  pids: Int32Array;
  cursor: Int32Array;
  wanted: Float64Array;
  strict: boolean;
  withCmdline: boolean;
  withUnit: boolean;
  state: Int32Array;
  slot: number;
  port: MessagePort;
}

const input = workerData as WorkerInput;
// The caller cancels helpers that had not started when it ran out of pids; then there is nothing to do.
if (Atomics.compareExchange(input.state, input.slot, 0, 1) === 0) {
  const out = emptyScanOut();
  try {
    scanPids(
      { procDir: input.procDir, pids: input.pids, cursor: input.cursor, wanted: new Set(input.wanted), strict: input.strict, withCmdline: input.withCmdline, withUnit: input.withUnit },
      out,
      Infinity,
      Buffer.allocUnsafe(64 * 1024),
    );
  } finally {
    const pairs = Float64Array.from(out.pairs);
    input.port.postMessage({ pairs, infos: out.infos, denied: out.denied, vanished: out.vanished, fds: out.fds }, [pairs.buffer]);
    Atomics.store(input.state, input.slot, 2);
    Atomics.notify(input.state, input.slot);
  }
}
input.port.close();

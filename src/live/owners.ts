import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ProcessInfo } from '../model/live.js';
import type { CgroupUnitMap } from './cgroup-units.js';
import { emptyScanOut, scanPids, type ScanJob, type ScanOut } from './fd-scan.js';
import { nativeScanner, nativeScanStart } from './native-scan.js';
import { readUnit } from './process-info.js';
import { appendAll } from '../model/append.js';

export interface OwnerMap {
  /** inode → processes holding it, each process once, sorted by pid. */
  owners: Map<number, ProcessInfo[]>;
  /** Pids whose fd directory was not readable. */
  denied: number[];
  vanished: number;
  fds: number;
  /** Processes the native scan matched to a twin with kcmp instead of reading their links (native-scan.ts). */
  twins?: number;
  /** Processes scanned. */
  processes: number;
}

/**
 * A thread costs ~30 ms of wall time (and ~0.2 s of CPU: a second isolate) to start; start helpers once this
 * thread has read this many fd entries (≈20–40 ms of kernel work), so a small host never pays for one. Measured at
 * 10k one-socket processes: helpers after 20k fds took 1.06–2.0 s, after 1k fds 0.93–1.08 s.
 */
const SPAWN_AFTER_FDS = 4_000;
/** Projected fd entries still to read below which the scan stays on this thread (~50–100 ms of kernel work). */
const HELPER_MIN_REMAINING_FDS = 16_000;
const MAX_HELPERS = 3;
/** Upper bound on the native scan's threads (one per core below it): the work is kernel time per fd. */
const MAX_NATIVE_THREADS = 8;
/** A helper that neither finishes nor fails within this long is given up on and its share rescanned here. */
const HELPER_TIMEOUT_MS = 10 * 60_000;

const STATE_NOT_STARTED = 0;
const STATE_DONE = 2;
const STATE_CANCELLED = 3;

/**
 * Map wanted socket inodes to the processes that hold them, scanning /proc/PID/fd of every pid in `pids`
 * (undefined: every process in `procDir`, listed by the native scanner itself when it is there).
 * Synchronous (callers such as the scan pipeline are), yet on a large host it shares the pid list with helper
 * threads through an atomic cursor and blocks in Atomics.wait for them: the kernel's per-fd cost dominates and
 * it scales with cores.
 */
export function findSocketOwners(procDir: string, pidList: number[] | undefined, wanted: Set<number>, opts: OwnerScanOptions): OwnerMap {
  return startSocketOwners(procDir, pidList, wanted, opts).finish();
}

export interface OwnerScanOptions {
  strict: boolean;
  withCmdline: boolean;
  withUnit: boolean;
  threads?: number;
  native?: boolean;
  twins?: boolean;
}

/**
 * findSocketOwners in two steps: with the native scanner its threads start now and finish() completes the scan
 * (this thread takes its share then), so the caller can do other work in between; the JavaScript scan runs
 * wholly in finish().
 */
export function startSocketOwners(procDir: string, pidList: number[] | undefined, wanted: Set<number>, opts: OwnerScanOptions): { finish(): OwnerMap } {
  const mod = opts.native === false ? undefined : nativeScanner();
  if (mod) {
    const threads = Math.min(opts.threads ?? os.availableParallelism(), MAX_NATIVE_THREADS);
    const run = nativeScanStart(mod, procDir, pidList, wanted, { strict: opts.strict, withCmdline: opts.withCmdline, withUnit: opts.withUnit, threads, ...(opts.twins !== undefined ? { twins: opts.twins } : {}) });
    return {
      finish: () => {
        const out = run.finish();
        return { ...merge([out]), twins: out.twins, processes: out.processes };
      },
    };
  }
  return { finish: () => jsScan(procDir, pidList, wanted, opts) };
}

function jsScan(procDir: string, pidList: number[] | undefined, wanted: Set<number>, opts: OwnerScanOptions): OwnerMap {
  const withUnit = opts.withUnit;
  const pids = pidList ?? listPids(procDir);

  const shared = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, pids.length)));
  shared.set(pids);
  const cursor = new Int32Array(new SharedArrayBuffer(4));
  const job: ScanJob = { procDir, pids: shared.subarray(0, pids.length), cursor, wanted, strict: opts.strict, withCmdline: opts.withCmdline, withUnit };
  const main = emptyScanOut();
  const scratch = Buffer.allocUnsafe(64 * 1024);
  const helpers = helperCount(opts.threads);
  const done = helpers === 0 || scanPids(job, main, SPAWN_AFTER_FDS, scratch) || !worthHelpers(main.fds, Atomics.load(cursor, 0), pids.length);
  const outs: ScanOut[] = [main];
  // Loaded only when helpers are wanted: worker_threads brings Node's stream modules, ~5 ms that the native scan
  // never needs. process.getBuiltinModule is Node 20.16+; before it, the scan stays on this thread.
  const threads = done || typeof process.getBuiltinModule !== 'function' ? undefined : process.getBuiltinModule('node:worker_threads');
  if (!threads) {
    scanPids(job, main, Infinity, scratch);
    return { ...merge(outs), processes: pids.length };
  }
  const { MessageChannel, receiveMessageOnPort, Worker } = threads;
  const state = new Int32Array(new SharedArrayBuffer(4 * helpers));
  const ports: MessagePort[] = [];
  const workers: Worker[] = [];
  const wantedArr = Float64Array.from(wanted);
  for (let slot = 0; slot < helpers; slot++) {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1);
    try {
      const w = new Worker(WORKER_FILE, {
        workerData: { procDir, pids: job.pids, cursor, wanted: wantedArr, strict: opts.strict, withCmdline: opts.withCmdline, withUnit, state, slot, port: port2 },
        transferList: [port2],
      });
      w.unref();
      workers.push(w);
    } catch {
      Atomics.store(state, slot, STATE_CANCELLED);
    }
  }
  scanPids(job, main, Infinity, scratch);
  let lost = false;
  for (let slot = 0; slot < helpers; slot++) {
    // Out of pids: a helper that has not started yet must not start (it would find nothing anyway).
    if (Atomics.compareExchange(state, slot, STATE_NOT_STARTED, STATE_CANCELLED) === STATE_NOT_STARTED) continue;
    const deadline = Date.now() + HELPER_TIMEOUT_MS;
    while (Atomics.load(state, slot) !== STATE_DONE && Atomics.load(state, slot) !== STATE_CANCELLED && Date.now() < deadline) {
      Atomics.wait(state, slot, Atomics.load(state, slot), 1000);
    }
    const msg = receiveMessageOnPort(ports[slot] as MessagePort)?.message as WorkerReply | undefined;
    if (msg === undefined) {
      if (Atomics.load(state, slot) !== STATE_CANCELLED) lost = true;
      continue;
    }
    outs.push({ pairs: Array.from(msg.pairs), infos: msg.infos, denied: msg.denied, vanished: msg.vanished, fds: msg.fds });
  }
  for (const w of workers) void w.terminate();
  for (const p of ports) p.close();
  // A helper that died mid-scan took pids it never reported; which ones is unknown, so rescan all here.
  if (lost) {
    const again = emptyScanOut();
    scanPids({ ...job, cursor: new Int32Array(1) }, again, Infinity, scratch);
    return { ...merge([again]), processes: pids.length };
  }
  return { ...merge(outs), processes: pids.length };
}

interface WorkerReply {
  pairs: Float64Array;
  infos: ProcessInfo[];
  denied: number[];
  vanished: number;
  fds: number;
}

/** Present in dist/; absent when running from TypeScript sources (tests), where the scan stays on one thread. */
const WORKER_FILE = fileURLToPath(new URL('./fd-scan-worker.js', import.meta.url));

/**
 * Whether the rest of the scan, projected from the fds per pid seen so far, is long enough to repay a thread's
 * start (at 1k one-socket processes it was not: 2 000 pids, ~8k fds, and the thread cost more than it saved).
 */
function worthHelpers(fdsSoFar: number, pidsDone: number, pidsTotal: number): boolean {
  if (pidsDone <= 0) return true;
  return (fdsSoFar / pidsDone) * (pidsTotal - pidsDone) >= HELPER_MIN_REMAINING_FDS;
}

function helperCount(requested: number | undefined): number {
  const cores = requested ?? os.availableParallelism();
  if (cores <= 1 || !fs.existsSync(WORKER_FILE)) return 0;
  return Math.min(cores - 1, MAX_HELPERS);
}

/** A scan's output; the native scan hands its pairs over as the Float64Array it made (no copy into an Array). */
type MergeInput = Omit<ScanOut, 'pairs'> & { pairs: ArrayLike<number> };

function merge(outs: MergeInput[]): Omit<OwnerMap, 'processes'> {
  const owners = new Map<number, ProcessInfo[]>();
  const denied: number[] = [];
  let vanished = 0;
  let fds = 0;
  for (const out of outs) {
    const byPid = new Map<number, ProcessInfo>();
    for (const info of out.infos) byPid.set(info.pid, info);
    const { pairs } = out;
    let lastPid = -1;
    let info: ProcessInfo | undefined;
    for (let i = 0; i < pairs.length; i += 2) {
      const pid = pairs[i] as number;
      const inode = pairs[i + 1] as number;
      if (pid !== lastPid) {
        info = byPid.get(pid) as ProcessInfo;
        lastPid = pid;
      }
      let list = owners.get(inode);
      if (list === undefined) owners.set(inode, (list = []));
      // A process's pairs are contiguous, so a second fd for the same socket repeats the last entry.
      if (list.length === 0 || (list[list.length - 1] as ProcessInfo).pid !== pid) list.push(info as ProcessInfo);
    }
    appendAll(denied, out.denied);
    vanished += out.vanished;
    fds += out.fds;
  }
  // Threads (and a captured root's readdir order) interleave pids; the contract is one order, by pid.
  for (const list of owners.values()) if (list.length > 1 && !sortedByPid(list)) list.sort((a, b) => a.pid - b.pid);
  return { owners, denied, vanished, fds };
}

function sortedByPid(list: readonly ProcessInfo[]): boolean {
  for (let i = 1; i < list.length; i++) if ((list[i - 1] as ProcessInfo).pid > (list[i] as ProcessInfo).pid) return false;
  return true;
}

/**
 * Units from the cgroup walk; a pid the walk did not see (it started after the walk, or sits outside the walked
 * tree) gets its own /proc/PID/cgroup read, so the answer is the same as reading every owner's file.
 */
export function attachUnits(procDir: string, owners: Map<number, ProcessInfo[]>, units: CgroupUnitMap | undefined): void {
  const done = new Set<ProcessInfo>();
  const scratch = Buffer.allocUnsafe(16 * 1024);
  for (const list of owners.values()) {
    for (const info of list) {
      if (done.has(info)) continue;
      done.add(info);
      const unit = units?.unitOf(info.pid) ?? readUnit(`${procDir}/${info.pid}`, scratch);
      if (unit) info.unit = unit;
    }
  }
}

/** Distinct processes in an owner map. */
export function ownerCount(owners: Map<number, ProcessInfo[]>): number {
  const pids = new Set<number>();
  for (const list of owners.values()) for (const info of list) pids.add(info.pid);
  return pids.size;
}

/** Numeric directories of /proc. d_type says directory without a stat; symlinks (a capture's trick) are skipped. */
export function listPids(procDir: string): number[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(procDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const e of entries) {
    const c = e.name.charCodeAt(0);
    if (c < 49 || c > 57 || !e.isDirectory()) continue;
    const pid = Number(e.name);
    if (Number.isInteger(pid) && pid > 0 && pid < 2 ** 31) pids.push(pid);
  }
  return pids;
}

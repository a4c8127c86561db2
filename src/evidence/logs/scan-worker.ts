import { parentPort, workerData } from 'node:worker_threads';
import { scanPart, type PartJob } from './range-scan.js';

/** A worker thread of parallel.ts: scans one part of a plain file (the fd is shared with the process) and replies once. */
const job = workerData as PartJob;
try {
  parentPort?.postMessage({ ok: true, result: scanPart(job) });
} catch (e) {
  parentPort?.postMessage({ ok: false, why: String((e as Error)?.message ?? e) });
}

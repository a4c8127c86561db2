import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { UnseenNote } from '../../model/index.js';
import type { EventCollapser } from './collapse.js';
import { scanPart, type PartJob, type PartResult } from './range-scan.js';
import { isGzip, openRegularFile, type LogFile, type ScannedFile } from './sources.js';

/**
 * A large plain file is scanned in parts on several cores: each part is a byte range whose lines are scanned by a
 * worker thread with its own fixed block (memory stays a constant number of blocks), recognised and collapsed there;
 * the first part runs on the calling thread. The parts' collapsed events are then merged in file order, their line
 * numbers rebased by the lines of the parts before, which gives exactly what one scan of the whole file gives (see
 * range-scan.ts for how lines are assigned to parts, and the equivalence test).
 */

/** Below this size a thread's start-up (tens of ms) costs more than it saves. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
const MAX_PARTS = 4;

/** Present in dist/; absent when running from TypeScript sources (tests), where files are scanned on one thread. */
const WORKER_FILE = fileURLToPath(new URL('./scan-worker.js', import.meta.url));

export interface ParallelOptions {
  /**
   * Parts to scan at once; default os.availableParallelism() (at most 4) less the cores busy with other work by the
   * load average, as `make -l` does: with the cores taken by other work, a second thread only adds its start-up and contention (on
   * the 2-core test host under load 5, 256 MiB took 0.16× grep's time in parts against 0.28× on one thread).
   * 1 scans on the calling thread only.
   */
  threads?: number;
  /** Files smaller than this stay on one thread; default PARALLEL_MIN_BYTES. */
  minBytes?: number;
}

/** How many parts to scan a plain file of `size` bytes in: 1 means the ordinary single-threaded scan. */
export function partCount(size: number, opts: ParallelOptions = {}, workerAvailable = fs.existsSync(WORKER_FILE)): number {
  // Split only when the cores are not already busy with other work: on a loaded host the extra thread only
  // competes (measured). The 1-minute load average lags, so a core counts as free up to a load of cores - 0.5.
  const cores = os.availableParallelism();
  const idle = (os.loadavg()[0] ?? 0) < cores - 0.5;
  const threads = Math.min(opts.threads ?? (idle ? cores : 1), MAX_PARTS);
  if (threads <= 1 || !workerAvailable || size < (opts.minBytes ?? PARALLEL_MIN_BYTES)) return 1;
  return threads;
}

/** Split [0, size) into `parts` ranges of about equal size. */
export function splitRanges(size: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < parts; k++) out.push([Math.floor((size * k) / parts), Math.floor((size * (k + 1)) / parts)]);
  return out;
}

export type PartRunner = (job: PartJob) => Promise<PartResult>;

/** Runs a part on a worker thread. */
export const workerRunner: PartRunner = (job) =>
  new Promise((resolve, reject) => {
    const w = new Worker(WORKER_FILE, { workerData: job });
    let settled = false;
    w.once('message', (msg: { ok: true; result: PartResult } | { ok: false; why: string }) => {
      settled = true;
      if (msg.ok) resolve(msg.result);
      else reject(new Error(msg.why));
      void w.terminate();
    });
    w.once('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`log scan worker exited with status ${code}`));
      settled = true;
    });
  });

/** Runs a part on the calling thread (tests; the first part). */
export const inlineRunner: PartRunner = async (job) => scanPart(job);

export interface MergedScan {
  lines: number;
  bytes: number;
  truncated: number;
}

/**
 * Scan `fd` (a plain file of `size` bytes) in `ranges.length` parts and add the events to `collapser` in file order.
 * The first part runs on this thread, the others through `runner`. Returns null when a part failed or could not keep
 * all its distinct events; the caller then scans the file on one thread (nothing has been added to the collapser).
 */
export async function scanInParts(
  job: Omit<PartJob, 'start' | 'end'>,
  ranges: [number, number][],
  collapser: EventCollapser,
  runner: PartRunner = workerRunner,
): Promise<MergedScan | null> {
  const jobs = ranges.map(([start, end]) => ({ ...job, start, end }));
  const others = jobs.slice(1).map((j) => runner(j).then((r) => r, () => null));
  let first: PartResult | null;
  try {
    first = jobs.length > 0 ? scanPart(jobs[0] as PartJob) : null;
  } catch {
    first = null;
  }
  const results = [first, ...(await Promise.all(others))];
  if (results.some((r) => r === null || r.dropped > 0)) return null;
  const merged: MergedScan = { lines: 0, bytes: 0, truncated: 0 };
  for (const r of results as PartResult[]) {
    r.events.forEach((event, i) => {
      event.source = { ...event.source, line: event.source.line + merged.lines };
      collapser.add({ event, form: r.forms[i] as string });
    });
    merged.lines += r.lines;
    merged.bytes += r.bytes;
    merged.truncated += r.truncated;
  }
  return merged;
}

/**
 * Scan a large plain file in parts when this host has the cores for it. Returns null when the file is not such a
 * file (small, gzip, one core, no worker file) or the parallel scan failed: the caller scans it on one thread.
 */
export async function scanLargeFile(
  f: LogFile,
  job: Omit<PartJob, 'start' | 'end' | 'fd' | 'size' | 'file'>,
  collapser: EventCollapser,
  opts: ParallelOptions = {},
  runner: PartRunner = workerRunner,
): Promise<{ scanned: ScannedFile; unseen?: UnseenNote } | null> {
  if (f.gzip) return null;
  const opened = openRegularFile(f.hostPath);
  if (!opened.ok) return null;
  try {
    const parts = partCount(opened.size, opts, runner !== workerRunner || fs.existsSync(WORKER_FILE));
    if (parts <= 1 || isGzip(opened.fd)) return null;
    const merged = await scanInParts({ ...job, fd: opened.fd, size: opened.size, file: f.file }, splitRanges(opened.size, parts), collapser, runner);
    if (!merged) return null;
    const out: { scanned: ScannedFile; unseen?: UnseenNote } = { scanned: { file: f.file, lines: merged.lines, bytes: merged.bytes } };
    if (merged.truncated > 0) {
      out.unseen = { what: f.file, why: `${merged.truncated} line(s) longer than ${job.scanner?.maxLine ?? 65536} bytes were read only up to that length` };
    }
    return out;
  } finally {
    fs.closeSync(opened.fd);
  }
}

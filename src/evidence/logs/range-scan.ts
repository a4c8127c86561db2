import * as fs from 'node:fs';
import type { LogEvent } from '../../model/index.js';
import { EventCollapser } from './collapse.js';
import { LineScanner, type LineScannerOptions } from './line-scanner.js';
import { recogniseRaw, type RawLogEvent } from './recognise.js';

/**
 * One part of a plain file scanned on its own (by a worker thread, see parallel.ts): the lines that *start* in
 * `[start, end)`. A part other than the first begins after the first newline at or after `start - 1`; every part
 * finishes the line that crosses its end. So each line belongs to exactly one part, and the parts' line counts add
 * up to the file's.
 */
export interface PartJob {
  fd: number;
  start: number;
  end: number;
  /** The file's size when it was opened; bytes appended later are not read (as in a single scan of that size). */
  size: number;
  needles: string[];
  /** The file name events report. */
  file: string;
  sinceMs?: number | undefined;
  maxEvents: number;
  scanner?: LineScannerOptions | undefined;
}

export interface PartResult {
  /** Collapsed events of the part, in the order of their first occurrence; lines are local to the part (1-based). */
  events: LogEvent[];
  /** The form of each event (part of the collapse key). */
  forms: string[];
  /** Distinct events the part's collapser could not keep: then the merge would not be exact. */
  dropped: number;
  lines: number;
  bytes: number;
  truncated: number;
}

/** Whether a recognised event is kept under `since` (only timestamps with a year can be compared). */
export function keepSince(raw: RawLogEvent, sinceMs: number | undefined): boolean {
  if (sinceMs === undefined || raw.event.time === undefined) return true;
  // Only timestamps with a year can be compared; BSD syslog times ("Aug 30 14:55:52") are kept.
  if (!/^\d{4}-/.test(raw.event.time)) return true;
  const t = Date.parse(raw.event.time);
  return Number.isNaN(t) || t >= sinceMs;
}

/** Scan one part: recognise and collapse its events. Throws on read errors. */
export function scanPart(job: PartJob): PartResult {
  const collapser = new EventCollapser(job.maxEvents);
  const scanner = new LineScanner(job.needles, (text, line) => {
    const raw = recogniseRaw(text, { file: job.file, line });
    if (raw && keepSince(raw, job.sinceMs)) collapser.add(raw);
  }, job.scanner);
  scanRange(job.fd, job.start, job.end, job.size, scanner);
  return { events: collapser.events, forms: collapser.forms, dropped: collapser.dropped, lines: scanner.lines, bytes: scanner.bytes, truncated: scanner.truncated };
}

/** Feed `scanner` the lines of the file that start in [start, end), with positional reads into its block. */
export function scanRange(fd: number, start: number, end: number, size: number, scanner: LineScanner): void {
  let pos = start;
  if (start > 0) {
    // The first line that starts in the part: after the first newline at or after start - 1.
    pos = start - 1;
    for (;;) {
      const scratch = scanner.space();
      const n = pos < size ? fs.readSync(fd, scratch, 0, Math.min(scratch.length, size - pos), pos) : 0;
      if (n === 0) {
        pos = size;
        break;
      }
      const nl = scratch.subarray(0, n).indexOf(10);
      if (nl !== -1) {
        pos += nl + 1;
        break;
      }
      pos += n;
    }
  }
  if (pos >= end) return; // no line starts in this part (a long line crosses all of it)
  // Stream up to and including the first newline at or after end - 1 (the line crossing the end), or the file's end.
  while (pos < size) {
    const space = scanner.space();
    const n = fs.readSync(fd, space, 0, Math.min(space.length, size - pos), pos);
    if (n === 0) break;
    let take = n;
    let done = false;
    if (end < size && pos + n > end - 1) {
      const nl = space.subarray(0, n).indexOf(10, Math.max(0, end - 1 - pos));
      if (nl !== -1) {
        take = nl + 1;
        done = true;
      }
    }
    scanner.commit(take);
    pos += take;
    if (done) break;
  }
  scanner.end();
}

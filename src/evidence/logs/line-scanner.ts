import { createNeedleScanner, type NeedleMatch, type NeedleScanner } from './needle-scan.js';

/** Lines longer than this are cut here for recognition and counted in `truncated`. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface LineScannerOptions {
  maxLine?: number;
  /** Force the plain JavaScript scanner (tests compare both). */
  js?: boolean;
  /** Use a smaller block than the scanner's capacity (tests use tiny ones to split lines across chunks). */
  blockSize?: number;
}

/**
 * Turns a byte stream into the few lines that hold a needle, with their 1-based line numbers, in constant memory:
 * bytes go into one fixed block; complete lines are scanned in place; the unfinished last line moves to the block's
 * start for the next read. A line longer than the block is recognised from its first `maxLine` bytes and the rest is
 * skipped up to its newline.
 */
export class LineScanner {
  /** Completed lines so far. */
  lines = 0;
  bytes = 0;
  /** Lines longer than maxLine. */
  truncated = 0;
  private fill = 0;
  private skipping = false;
  private readonly scanner: NeedleScanner;
  private readonly maxLine: number;
  private readonly size: number;
  private readonly m: NeedleMatch = { pos: 0, needle: 0, nlBefore: 0 };

  constructor(needles: string[], private readonly onLine: (text: string, line: number) => void, opts: LineScannerOptions = {}) {
    // Tiny limits (tests) use the JavaScript scanner.
    const js = (opts.js ?? false) || (opts.maxLine !== undefined && opts.maxLine < 16);
    this.scanner = createNeedleScanner(needles.map((n) => Buffer.from(n, 'utf8')), { js });
    this.size = Math.min(opts.blockSize ?? this.scanner.capacity, this.scanner.capacity);
    this.maxLine = Math.min(opts.maxLine ?? MAX_LINE_BYTES, this.size - 1);
  }

  /** Where to read the next bytes into (for files read straight into the block). */
  space(): Buffer {
    return this.scanner.block.subarray(this.fill, this.size);
  }

  /** `n` bytes were written into {@link space}. */
  commit(n: number): void {
    this.fill += n;
    this.bytes += n;
    this.process();
  }

  /** Feed a chunk from a stream (gunzip, a child's stdout). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      const space = this.space();
      const n = chunk.copy(space, 0, at, Math.min(chunk.length, at + space.length));
      at += n;
      this.commit(n);
    }
  }

  /** The stream ended: the last line may lack its newline. */
  end(): void {
    if (this.skipping) {
      this.skipping = false;
      this.fill = 0;
      return;
    }
    if (this.fill > 0) {
      this.scanRegion(this.fill);
      this.lines += 1;
      if (this.fill > this.maxLine) this.truncated++;
      this.fill = 0;
    }
  }

  private process(): void {
    const block = this.scanner.block;
    for (;;) {
      if (this.skipping) {
        const nl = block.subarray(0, this.fill).indexOf(10);
        if (nl === -1) {
          this.fill = 0;
          return;
        }
        block.copyWithin(0, nl + 1, this.fill);
        this.fill -= nl + 1;
        this.skipping = false;
      }
      const last = this.fill === 0 ? -1 : block.lastIndexOf(10, this.fill - 1);
      if (last >= 0) {
        this.scanRegion(last + 1);
        this.lines += this.scanner.newlines;
        this.truncated += this.scanner.longLines;
        block.copyWithin(0, last + 1, this.fill);
        this.fill -= last + 1;
      }
      if (this.fill < this.size) return;
      // A full block without a newline: one line longer than the block.
      this.lines += 1;
      this.truncated += 1;
      this.emit(0, this.maxLine, this.lines);
      this.fill = 0;
      this.skipping = true;
      return;
    }
  }

  private scanRegion(len: number): void {
    const block = this.scanner.block;
    const n = this.scanner.scan(len, this.maxLine);
    let lineEnd = -1;
    for (let i = 0; i < n; i++) {
      const m = this.scanner.match(i, this.m);
      if (m.pos < lineEnd) continue; // another needle on a line already offered
      const start = m.pos === 0 ? 0 : block.lastIndexOf(10, m.pos - 1) + 1;
      let end = block.indexOf(10, m.pos);
      if (end === -1 || end > len) end = len;
      lineEnd = end;
      if (m.pos - start >= this.maxLine) continue; // the needle is in the cut-off part of a long line
      this.emit(start, Math.min(end, start + this.maxLine), this.lines + m.nlBefore + 1);
    }
  }

  private emit(start: number, end: number, line: number): void {
    this.onLine(decodeLine(this.scanner.block, start, end), line);
  }
}

/** UTF-8 when the bytes are valid UTF-8, else latin1 (one character per byte: old logs, binary junk). */
export function decodeLine(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === 13) end--;
  const text = buf.toString('utf8', start, end);
  if (!text.includes('\uFFFD')) return text;
  const again = Buffer.from(text, 'utf8');
  return again.length === end - start && again.equals(buf.subarray(start, end)) ? text : buf.toString('latin1', start, end);
}

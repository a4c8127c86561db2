import type { Location } from '../../model/location.js';
import type { DirectiveExtent } from '../../model/planned.js';

/** A file's text with offset → line/column mapping, for locations that point at the exact option. */
export class SourceText {
  private readonly lineStarts: number[];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of a text offset (clamped into the file). */
  position(offset: number): { line: number; column: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - (this.lineStarts[lo] as number) + 1 };
  }

  /** End offset (exclusive, before any `\r\n`/`\n`) of the physical line holding `offset`. */
  lineEnd(offset: number): number {
    let e = this.text.indexOf('\n', offset);
    if (e < 0) e = this.text.length;
    if (e > offset && this.text[e - 1] === '\r') e--;
    return e;
  }

  /** Location of [start, end); endColumn only when the span stays on one line. */
  loc(start: number, end?: number): Location {
    const p = this.position(start);
    const l: Location = { file: this.file, line: p.line, column: p.column };
    if (end !== undefined && end > start) {
      const q = this.position(end);
      if (q.line === p.line) l.endColumn = q.column;
      else l.endColumn = this.position(this.lineEnd(start)).column;
    }
    return l;
  }

  /** Physical lines [startLine, endLine] (1-based, inclusive), without their line ends. */
  lines(startLine: number, endLine: number): string[] {
    const out: string[] = [];
    for (let l = startLine; l <= endLine; l++) {
      const s = this.lineStarts[l - 1];
      if (s === undefined) break;
      out.push(this.text.slice(s, this.lineEnd(s)));
    }
    return out;
  }

  /** The directive spanning [start, end) as whole lines, and its form switched off with `commentPrefix`. */
  directive(start: number, end: number, commentPrefix: string): DirectiveExtent {
    const startLine = this.position(start).line;
    const endLine = this.position(Math.max(start, end - 1)).line;
    const lines = this.lines(startLine, endLine);
    return { file: this.file, startLine, endLine, lines, disabled: lines.map((l) => commentPrefix + l) };
  }

  /** The whole file, line 0. */
  fileLoc(): Location {
    return { file: this.file, line: 0 };
  }
}

import { SourceText } from '../sendmail/source-text.js';

/**
 * One logical line of a Postfix config file, as util/readlline.c `readllines()` builds it: a line that starts
 * with non-whitespace begins a logical line, a line that starts with whitespace continues it, and blank lines and
 * lines whose first non-whitespace character is `#` are skipped (they do not end a logical line).
 */
export interface LogicalLine {
  /** The logical line's text: the pieces joined by one space, as readllines does. */
  text: string;
  /** For each character of `text`, its offset in the file (joins map to the next piece's first character). */
  offsets: number[];
  /** Offset of the first character of the first physical line. */
  start: number;
  /** Offset just past the last content character of the last physical line. */
  end: number;
}

export function logicalLines(src: SourceText): LogicalLine[] {
  const out: LogicalLine[] = [];
  const text = src.text;
  let cur: LogicalLine | undefined;
  let pos = 0;
  while (pos <= text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    let lineEnd = nl;
    if (lineEnd > pos && text[lineEnd - 1] === '\r') lineEnd--;
    const line = text.slice(pos, lineEnd);
    const firstNonWs = line.search(/[^ \t\r\f\v]/);
    if (firstNonWs >= 0 && line[firstNonWs] !== '#') {
      if (firstNonWs === 0 || cur === undefined) {
        // A continuation line with nothing to continue starts a line of its own (readllines does the same).
        cur = { text: '', offsets: [], start: pos, end: pos };
        out.push(cur);
      } else {
        cur.text += ' ';
        cur.offsets.push(pos + firstNonWs);
      }
      const trimmedEnd = line.replace(/[ \t\r\f\v]+$/, '').length;
      for (let i = firstNonWs; i < trimmedEnd; i++) {
        cur.text += line[i];
        cur.offsets.push(pos + i);
      }
      cur.end = pos + trimmedEnd;
    }
    if (nl >= text.length) break;
    pos = nl + 1;
  }
  return out;
}

/** Offset in the file of `text` index `i` of a logical line (past the end maps to the line's end). */
export function fileOffset(l: LogicalLine, i: number): number {
  return i < l.offsets.length ? (l.offsets[i] as number) : l.end;
}

import type { TextEdit } from '../model/finding.js';
import { splitLines } from './apply.js';

const CONTEXT = 3;

/** A unified diff (`diff -u` format) for line edits of one file. */
export function unifiedDiff(file: string, original: string, edits: TextEdit[]): string {
  const { lines } = splitLines(original);
  const sorted = [...edits].filter((e) => e.file === file).sort((a, b) => a.startLine - b.startLine);
  if (sorted.length === 0) return '';
  const out = [`--- a${file}`, `+++ b${file}`];
  // Group edits whose context windows touch into one hunk.
  const groups: TextEdit[][] = [];
  for (const e of sorted) {
    const last = groups[groups.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev && e.startLine - prev.endLine <= 2 * CONTEXT + 1) last.push(e);
    else groups.push([e]);
  }
  let shift = 0;
  for (const g of groups) {
    const first = g[0] as TextEdit;
    const lastEdit = g[g.length - 1] as TextEdit;
    const from = Math.max(1, first.startLine - CONTEXT);
    const to = Math.min(lines.length, lastEdit.endLine + CONTEXT);
    const body: string[] = [];
    let oldCount = 0;
    let newCount = 0;
    let line = from;
    for (const e of g) {
      for (; line < e.startLine; line++, oldCount++, newCount++) body.push(' ' + (lines[line - 1] ?? ''));
      for (; line <= e.endLine; line++, oldCount++) body.push('-' + (lines[line - 1] ?? ''));
      for (const n of e.newLines) {
        body.push('+' + n);
        newCount++;
      }
    }
    for (; line <= to; line++, oldCount++, newCount++) body.push(' ' + (lines[line - 1] ?? ''));
    const newStart = from + shift;
    out.push(`@@ -${from},${oldCount} +${newStart},${newCount} @@`, ...body);
    shift += newCount - oldCount;
  }
  return out.join('\n') + '\n';
}

import type { TextEdit } from '../model/finding.js';

/** Split text into lines, remembering whether it ended with a newline. */
export function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  const finalNewline = text.endsWith('\n');
  const body = finalNewline ? text.slice(0, -1) : text;
  return { lines: body.length === 0 && finalNewline ? [''] : body.split('\n'), finalNewline };
}

/** Apply non-overlapping line edits of one file; edits are applied bottom-up so line numbers stay valid. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const { lines, finalNewline } = splitLines(text);
  const sorted = [...edits].sort((a, b) => b.startLine - a.startLine);
  for (const e of sorted) lines.splice(e.startLine - 1, e.endLine - e.startLine + 1, ...e.newLines);
  return lines.join('\n') + (finalNewline ? '\n' : '');
}

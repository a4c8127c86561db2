/**
 * Text from configs, logs and process tables may carry control characters, ANSI escapes or bidi overrides
 * meant to fool a terminal. Everything bindcheck prints from such sources goes through here.
 */
// C0 and C1 controls (tab kept), DEL, bidi embeddings/overrides/isolates, zero-width and line/para separators.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu;

export function escapeForTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0) ?? 0;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

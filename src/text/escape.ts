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

// What JSON.stringify leaves raw but a terminal acts on: DEL, C1 controls (U+009B is CSI), bidi controls,
// zero-width characters, line/paragraph separators, BOM. C0 controls are already escaped by JSON.stringify.
const JSON_UNSAFE = /[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/**
 * JSON text with every terminal-active character as a \uXXXX escape: the same document to a parser, but `cat`
 * of a report cannot clear the screen, forge a hyperlink or reorder text with a bidi override.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

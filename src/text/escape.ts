/**
 * Text from configs, logs and process tables may carry control characters, ANSI escapes or bidi overrides
 * meant to fool a terminal. Everything bindcheck prints from such sources goes through here.
 */
// C0 and C1 controls (tab kept), DEL, soft hyphen, Arabic letter mark, zero-width characters, LRM/RLM,
// line/paragraph separators, bidi embeddings/overrides/isolates, word joiners, BOM, interlinear annotations.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/gu;
const UNSAFE_OR_BACKSLASH = new RegExp(`\\\\|${UNSAFE.source}`, 'gu');

function escapeChar(c: string): string {
  if (c === '\\') return '\\\\';
  const cp = c.codePointAt(0) ?? 0;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** Config and log text: unsafe characters escaped; backslashes kept, so a code frame or diff reads as the file does. */
export function escapeForTerminal(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/**
 * Text wholly chosen by another process (comm, argv in the socket table): also `\` as `\\`, so an escape in the
 * output is never ambiguous with text the process wrote.
 */
export function escapeProcessText(s: string): string {
  return s.replace(UNSAFE_OR_BACKSLASH, escapeChar);
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

/** One argument of a config line, unquoted, with its 1-based column in the line. */
export interface SshdArg {
  text: string;
  column: number;
}

export type SshdLine =
  | { kind: 'directive'; line: number; keyword: string; column: number; args: SshdArg[]; text: string }
  | { kind: 'error'; line: number; column: number; message: string; keyword?: string; text: string };

const WHITESPACE = ' \t\r\n';

/**
 * Split sshd_config text into directives as servconf.c process_server_config_line_depth() does (OpenSSH 9.2):
 * trailing whitespace and form feeds stripped; the keyword is the first token, ended by whitespace, a quote or a
 * single `=` (misc.c strdelim: `Port=22`, `Port = 22`); a keyword starting with `#` makes the line a comment; the
 * rest is split by misc.c argv_split() — blanks separate, `"…"` and `'…'` group, `\\` escapes a quote, a backslash
 * or (unquoted) a space, and a word starting with `#` ends the line. Never throws.
 */
export function splitSshdConfig(text: string): SshdLine[] {
  const out: SshdLine[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const r = splitLine(lines[n] as string, n + 1);
    if (r) out.push(r);
  }
  return out;
}

export function splitLine(raw: string, lineNo: number): SshdLine | undefined {
  let end = raw.length;
  // The loop in servconf.c stops at index 1: a line that is one blank stays (and is then skipped as empty).
  while (end > 1 && (WHITESPACE + '\f').includes(raw[end - 1] as string)) end--;
  const line = raw.slice(0, end);
  if (line.length === 0) return undefined;
  let pos = 0;
  let kw = strdelim(line, pos);
  if (kw === null) return undefined;
  if (kw.token === '') kw = strdelim(line, kw.next ?? line.length);
  if (kw === null || kw.token === '' || kw.token.startsWith('#')) return undefined;
  pos = kw.next ?? line.length;
  const keyword = kw.token;
  const column = kw.start + 1;
  if (kw.next === null || pos >= line.length) {
    return { kind: 'error', line: lineNo, column, keyword, message: `no argument after keyword "${keyword}"`, text: raw };
  }
  const args = argvSplit(line, pos);
  if (args === null) return { kind: 'error', line: lineNo, column, keyword, message: 'invalid quotes', text: raw };
  return { kind: 'directive', line: lineNo, keyword, column, args, text: raw };
}

/** misc.c strdelim_internal(s, split_equals=1) from `from`: the token, where it starts, and where the rest begins. */
function strdelim(s: string, from: number): { token: string; start: number; next: number | null } | null {
  if (from > s.length) return null;
  let i = from;
  while (i < s.length && !(WHITESPACE + '"=').includes(s[i] as string)) i++;
  if (i >= s.length) return { token: s.slice(from), start: from, next: null };
  if (s[i] === '"') {
    // A quoted keyword: the text up to the next quote after the opening one.
    const close = s.indexOf('"', i + 1);
    if (close < 0) return null;
    const token = s.slice(from, i) + s.slice(i + 1, close);
    return { token, start: from, next: skipBlanks(s, close + 1) };
  }
  const wasEquals = s[i] === '=';
  const token = s.slice(from, i);
  let next = skipBlanks(s, i + 1);
  if (!wasEquals && s[next] === '=') next = skipBlanks(s, next + 1);
  return { token, start: from, next };
}

function skipBlanks(s: string, i: number): number {
  while (i < s.length && WHITESPACE.includes(s[i] as string)) i++;
  return i;
}

/** misc.c argv_split(s, …, terminate_on_comment=1); null for an unterminated quote. */
function argvSplit(s: string, from: number): SshdArg[] | null {
  const out: SshdArg[] = [];
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    const start = i;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i] as string;
      const nx = s[i + 1];
      if (ch === '\\') {
        if (nx === "'" || nx === '"' || nx === '\\' || (quote === '' && nx === ' ')) {
          i++;
          arg += nx;
        } else arg += ch;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else arg += ch;
    }
    if (i >= s.length && quote !== '') return null;
    out.push({ text: arg, column: start + 1 });
  }
  return out;
}

/**
 * haproxy's line parser (src/tools.c parse_line(), 2.6) as readcfgfile() calls it: one line is one statement;
 * words are split on unquoted, unescaped white space; `#` outside quotes starts a comment; `"…"` is weak quoting
 * (environment variables `$NAME` / `${NAME}` / `${NAME-default}` are expanded inside it), `'…'` strong quoting;
 * a backslash escapes space, `\`, `#`, quotes, `$` (inside double quotes), and gives `\t \n \r \xNN`.
 * Environment variables are not expanded here: bindcheck cannot see the daemon's environment, so each word keeps
 * the names it refers to and the reader decides.
 */

export interface HaproxyWord {
  /** The word after quote and escape removal, with each `$VAR` reference left as written. */
  text: string;
  /** 1-based column where the word starts. */
  column: number;
  /** Environment variables the word refers to inside double quotes (haproxy expands them while parsing). */
  envRefs: string[];
}

export interface HaproxyLine {
  line: number;
  words: HaproxyWord[];
  /** The raw line text, for code frames and fixes. */
  raw: string;
  /** parse_line()'s error for this line (unmatched quote, bad \x escape, bad variable name). */
  error?: { column: number; message: string };
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Split one config line the way parse_line() does (PARSE_OPT_DEFAULT: quotes, backslash, `#`, env). */
export function lexHaproxyLine(raw: string, line: number): HaproxyLine {
  const words: HaproxyWord[] = [];
  let cur: HaproxyWord | undefined;
  let squote = false;
  let dquote = false;
  let quoteAt = 0;
  const start = (i: number): HaproxyWord => {
    if (!cur) cur = { text: '', column: i + 1, envRefs: [] };
    return cur;
  };
  const end = (): void => {
    if (cur) words.push(cur);
    cur = undefined;
  };
  let i = 0;
  // readcfgfile() skips leading blanks; parse_line() ends at NUL, LF or CR.
  while (i < raw.length) {
    const c = raw[i] as string;
    if (c === '\0' || c === '\n' || c === '\r') break;
    if (c === '#' && !squote && !dquote) break;
    if (c === '"' && !squote) {
      start(i);
      dquote = !dquote;
      quoteAt = i;
      i++;
      continue;
    }
    if (c === "'" && !dquote) {
      start(i);
      squote = !squote;
      quoteAt = i;
      i++;
      continue;
    }
    if (c === '\\' && !squote) {
      const w = start(i);
      const n = raw[i + 1];
      if (n === ' ' || n === '\\' || n === '#' || n === "'" || n === '"') {
        w.text += n;
        i += 2;
      } else if (n === 't' || n === 'n' || n === 'r') {
        w.text += n === 't' ? '\t' : n === 'n' ? '\n' : '\r';
        i += 2;
      } else if (n === '$' && dquote) {
        // An escaped dollar is a literal dollar: mark it so the env scan below does not take it.
        w.text += '\u0000$';
        i += 2;
      } else if (n === 'x') {
        if (!isHex(raw[i + 2]) || !isHex(raw[i + 3])) {
          return { line, words, raw, error: { column: i + 1, message: `truncated or invalid hexadecimal sequence at position ${i + 1}` } };
        }
        w.text += String.fromCharCode(parseInt(raw.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        w.text += '\\';
        i++;
      }
      continue;
    }
    if (isSpace(c) && !squote && !dquote) {
      end();
      while (i < raw.length && isSpace(raw[i] as string)) i++;
      continue;
    }
    if (c === '$' && dquote) {
      const w = start(i);
      const m = /^\$(\{)?([A-Za-z_.][A-Za-z0-9_]*)/.exec(raw.slice(i));
      if (!m) return { line, words, raw, error: { column: i + 2, message: `forbidden first char in environment variable name at position ${i + 2}` } };
      const name = m[2] as string;
      let len = m[0].length;
      let written = `\${${name}}`;
      if (m[1]) {
        const rest = raw.slice(i + len);
        if (rest.startsWith('-')) {
          const close = rest.indexOf('}');
          if (close < 0) return { line, words, raw, error: { column: i + 1, message: `unmatched brace in environment variable name at position ${i + 1}` } };
          written = `\${${name}${rest.slice(0, close)}}`;
          len += close + 1;
        } else if (rest.startsWith('}')) len += 1;
        else if (rest.startsWith('[*]}')) {
          written = `\${${name}[*]}`;
          len += 4;
        } else return { line, words, raw, error: { column: i + 1, message: `unmatched brace in environment variable name at position ${i + 1}` } };
      }
      if (!w.envRefs.includes(name)) w.envRefs.push(name);
      w.text += written;
      i += len;
      continue;
    }
    start(i).text += c;
    i++;
  }
  if (squote || dquote) return { line, words, raw, error: { column: quoteAt + 1, message: `unmatched quote at position ${quoteAt + 1}` } };
  end();
  for (const w of words) w.text = w.text.replace(/\u0000\$/g, '$');
  return { line, words, raw };
}

/** Every line of a config file; lines without words are dropped. */
export function lexHaproxyConfig(text: string): HaproxyLine[] {
  const out: HaproxyLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, k) => {
    const l = lexHaproxyLine(raw, k + 1);
    if (l.words.length > 0 || l.error) out.push(l);
  });
  return out;
}

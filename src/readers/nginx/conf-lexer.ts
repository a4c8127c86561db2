/**
 * nginx.conf as ngx_conf_read_token() (src/core/ngx_conf_file.c, nginx 1.22.1) splits it: words separated by
 * blanks, `;` ends a directive, `{` opens its block, `}` closes it; `#` starts a comment only where a word could
 * start; `"…"` and `'…'` quote at the start of a word, and a backslash escapes the next character anywhere; `${`
 * inside a word is a variable, not a block. Every directive keeps its file, line and column (as crossplane does).
 */

export interface ConfToken {
  /** The word after unquoting (`\"`, `\'`, `\\`, `\t`, `\r`, `\n` as ngx_conf_read_token() copies them). */
  text: string;
  /** 1-based line and column of the word's first character (the quote, for a quoted word). */
  line: number;
  column: number;
  quoted: boolean;
}

export interface ConfDirective {
  name: string;
  args: ConfToken[];
  line: number;
  column: number;
  /** The line of the `;` or `{` that ended the directive. */
  endLine: number;
  /** 1-based column just past the `;` (or `{`). */
  endColumn: number;
  /** Set for a block directive (`server { … }`): the directives inside, in order. */
  block?: ConfDirective[];
  /** The line of the block's closing `}`. */
  blockEndLine?: number;
}

export interface ConfSyntaxError {
  message: string;
  line: number;
  column: number;
}

export interface LexResult {
  directives: ConfDirective[];
  /** The first error, as `nginx -t` reports it (nginx stops at the first). Directives before it are kept. */
  error?: ConfSyntaxError;
}

/** Unquote as ngx_conf_read_token() does when it copies a word. */
function unescape(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[i + 1] as string;
      if (n === '"' || n === "'" || n === '\\') {
        out += n;
        i++;
        continue;
      }
      if (n === 't') {
        out += '\t';
        i++;
        continue;
      }
      if (n === 'r') {
        out += '\r';
        i++;
        continue;
      }
      if (n === 'n') {
        out += '\n';
        i++;
        continue;
      }
    }
    out += c;
  }
  return out;
}

interface Frame {
  list: ConfDirective[];
  owner?: ConfDirective;
}

const SPACE = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const SEMI = 59;
const LBRACE = 123;
const RBRACE = 125;
const HASH = 35;
const DQ = 34;
const SQ = 39;
const BSL = 92;
const DOLLAR = 36;

const isBlank = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR;

/** Parse one file's text. Never throws. */
export function lexNginxConf(text: string): LexResult {
  const root: ConfDirective[] = [];
  const stack: Frame[] = [{ list: root }];
  let words: ConfToken[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  const col = (at: number) => at - lineStart + 1;
  const fail = (message: string, l: number, c: number): LexResult => ({ directives: root, error: { message, line: l, column: c } });
  /** Skip to `to`, counting the newlines passed (only quoted words and escapes can hold them). */
  const skipTo = (to: number) => {
    for (let k = i; k < to; k++) {
      if (text.charCodeAt(k) === LF) {
        line++;
        lineStart = k + 1;
      }
    }
    i = to;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === LF) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === SPACE || c === TAB || c === CR) {
      i++;
      continue;
    }
    if (c === HASH) {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === SEMI || c === LBRACE) {
      const l = line;
      const cc = col(i);
      i++;
      if (words.length === 0) return fail(`unexpected "${c === SEMI ? ';' : '{'}"`, l, cc);
      const first = words[0] as ConfToken;
      const d: ConfDirective = { name: first.text, args: words.slice(1), line: first.line, column: first.column, endLine: l, endColumn: cc + 1 };
      words = [];
      (stack[stack.length - 1] as Frame).list.push(d);
      if (c === LBRACE) {
        d.block = [];
        stack.push({ list: d.block, owner: d });
      }
      continue;
    }
    if (c === RBRACE) {
      const l = line;
      const cc = col(i);
      i++;
      if (words.length > 0 || stack.length === 1) return fail('unexpected "}"', l, cc);
      const fr = stack.pop() as Frame;
      if (fr.owner) fr.owner.blockEndLine = l;
      continue;
    }
    const wl = line;
    const wc = col(i);
    if (c === DQ || c === SQ) {
      let k = i + 1;
      let closed = -1;
      let escaped = false;
      while (k < n) {
        const ch = text.charCodeAt(k);
        if (ch === BSL && k + 1 < n) {
          escaped = true;
          k += 2;
          continue;
        }
        if (ch === c) {
          closed = k;
          break;
        }
        k++;
      }
      if (closed < 0) {
        skipTo(n);
        return fail('unexpected end of file, expecting ";" or "}"', line, col(n));
      }
      const raw = text.slice(i + 1, closed);
      skipTo(closed + 1);
      // ngx_conf_read_token(): after a closing quote only a blank, `;`, `{` or `)` may follow (need_space).
      if (i < n) {
        const after = text.charCodeAt(i);
        if (!isBlank(after) && after !== SEMI && after !== LBRACE && after !== 41) return fail(`unexpected "${text[i]}"`, line, col(i));
      }
      words.push({ text: escaped ? unescape(raw) : raw, line: wl, column: wc, quoted: true });
      continue;
    }
    const start = i;
    // `${name}`: the braces of a variable belong to the word (ngx_conf_read_token's `variable` state).
    let inVariable = false;
    let escaped = false;
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === BSL && i + 1 < n) {
        escaped = true;
        if (text.charCodeAt(i + 1) === LF) {
          line++;
          lineStart = i + 2;
        }
        i += 2;
        continue;
      }
      if (ch === LBRACE && i > start && text.charCodeAt(i - 1) === DOLLAR) {
        inVariable = true;
        i++;
        continue;
      }
      if (ch === RBRACE && inVariable) {
        inVariable = false;
        i++;
        continue;
      }
      if (isBlank(ch) || ch === SEMI || ch === LBRACE || ch === RBRACE) break;
      i++;
    }
    const raw = text.slice(start, i);
    words.push({ text: escaped ? unescape(raw) : raw, line: wl, column: wc, quoted: false });
  }
  if (words.length > 0) return fail('unexpected end of file, expecting ";" or "}"', line, col(n));
  if (stack.length > 1) return fail('unexpected end of file, expecting "}"', line, col(n));
  return { directives: root };
}

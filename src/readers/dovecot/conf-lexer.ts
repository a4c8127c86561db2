/**
 * dovecot.conf lines as src/config/config-parser.c config_parse_line() splits them: leading blanks skipped,
 * `#` starts a comment outside quotes, trailing blanks dropped, a trailing `\` joins the next line, then
 *   a) `key = value` (value `<file`, `$var …`, or quoted "…"/'…' with backslash escapes),
 *   b) `section_type [name] {`, c) `}`, and `!include` / `!include_try PATH`.
 */

export type ConfStatementKind =
  | 'value'
  | 'file-value'
  | 'variable-value'
  | 'section-begin'
  | 'section-end'
  | 'include'
  | 'include-try'
  | 'error';

export interface ConfStatement {
  kind: ConfStatementKind;
  key: string;
  /** Value (unquoted), section name, include path, or the error text for `error`. */
  value: string;
  /** Physical lines the statement spans (continuations), 1-based inclusive. */
  startLine: number;
  endLine: number;
  /** 1-based column of the key on startLine. */
  column: number;
}

const isWhite = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** dovecot's str_unescape(): a backslash keeps the next character as it is. */
function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) i++;
    out += s[i];
  }
  return out;
}

/** Split a file's text into statements. Never throws. */
export function lexDovecotConf(text: string): ConfStatement[] {
  const out: ConfStatement[] = [];
  const physical = text.split('\n');
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  let full = '';
  let fullStart = 0;
  let fullColumn = 1;
  physical.forEach((raw, idx) => {
    const lineNo = idx + 1;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let lead = 0;
    while (isWhite(line[lead])) lead++;
    line = line.slice(lead);
    if (line === '' || line.startsWith('#')) return;
    // Strip the comment (config-parser.c: "pretty kludgy way really").
    for (let p = 0; p < line.length; p++) {
      const c = line[p];
      if (c === '"' || c === "'") {
        p++;
        while (p < line.length && line[p] !== c) {
          if (line[p] === '\\' && p + 1 < line.length) p++;
          p++;
        }
        if (p >= line.length) break;
      } else if (c === '#') {
        line = line.slice(0, p);
        break;
      }
    }
    line = line.replace(/[ \t]+$/, '');
    if (line.endsWith('\\')) {
      const part = line.slice(0, -1).replace(/[ \t]+$/, '');
      if (full === '') {
        fullStart = lineNo;
        fullColumn = lead + 1;
      }
      if (part !== '') full += part + ' ';
      else if (full === '') fullStart = 0;
      return;
    }
    let startLine = lineNo;
    let column = lead + 1;
    if (full !== '') {
      line = full + line;
      startLine = fullStart || lineNo;
      column = fullColumn;
      full = '';
      fullStart = 0;
    }
    out.push(parseLogical(line, startLine, lineNo, column));
  });
  if (full !== '') {
    // A continuation at end of file: dovecot drops it silently (the stream ends with the line unfinished).
    out.push({ kind: 'error', key: '', value: 'line continues (\\) past the end of the file', startLine: fullStart, endLine: physical.length, column: fullColumn });
  }
  return out;
}

function parseLogical(line: string, startLine: number, endLine: number, column: number): ConfStatement {
  const mk = (kind: ConfStatementKind, key: string, value: string): ConfStatement => ({ kind, key, value, startLine, endLine, column });
  let i = 0;
  while (i < line.length && !isWhite(line[i]) && line[i] !== '=') i++;
  const key = line.slice(0, i);
  let j = i;
  while (isWhite(line[j])) j++;
  const rest = line.slice(j);
  if (key === '!include') return mk('include', key, rest);
  if (key === '!include_try') return mk('include-try', key, rest);
  if (rest.startsWith('=')) {
    let v = rest.slice(1);
    let k = 0;
    while (isWhite(v[k])) k++;
    v = v.slice(k);
    if (v.startsWith('<')) {
      let s = 1;
      while (isWhite(v[s])) s++;
      return mk('file-value', key, v.slice(s));
    }
    if (!v.startsWith("'") && !v.startsWith('"') && v.includes('$')) return mk('variable-value', key, v);
    if (v.length > 0 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
      v = v.length >= 2 ? unescape(v.slice(1, -1)) : '';
    }
    return mk('value', key, v);
  }
  if (key === '}' && rest === '') return mk('section-end', key, '');
  if (key === '') return mk('error', key, 'Expecting \'{\'');
  // b) section_type [section_name] {
  let name = '';
  let r = rest;
  if (!r.startsWith('{')) {
    if (!r.startsWith('"')) {
      let e = 0;
      while (e < r.length && !isWhite(r[e])) e++;
      name = r.slice(0, e);
      r = r.slice(e);
      let w = 0;
      while (isWhite(r[w])) w++;
      r = r.slice(w);
    } else {
      let e = 1;
      while (e < r.length && r[e] !== '"') e++;
      if (r[e] === '"') {
        name = unescape(r.slice(1, e));
        r = r.slice(e + 1);
        let w = 0;
        while (isWhite(r[w])) w++;
        r = r.slice(w);
      }
    }
    if (!r.startsWith('{')) return mk('error', key, "Expecting '{'");
  }
  if (r.length > 1) return mk('error', key, "Garbage after '{'");
  return mk('section-begin', key, name);
}

import type { Location } from '../../model/location.js';

/** One variable from an EnvironmentFile, with the line its name is on. */
export interface EnvFileEntry {
  name: string;
  value: string;
  location: Location;
}

export interface ParsedEnvFile {
  entries: EnvFileEntry[];
  /** Lines systemd ignores, with why. */
  ignored: { location: Location; why: string }[];
}

const SHELL_NEED_ESCAPE = '"\\`$';

/** POSIX-shell-like variable names, as systemd's env_name_is_valid() checks them. */
export function isValidEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Parse an EnvironmentFile= as systemd's parse_env_file_internal() (src/basic/env-file.c) does: `KEY=VALUE`
 * lines; `#`/`;` comment lines; unquoted values have trailing whitespace trimmed and backslash escapes (a
 * backslash-newline continues the value); single quotes are literal; double quotes know `\"`, `\\`, `` \` ``, `\$`;
 * quoted and unquoted parts concatenate; a `#` after a value is part of the value (no inline comments);
 * an `export ` before the name is tolerated.
 */
export function parseEnvFile(text: string, file: string): ParsedEnvFile {
  const entries: EnvFileEntry[] = [];
  const ignored: { location: Location; why: string }[] = [];
  type State = 'PRE_KEY' | 'KEY' | 'PRE_VALUE' | 'VALUE' | 'VALUE_ESCAPE' | 'SQ' | 'DQ' | 'DQ_ESCAPE' | 'COMMENT' | 'COMMENT_ESCAPE';
  let state: State = 'PRE_KEY';
  let key = '';
  let value = '';
  /** Length of `value` before trailing unquoted whitespace, to trim it at the end as systemd does. */
  let valueKeep = -1;
  let line = 1;
  let keyLine = 1;

  const push = (): void => {
    let k = key.trim();
    if (/^export[ \t]+/.test(k)) k = k.replace(/^export[ \t]+/, '');
    const v = valueKeep >= 0 ? value.slice(0, valueKeep) : value;
    const location: Location = { file, line: keyLine };
    if (!isValidEnvName(k)) ignored.push({ location, why: `invalid variable name ${JSON.stringify(k)}: systemd ignores it` });
    else entries.push({ name: k, value: v, location });
    key = '';
    value = '';
    valueKeep = -1;
  };
  const appendValue = (c: string, unquoted: boolean): void => {
    value += c;
    if (unquoted && (c === ' ' || c === '\t')) {
      if (valueKeep < 0) valueKeep = value.length - 1;
    } else valueKeep = -1;
  };

  const endInQuote = (kind: string): void => {
    // parse_env_file_internal() still assigns what it has when the file ends inside quotes.
    ignored.push({ location: { file, line: keyLine }, why: `unterminated ${kind} quote at end of file: systemd keeps the value read so far` });
    push();
  };

  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? (text[i] as string) : '\n';
    const atEnd = i === text.length;
    const nl = c === '\n' || c === '\r';
    switch (state) {
      case 'PRE_KEY':
        if (c === '#' || c === ';') state = 'COMMENT';
        else if (!(c === ' ' || c === '\t' || nl)) {
          state = 'KEY';
          key = c;
          keyLine = line;
        }
        break;
      case 'KEY':
        if (nl) {
          ignored.push({ location: { file, line: keyLine }, why: `no '=' in ${JSON.stringify(key.trim())}: systemd ignores the line` });
          key = '';
          state = 'PRE_KEY';
        } else if (c === '=') state = 'PRE_VALUE';
        else key += c;
        break;
      case 'PRE_VALUE':
        if (nl) {
          push();
          state = 'PRE_KEY';
        } else if (c === "'") state = 'SQ';
        else if (c === '"') state = 'DQ';
        else if (c === '\\') state = 'VALUE_ESCAPE';
        else if (c === ' ' || c === '\t') {
          /* leading whitespace skipped */
        } else {
          state = 'VALUE';
          appendValue(c, true);
        }
        break;
      case 'VALUE':
        if (nl) {
          push();
          state = 'PRE_KEY';
        } else if (c === '\\') state = 'VALUE_ESCAPE';
        else appendValue(c, true);
        break;
      case 'VALUE_ESCAPE':
        state = 'VALUE';
        if (atEnd) push();
        else if (!nl) appendValue(c, false);
        break;
      case 'SQ':
        if (c === "'") state = 'PRE_VALUE';
        else if (atEnd) endInQuote('single');
        else {
          value += c;
          valueKeep = -1;
        }
        break;
      case 'DQ':
        if (c === '"') state = 'PRE_VALUE';
        else if (c === '\\') state = 'DQ_ESCAPE';
        else if (atEnd) endInQuote('double');
        else {
          value += c;
          valueKeep = -1;
        }
        break;
      case 'DQ_ESCAPE':
        if (atEnd) {
          endInQuote('double');
          break;
        }
        state = 'DQ';
        if (SHELL_NEED_ESCAPE.includes(c)) value += c;
        else if (!nl) value += '\\' + c;
        valueKeep = -1;
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (nl) state = 'PRE_KEY';
        break;
      case 'COMMENT_ESCAPE':
        state = 'COMMENT';
        break;
    }
    if (c === '\n' && !atEnd) line++;
  }
  return { entries, ignored };
}

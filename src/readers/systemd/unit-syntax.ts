import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import { inputFinding } from '../common/input-finding.js';

/** One `Key=Value` assignment as written, continuation lines joined. */
export interface UnitAssignment {
  section: string;
  key: string;
  /** The value with surrounding whitespace removed; quoting is left for the setting's own parser. */
  value: string;
  /** The line the assignment starts on; `column` points at the key. */
  location: Location;
  /** Last line of the assignment when continued with a trailing backslash. */
  endLine: number;
}

export interface ParsedUnitText {
  assignments: UnitAssignment[];
  findings: Finding[];
}

const COMMENT_CHARS = '#;';
const WHITESPACE = /^[ \t\n\r]+|[ \t\n\r]+$/g;

/**
 * Split unit-file text the way systemd's config_parse() (src/shared/conf-parser.c) does:
 * a line ending in an odd number of backslashes continues on the next line, the backslash becoming a space;
 * comment lines inside a continuation are skipped; `[Section]` headers; `Key=Value` split at the first `=`;
 * assignments outside a section and lines without `=` are ignored with a warning, as systemd logs them.
 */
export function parseUnitText(text: string, file: string): ParsedUnitText {
  const assignments: UnitAssignment[] = [];
  const findings: Finding[] = [];
  const lines = text.split('\n');
  let section: string | undefined;
  let continuation: string | undefined;
  let startLine = 0;

  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i] as string;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (i === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    const lineNo = i + 1;

    let joined: string;
    if (continuation !== undefined) {
      // conf-parser.c: comment lines within a continuation are dropped, the continuation goes on.
      const lead = raw.replace(/^[ \t]+/, '');
      if (lead.length > 0 && COMMENT_CHARS.includes(lead[0] as string)) continue;
      joined = continuation + raw;
    } else {
      joined = raw;
      startLine = lineNo;
    }

    if (endsWithUnescapedBackslash(joined)) {
      continuation = joined.slice(0, -1) + ' ';
      if (i < lines.length - 1) continue;
      joined = continuation;
    }
    continuation = undefined;

    const stripped = joined.replace(WHITESPACE, '');
    if (stripped.length === 0) continue;
    if (COMMENT_CHARS.includes(stripped[0] as string)) continue;
    const loc: Location = { file, line: startLine };

    if (stripped.startsWith('[')) {
      if (!stripped.endsWith(']') || stripped.length < 3) {
        findings.push(inputFinding('BC002', loc, `invalid section header ${JSON.stringify(stripped)}: systemd ignores the file from here`, 'systemd'));
        section = undefined;
        // systemd refuses the whole file on a bad header (config_parse returns -EBADMSG); stop here.
        break;
      }
      section = stripped.slice(1, -1);
      continue;
    }
    if (stripped.startsWith('.include ')) {
      findings.push(inputFinding('BC004', loc, '.include is no longer supported by systemd (removed in v250); the line is ignored', 'systemd'));
      continue;
    }
    const eq = stripped.indexOf('=');
    if (eq < 0) {
      findings.push(inputFinding('BC002', loc, `missing '=' in ${JSON.stringify(truncate(stripped))}: systemd ignores the line`, 'systemd'));
      continue;
    }
    if (section === undefined) {
      findings.push(inputFinding('BC002', loc, 'assignment outside of a [Section]: systemd ignores the line', 'systemd'));
      continue;
    }
    const key = stripped.slice(0, eq).replace(WHITESPACE, '');
    const value = stripped.slice(eq + 1).replace(WHITESPACE, '');
    const column = joined.indexOf(key) + 1;
    assignments.push({ section, key, value, location: { file, line: startLine, column: column > 0 ? column : 1 }, endLine: lineNo });
  }
  return { assignments, findings };
}

function endsWithUnescapedBackslash(s: string): boolean {
  let n = 0;
  for (let k = s.length - 1; k >= 0 && s[k] === '\\'; k--) n++;
  return n % 2 === 1;
}

function truncate(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}

/**
 * Split a value into words as systemd's extract_first_word() does with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE
 * (|EXTRACT_CUNESCAPE_RELAX): whitespace separates, single and double quotes group (and may start mid-word),
 * C escapes are decoded, an unknown escape is kept as written. Returns undefined for an unterminated quote.
 */
export function splitWords(value: string): { words: string[]; quoted: boolean[] } | undefined {
  const words: string[] = [];
  const quoted: boolean[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && isSpace(value[i] as string)) i++;
    if (i >= n) break;
    let word = '';
    let q: '"' | "'" | undefined;
    let anyQuote = false;
    for (; i < n; i++) {
      const c = value[i] as string;
      if (q === undefined) {
        if (isSpace(c)) break;
        if (c === '"' || c === "'") {
          q = c;
          anyQuote = true;
          continue;
        }
        if (c === '\\') {
          const r = cunescape(value, i);
          word += r.text;
          i = r.next - 1;
          continue;
        }
        word += c;
      } else {
        if (c === q) {
          q = undefined;
          continue;
        }
        if (c === '\\') {
          const r = cunescape(value, i);
          word += r.text;
          i = r.next - 1;
          continue;
        }
        word += c;
      }
    }
    if (q !== undefined) return undefined;
    words.push(word);
    quoted.push(anyQuote);
  }
  return { words, quoted };
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ', ' ': ' ',
};

/** Decode one C escape at `value[i] === '\\'` (src/basic/escape.c cunescape_one, relaxed). */
function cunescape(value: string, i: number): { text: string; next: number } {
  const c = value[i + 1];
  if (c === undefined) return { text: '\\', next: i + 1 };
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, next: i + 2 };
  if (c === 'x') {
    const hex = /^[0-9a-fA-F]{2}/.exec(value.slice(i + 2));
    if (hex) return { text: String.fromCharCode(parseInt(hex[0], 16)), next: i + 4 };
  }
  if (c >= '0' && c <= '7') {
    const oct = /^[0-7]{3}/.exec(value.slice(i + 1));
    if (oct) return { text: String.fromCharCode(parseInt(oct[0], 8)), next: i + 4 };
  }
  if (c === 'u') {
    const hex = /^[0-9a-fA-F]{4}/.exec(value.slice(i + 2));
    if (hex) return { text: String.fromCharCode(parseInt(hex[0], 16)), next: i + 6 };
  }
  // EXTRACT_CUNESCAPE_RELAX: an unknown escape is kept as written (`\;` stays `\;` for the caller).
  return { text: '\\' + c, next: i + 2 };
}

import type { Location } from '../../model/location.js';

/** One `Key=Value` line of a systemd-style config file, continuation lines joined. */
export interface ConfAssignment {
  section: string;
  key: string;
  /** Whitespace-stripped value (systemd's strstrip); may be empty. */
  value: string;
  /** Where the key starts. */
  location: Location;
  endLine: number;
}

/** Something config_parse() logs about a line: a warning it skips, or an error that ends the whole parse. */
export interface ConfProblem {
  location: Location;
  message: string;
  /** config_parse() returned an error: this file's later lines and every later file are not read. */
  fatal: boolean;
}

export interface ConfParse {
  assignments: ConfAssignment[];
  problems: ConfProblem[];
}

const WS = ' \t\n\r';
const COMMENTS = '#;';
const LONG_LINE_MAX = 1024 * 1024;

function strip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WS.includes(s[a] as string)) a++;
  while (b > a && WS.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

/** src/basic/string-util.c string_is_safe(): no control characters, no quotes or backslash. */
function stringIsSafe(s: string): boolean {
  for (const c of s) {
    const code = c.codePointAt(0) as number;
    if (code < 0x20 || code === 0x7f || c === '\\' || c === '"' || c === "'") return false;
  }
  return true;
}

/**
 * Split a systemd config file as src/shared/conf-parser.c config_parse() + parse_line() do (v252): a line whose
 * first non-blank character is `#` or `;` is a comment (also inside a continuation); a line ending in an odd
 * number of backslashes continues on the next, the backslash becoming a space; `[Section]` headers; `Key=Value`
 * split at the first `=` and both sides stripped. Lines outside `sections` are skipped; an unknown section is a
 * warning. A bad section header or a line longer than LONG_LINE_MAX ends the parse (config_parse returns an error).
 * Never throws.
 */
export function parseConfLines(text: string, file: string, sections: readonly string[]): ConfParse {
  const assignments: ConfAssignment[] = [];
  const problems: ConfProblem[] = [];
  // fileio.c read_line(): "\n", "\r", "\r\n" and NUL each end a line. Locations count "\n" lines, as editors do.
  const lines: string[] = [];
  const editorLine: number[] = [];
  let nl = 1;
  let from = 0;
  for (const m of text.matchAll(/\r\n|\r|\n|\0/g)) {
    lines.push(text.slice(from, m.index));
    editorLine.push(nl);
    if (m[0].includes('\n')) nl++;
    from = m.index + m[0].length;
  }
  if (from < text.length) {
    lines.push(text.slice(from));
    editorLine.push(nl);
  }
  let section: string | undefined;
  let sectionIgnored = false;
  let continuation: string | undefined;
  let startLine = 0;
  let bomSeen = false;

  const parseLine = (raw: string, lineNo: number): boolean => {
    const loc: Location = { file, line: lineNo };
    const l = strip(raw);
    if (l === '') return true;
    if (l.startsWith('[')) {
      if (!l.endsWith(']') || l.length < 2) {
        problems.push({ location: loc, message: `Invalid section header '${l}'`, fatal: true });
        return false;
      }
      const n = l.slice(1, -1);
      if (!stringIsSafe(n)) {
        problems.push({ location: loc, message: `Bad characters in section header '${l}'`, fatal: true });
        return false;
      }
      if (!sections.includes(n)) {
        if (!n.startsWith('X-')) problems.push({ location: loc, message: `Unknown section '${n}'. Ignoring.`, fatal: false });
        section = undefined;
        sectionIgnored = true;
      } else {
        section = n;
        sectionIgnored = false;
      }
      return true;
    }
    if (section === undefined) {
      if (!sectionIgnored) problems.push({ location: loc, message: 'Assignment outside of section. Ignoring.', fatal: false });
      return true;
    }
    const eq = l.indexOf('=');
    if (eq < 0) {
      problems.push({ location: loc, message: "Missing '=', ignoring line.", fatal: false });
      return true;
    }
    if (eq === 0) {
      problems.push({ location: loc, message: "Missing key name before '=', ignoring line.", fatal: false });
      return true;
    }
    const key = strip(l.slice(0, eq));
    const column = raw.indexOf(key) + 1;
    assignments.push({ section, key, value: strip(l.slice(eq + 1)), location: { file, line: startLine, column: column > 0 ? column : 1 }, endLine: lineNo });
    return true;
  };

  for (let i = 0; i < lines.length; i++) {
    let buf = lines[i] as string;
    const lineNo = editorLine[i] as number;
    if (buf.length > LONG_LINE_MAX) {
      problems.push({ location: { file, line: lineNo }, message: `${file}:${lineNo}: Line too long`, fatal: true });
      return { assignments, problems };
    }
    const lead = buf.replace(/^[ \t\n\r]+/, '');
    if (lead !== '' && COMMENTS.includes(lead[0] as string)) continue;
    if (!bomSeen && buf.startsWith('\ufeff')) {
      buf = buf.slice(1);
      bomSeen = true;
    }
    let p: string;
    if (continuation !== undefined) {
      p = continuation + buf;
    } else {
      p = buf;
      startLine = lineNo;
    }
    if (endsWithOddBackslashes(p)) {
      continuation = p.slice(0, -1) + ' ';
      continue;
    }
    continuation = undefined;
    if (!parseLine(p, lineNo)) return { assignments, problems };
  }
  if (continuation !== undefined) parseLine(continuation, editorLine[editorLine.length - 1] ?? 1);
  return { assignments, problems };
}

function endsWithOddBackslashes(s: string): boolean {
  let escaped = false;
  for (const c of s) {
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
  }
  return escaped;
}

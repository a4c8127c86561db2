/**
 * httpd's config reader as server/util.c and server/config.c see a file: ap_cfg_getline() joins a line ending in
 * `\` with the next one (the backslash and newline dropped) and strips leading and trailing white space; a line
 * whose first character is then `#` is a comment (a `#` later on a line is part of the arguments); `<Name args>`
 * opens a section and `</Name>` closes it; ap_getword_conf() splits arguments at white space, honouring "…" and
 * '…' quotes (a backslash escapes the quote character inside them).
 */
export interface ApacheLine {
  kind: 'directive' | 'section-open' | 'section-close';
  /** Directive or section name as written (`Listen`, `IfModule`). */
  name: string;
  args: string[];
  /** The argument text as written after the name (for `<IfModule …>` without the `>`). */
  argText: string;
  startLine: number;
  endLine: number;
  column: number;
  /** A problem with the line (an unterminated `<Section`), when there is one. */
  error?: string;
}

export function lexApacheConf(text: string): ApacheLine[] {
  const raw = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: ApacheLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    const startLine = i + 1;
    let line = raw[i] as string;
    while (/\\$/.test(line) && i + 1 < raw.length) {
      line = line.slice(0, -1) + (raw[++i] as string);
    }
    if (/\\$/.test(line)) line = line.slice(0, -1);
    const lead = /^[ \t\f\v]*/.exec(line)?.[0].length ?? 0;
    const body = line.trim();
    if (body === '' || body.startsWith('#')) continue;
    const column = lead + 1;
    if (body.startsWith('</')) {
      const m = /^<\/([^>\s]*)\s*>?/.exec(body);
      const l: ApacheLine = { kind: 'section-close', name: m?.[1] ?? '', args: [], argText: '', startLine, endLine: i + 1, column };
      if (!body.endsWith('>')) l.error = `</${l.name} directive missing closing '>'`;
      out.push(l);
      continue;
    }
    if (body.startsWith('<')) {
      const m = /^<([^\s>]+)\s*(.*)$/.exec(body);
      const name = m?.[1] ?? '';
      let rest = m?.[2] ?? '';
      let error: string | undefined;
      if (rest.endsWith('>')) rest = rest.slice(0, -1);
      else if (name.endsWith('>')) {
        // `<IfModule>` without arguments
      } else error = `<${name} directive missing closing '>'`;
      const cleanName = name.replace(/>$/, '');
      const l: ApacheLine = { kind: 'section-open', name: cleanName, args: splitArgs(rest), argText: rest.trim(), startLine, endLine: i + 1, column };
      if (error) l.error = error;
      out.push(l);
      continue;
    }
    const m = /^(\S+)\s*(.*)$/.exec(body);
    const rest = m?.[2] ?? '';
    out.push({ kind: 'directive', name: m?.[1] ?? body, args: splitArgs(rest), argText: rest, startLine, endLine: i + 1, column });
  }
  return out;
}

/** ap_getword_conf(): white-space separated words; "…" or '…' quote one word, `\"` escapes inside quotes. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    const q = s[i];
    if (q === '"' || q === "'") {
      let w = '';
      i++;
      while (i < s.length && s[i] !== q) {
        if (s[i] === '\\' && (s[i + 1] === q || s[i + 1] === '\\') ) {
          w += s[i + 1];
          i += 2;
          continue;
        }
        w += s[i++];
      }
      i++;
      out.push(w);
    } else {
      let w = '';
      while (i < s.length && !/\s/.test(s[i] as string)) w += s[i++];
      out.push(w);
    }
  }
  return out;
}

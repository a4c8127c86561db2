import type { RootFs } from '../../fs/root-fs.js';

/**
 * glob(3) as dovecot's settings_include() calls it — `glob(pattern, GLOB_BRACE, …)` — inside a RootFs: `*`, `?`,
 * `[…]` within one path component, `{a,b}` alternatives; a leading `.` is matched only explicitly (no GLOB_PERIOD).
 * Matches are sorted byte-wise (dovecot never calls setlocale(), so glibc's strcoll is strcmp) per brace
 * alternative, as glibc's GLOB_BRACE runs one glob per alternative with GLOB_APPEND. A pattern without
 * metacharacters matches only when the path exists (GLOB_NOMATCH otherwise, as glibc does).
 */
export function rootGlob(fs: RootFs, pattern: string): string[] {
  const out: string[] = [];
  for (const alt of expandBraces(pattern)) {
    const found = globOne(fs, alt).sort(byteCompare);
    for (const f of found) if (!out.includes(f)) out.push(f);
  }
  return out;
}

function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** `{a,b}` alternatives (nested braces allowed); an unbalanced brace is literal. */
export function expandBraces(p: string): string[] {
  const open = findUnescaped(p, '{', 0);
  if (open < 0) return [p];
  let depth = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = open; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  if (close < 0) return [p];
  const head = p.slice(0, open);
  const tail = p.slice(close + 1);
  const bounds = [open, ...commas, close];
  const outs: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const mid = p.slice((bounds[k] as number) + 1, bounds[k + 1]);
    outs.push(...expandBraces(head + mid + tail));
  }
  return outs;
}

function findUnescaped(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === ch) return i;
  }
  return -1;
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

function globOne(fs: RootFs, pattern: string): string[] {
  const parts = pattern.split('/').filter((s) => s !== '');
  let bases = ['/'];
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k] as string;
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      const join = (n: string) => (base === '/' ? `/${n}` : `${base}/${n}`);
      if (!hasMagic(part)) {
        const lit = part.replace(/\\(.)/g, '$1');
        const p = join(lit);
        if (last ? fs.exists(p) || isDanglingEntry(fs, base, lit) : fs.isDirectory(p)) next.push(p);
        continue;
      }
      const re = componentRegExp(part);
      for (const name of fs.list(base)) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (!re.test(name)) continue;
        const p = join(name);
        if (last || fs.isDirectory(p)) next.push(p);
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return parts.length === 0 ? [] : bases;
}

/** glibc's glob lstat()s a literal last component: a dangling symlink still matches. */
function isDanglingEntry(fs: RootFs, dir: string, name: string): boolean {
  return fs.list(dir).includes(name);
}

function componentRegExp(part: string): RegExp {
  let re = '^';
  for (let i = 0; i < part.length; i++) {
    const c = part[i] as string;
    if (c === '\\' && i + 1 < part.length) {
      re += escapeRe(part[++i] as string);
    } else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = part.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(re + '$', 's');
  } catch {
    return /$^/;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** One line of a dnsmasq config file as option.c read_file() splits it. */
export type DnsmasqLine =
  | {
      kind: 'option';
      line: number;
      /** 1-based column of the option name. */
      column: number;
      name: string;
      /** The text after `=`, quotes removed; undefined when the line has no `=`. */
      value?: string;
      /** value's comma-separated items; commas inside quotes do not separate. */
      items: string[];
    }
  | { kind: 'error'; line: number; column: number; message: string };

/**
 * option.c read_file(): per line, `"…"` quotes are removed (inside them `\"`, `\\`, `\t`, `\n` escapes, and spaces,
 * `#` and commas lose their meaning), whitespace becomes a space, `#` after whitespace (or at the start) starts a
 * comment, the line is trimmed, and `name=value` is split at the first `=` (spaces around it allowed). A line
 * without `=` is a name alone.
 */
export function splitDnsmasqConf(text: string): DnsmasqLine[] {
  const out: DnsmasqLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = splitLine(lines[i] as string, i + 1);
    if (l) out.push(l);
  }
  return out;
}

/** A hidden comma (one inside quotes) while the line is processed. */
const HIDDEN_COMMA = '\u0001';

export function splitLine(raw: string, line: number): DnsmasqLine | undefined {
  let s = '';
  let white = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') {
      let j = i + 1;
      let closed = false;
      for (; j < raw.length; j++) {
        const d = raw[j] as string;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < raw.length && '"tnebr\\'.includes(raw[j + 1] as string)) {
          const e = raw[j + 1] as string;
          s += e === 't' ? '\t' : e === 'n' ? '\n' : e === 'b' ? '\b' : e === 'r' ? '\r' : e === 'e' ? '\u001b' : e;
          j++;
          continue;
        }
        s += d === ',' ? HIDDEN_COMMA : d;
      }
      if (!closed) return { kind: 'error', line, column: i + 1, message: 'missing "' };
      i = j;
      white = false;
      continue;
    }
    if (/\s/.test(c)) {
      s += ' ';
      white = true;
      continue;
    }
    if (white && c === '#') break;
    white = false;
    s += c;
  }
  const lead = s.length - s.trimStart().length;
  const t = s.trim();
  if (t === '') return undefined;
  const column = lead + 1;
  const eq = t.indexOf('=');
  if (eq < 0) return { kind: 'option', line, column, name: restore(t), items: [] };
  const name = t.slice(0, eq).replace(/[ =]+$/, '');
  const value = t.slice(eq + 1).replace(/^ +/, '');
  return { kind: 'option', line, column, name: restore(name), value: restore(value), items: value.split(',').map((x) => restore(x.replace(/^ +| +$/g, ''))) };
}

function restore(s: string): string {
  return s.split(HIDDEN_COMMA).join(',');
}

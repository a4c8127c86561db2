/**
 * Exim's list syntax and the address/port forms of local_interfaces, as exim's own C code reads them
 * (exim 4.96: string.c string_nextinlist, host.c host_address_extract_port, daemon.c daemon_go).
 */

export interface ListItem {
  text: string;
  /** Offset of the item's first character in the list string. */
  start: number;
}

const isPunct = (c: string | undefined) => c !== undefined && /^[!-/:-@[-`{-~]$/.test(c);
const isCntrl = (c: string | undefined) => c !== undefined && (c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);
const isSpace = (c: string | undefined) => c !== undefined && /[ \t\n\v\f\r]/.test(c);

/**
 * string.c string_nextinlist(): the separator is `:` unless the list starts with `<` followed by a punctuation or
 * control character, which becomes the separator; a doubled (punctuation) separator is a literal separator in an
 * item (`::1` in a colon list is written `::::1`); leading and trailing blanks of each item are dropped; an empty
 * item between two separators is an empty string (which local_interfaces rejects). A trailing separator ends the
 * list.
 */
export function splitEximList(list: string): { items: ListItem[]; separator: string } {
  let s = 0;
  let sep = '';
  while (isSpace(list[s])) s++;
  if (list[s] === '<' && (isPunct(list[s + 1]) || isCntrl(list[s + 1]))) {
    sep = list[s + 1] as string;
    s += 2;
  } else sep = ':';
  const special = isCntrl(sep);
  const items: ListItem[] = [];
  for (;;) {
    while (s < list.length && isSpace(list[s]) && list[s] !== sep) s++;
    if (s >= list.length) break;
    const start = s;
    let text = '';
    for (;;) {
      if (s >= list.length) break;
      const c = list[s] as string;
      if (c === sep) {
        if (!special && list[s + 1] === sep) {
          text += sep;
          s += 2;
          continue;
        }
        s++;
        break;
      }
      text += c;
      s++;
    }
    items.push({ text: text.replace(/[ \t\n\v\f\r]+$/, ''), start });
  }
  return { items, separator: sep };
}

/**
 * host.c host_address_extract_port(): `[addr]:port` or `addr.port` (the 4th dot of an IPv4 address, the 1st dot
 * of an IPv6 one). A malformed port leaves the item untouched and returns no port.
 */
export function extractPort(item: string): { address: string; port: number; form: 'bracket' | 'dot' | 'none' } {
  if (item.startsWith('[')) {
    const rb = item.indexOf(']');
    if (rb < 0) return { address: item, port: 0, form: 'none' };
    const after = item.slice(rb + 1);
    let port = 0;
    if (after.startsWith(':')) {
      const p = strtolPrefix(after.slice(1), 10);
      if (p.rest !== '') return { address: item, port: 0, form: 'none' };
      port = p.value;
    } else if (after !== '') return { address: item, port: 0, form: 'none' };
    return { address: item.slice(1, rb), port, form: 'bracket' };
  }
  let skip = -3;
  for (let i = 0; i < item.length; i++) {
    const ch = item[i];
    if (ch === ':') skip = 0;
    else if (ch === '.' && skip++ >= 0) {
      const p = strtolPrefix(item.slice(i + 1), 10);
      if (p.rest !== '') return { address: item, port: 0, form: 'none' };
      return { address: item.slice(0, i), port: p.value, form: 'dot' };
    }
  }
  return { address: item, port: 0, form: 'none' };
}

/**
 * C strtol(): optional blanks and sign, then digits in `base` (0 = C rules: `0x` hex, leading `0` octal);
 * `rest` is what it did not consume (the whole text when nothing was).
 */
export function strtolPrefix(text: string, base: number): { value: number; rest: string } {
  let i = 0;
  while (isSpace(text[i])) i++;
  let neg = false;
  if (text[i] === '+' || text[i] === '-') {
    neg = text[i] === '-';
    i++;
  }
  let b = base;
  if ((b === 0 || b === 16) && text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && /[0-9a-fA-F]/.test(text[i + 2] ?? '')) {
    i += 2;
    b = 16;
  } else if (b === 0) b = text[i] === '0' ? 8 : 10;
  const digits = b === 16 ? /[0-9a-fA-F]/ : b === 8 ? /[0-7]/ : /[0-9]/;
  const from = i;
  let v = 0;
  while (i < text.length && digits.test(text[i] as string)) {
    v = v * b + parseInt(text[i] as string, b);
    i++;
  }
  if (i === from) return { value: 0, rest: text };
  return { value: neg ? -v : v, rest: text.slice(i) };
}

/** readconf.c readconf_readtime(): `30s`, `1m30s`, `2h`; a bare number is seconds. undefined = malformed. */
export function parseEximTime(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  const mult: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  const re = /(\d+)([smhdw])/y;
  let i = 0;
  while (i < t.length) {
    re.lastIndex = i;
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * (mult[m[2] as string] as number);
    i = re.lastIndex;
  }
  return total;
}

/** readconf.c opt_int: strtol base 0 with an optional K or M multiplier. */
export function parseEximInt(text: string): number | undefined {
  const p = strtolPrefix(text.trim(), 0);
  if (p.rest === text.trim()) return undefined;
  const r = p.rest.trim();
  if (r === '') return p.value;
  if (r === 'K' || r === 'k') return p.value * 1024;
  if (r === 'M' || r === 'm') return p.value * 1024 * 1024;
  return undefined;
}

/** readconf.c read_string(): a value in double quotes has its backslash escapes processed; otherwise verbatim. */
export function readEximString(value: string): string {
  if (!value.startsWith('"')) return value;
  let out = '';
  for (let i = 1; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '"') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = value[++i];
    if (n === undefined) break;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07' };
    if (simple[n] !== undefined) out += simple[n];
    else if (n === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(value.slice(i + 1));
      if (m) {
        out += String.fromCharCode(parseInt(m[0], 16));
        i += m[0].length;
      } else out += 'x';
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(value.slice(i)) as RegExpExecArray;
      out += String.fromCharCode(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else out += n;
  }
  return out;
}

/**
 * The address parsers sendmail calls, reproduced exactly: glibc inet_addr(3)/inet_aton(3) for Family=inet and
 * inet_pton(AF_INET6) (behind sendmail's anynet_pton, which first strips an `IPv6:` tag) for Family=inet6.
 */

/**
 * glibc inet_aton: 1 to 4 parts (`a`, `a.b`, `a.b.c`, `a.b.c.d`), each decimal, octal (leading 0) or hex (0x);
 * the last part fills the remaining bytes; anything after the number must start with whitespace.
 * Returns the address as an unsigned 32-bit number, or undefined when glibc would return 0 (failure).
 */
export function inetAton(text: string): number | undefined {
  const parts: number[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    const c0 = text[i];
    if (c0 === undefined || !/[0-9]/.test(c0)) return undefined;
    let base = 10;
    if (c0 === '0') {
      const c1 = text[i + 1];
      if (c1 === 'x' || c1 === 'X') {
        base = 16;
        i += 2;
      } else {
        base = 8;
        i += 1;
      }
    }
    let val = 0n;
    let digits = 0;
    while (i < n) {
      const c = text[i] as string;
      const d = digitValue(c, base);
      if (d === undefined) break;
      val = val * BigInt(base) + BigInt(d);
      if (val > 0xffffffffn) return undefined; // glibc strtoul overflow check
      digits++;
      i++;
    }
    // "0x" with no digits: glibc's strtoul parses "0" and leaves "x…"; the check below then rejects "x".
    if (base === 16 && digits === 0) return undefined;
    parts.push(Number(val));
    if (text[i] === '.') {
      if (parts.length >= 4) return undefined;
      i++;
      continue;
    }
    break;
  }
  const rest = text[i];
  if (rest !== undefined && !/[ \t\n\v\f\r]/.test(rest)) return undefined;
  const p = parts;
  let addr: number;
  switch (p.length) {
    case 1:
      addr = p[0] as number;
      break;
    case 2:
      if ((p[0] as number) > 0xff || (p[1] as number) > 0xffffff) return undefined;
      addr = (p[0] as number) * 2 ** 24 + (p[1] as number);
      break;
    case 3:
      if ((p[0] as number) > 0xff || (p[1] as number) > 0xff || (p[2] as number) > 0xffff) return undefined;
      addr = (p[0] as number) * 2 ** 24 + (p[1] as number) * 2 ** 16 + (p[2] as number);
      break;
    default:
      if (p.some((x) => x > 0xff)) return undefined;
      addr = (p[0] as number) * 2 ** 24 + (p[1] as number) * 2 ** 16 + (p[2] as number) * 2 ** 8 + (p[3] as number);
  }
  return addr;
}

function digitValue(c: string, base: number): number | undefined {
  const code = c.charCodeAt(0);
  let d: number;
  if (code >= 48 && code <= 57) d = code - 48;
  else if (code >= 97 && code <= 102) d = code - 87;
  else if (code >= 65 && code <= 70) d = code - 55;
  else return undefined;
  return d < base ? d : undefined;
}

export function formatIPv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff].join('.');
}

/** glibc inet_pton4 as used inside inet_pton6: exactly 4 decimal parts 0–255, no leading zeros. */
function pton4Strict(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    if (p.length > 1 && p[0] === '0') return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out.push(v);
  }
  return out;
}

/** glibc inet_pton(AF_INET6): returns 8 16-bit groups, or undefined. No zone ids, no surrounding whitespace. */
export function inetPton6(text: string): number[] | undefined {
  if (text.length === 0) return undefined;
  let head: string[];
  let tail: string[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    if (text.indexOf('::', dbl + 1) >= 0) return undefined;
    const a = text.slice(0, dbl);
    const b = text.slice(dbl + 2);
    head = a === '' ? [] : a.split(':');
    tail = b === '' ? [] : b.split(':');
  } else {
    head = text.split(':');
    tail = [];
  }
  const groups = (list: string[], allowV4Last: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let k = 0; k < list.length; k++) {
      const g = list[k] as string;
      if (allowV4Last && k === list.length - 1 && g.includes('.')) {
        const v4 = pton4Strict(g);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head, dbl < 0);
  const t = groups(tail, true);
  if (!h || !t) return undefined;
  if (dbl >= 0) {
    if (h.length + t.length > 7) return undefined;
    return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  }
  return h.length === 8 ? h : undefined;
}

/**
 * Canonical IPv6 text (RFC 5952: lowercase, longest run of two or more zero groups as `::`, first on ties),
 * with IPv4-mapped addresses written `::ffff:a.b.c.d`.
 */
export function formatIPv6(g: number[]): string {
  if (g.length === 8 && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const hi = g[6] as number;
    const lo = g[7] as number;
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** sendmail's anynet_pton(AF_INET6, …): an optional, case-insensitive `IPv6:` tag, then inet_pton. */
export function anynetPton6(text: string): number[] | undefined {
  const t = text.slice(0, 5).toLowerCase() === 'ipv6:' ? text.slice(5) : text;
  return inetPton6(t);
}

import { tryCanonicalAddress } from '../../kernel/index.js';
import type { Family } from '../../model/endpoint.js';

/**
 * What str2sa_range() (src/tools.c, 2.6) makes of one address of a `bind` line (or `stats socket`) with
 * PA_O_RESOLVE | PA_O_PORT_OK | PA_O_PORT_MAND | PA_O_PORT_RANGE | PA_O_SOCKET_FD | PA_O_STREAM | PA_O_XPRT.
 */
export type BindTarget =
  | { kind: 'inet'; family: Family; address: string; portLow: number; portHigh: number; how: string }
  /** A host name: haproxy resolves it once, at parse time, and binds the first address getaddrinfo() returns. */
  | { kind: 'host'; family: Family | undefined; host: string; portLow: number; portHigh: number; how: string }
  | { kind: 'unix'; path: string }
  | { kind: 'fd'; what: string }
  | { kind: 'error'; message: string };

const PREFIXES: { p: string; family: Family | 'unix' | 'unspec' | 'fd'; dgram?: boolean }[] = [
  { p: 'unix@', family: 'unix' },
  { p: 'uxdg@', family: 'unix', dgram: true },
  { p: 'uxst@', family: 'unix' },
  { p: 'abns@', family: 'unix' },
  { p: 'ip@', family: 'unspec' },
  { p: 'ipv4@', family: 'inet' },
  { p: 'ipv6@', family: 'inet6' },
  { p: 'tcp4@', family: 'inet' },
  { p: 'udp4@', family: 'inet', dgram: true },
  { p: 'tcp6@', family: 'inet6' },
  { p: 'udp6@', family: 'inet6', dgram: true },
  { p: 'tcp@', family: 'unspec' },
  { p: 'udp@', family: 'unspec', dgram: true },
  { p: 'quic4@', family: 'inet', dgram: true },
  { p: 'quic6@', family: 'inet6', dgram: true },
  { p: 'fd@', family: 'fd' },
  { p: 'sockpair@', family: 'fd' },
];

/** C atoi(): leading digits, the rest ignored (`80abc` is 80). */
function atoi(s: string): number {
  const m = /^[0-9]+/.exec(s);
  return m ? Number(m[0]) : 0;
}

/** Parse one comma-free address word (environment variables already resolved or refused by the caller). */
export function parseBindAddress(word: string): BindTarget {
  if (word === '') return { kind: 'error', message: `'${word}' resolves to an empty address (environment variable missing?)` };
  let s = word;
  let dgram = false;
  if (s.startsWith('stream+')) s = s.slice(7);
  else if (s.startsWith('dgram+')) {
    s = s.slice(6);
    dgram = true;
  }
  let family: Family | 'unix' | 'unspec' | 'fd' = 'unspec';
  const pre = PREFIXES.find((x) => s.startsWith(x.p));
  if (pre) {
    s = s.slice(pre.p.length);
    family = pre.family;
    if (pre.dgram) dgram = true;
  } else if (s.startsWith('/')) family = 'unix';
  if (family === 'unix') return dgram ? { kind: 'error', message: `dgram-type address not acceptable in '${word}'` } : { kind: 'unix', path: s };
  if (family === 'fd') return { kind: 'fd', what: word };
  // This haproxy has no QUIC and a `bind` takes stream addresses only: "dgram-type address not acceptable".
  if (dgram) return { kind: 'error', message: `dgram-type address not acceptable in '${word}'` };

  // "search for : or ] whatever comes first" from the end: a colon before any closing bracket is the port.
  // `for (chr = end-1; chr > str2; chr--)` stops on the first character without testing it in the loop, so a
  // leading ':' (`:80`) is still the port separator.
  let cut = 0;
  for (let k = s.length - 1; k > 0; k--) {
    if (s[k] === ']' || s[k] === ':') {
      cut = k;
      break;
    }
  }
  if (s[cut] !== ':') return { kind: 'error', message: `missing port specification in '${word}'` };
  const host = s.slice(0, cut);
  const portText = s.slice(cut + 1);
  if (!/^[0-9]/.test(portText)) {
    if (portText === '') return { kind: 'error', message: `missing port specification in '${word}'` };
    if (portText.startsWith('+') || portText.startsWith('-')) return { kind: 'error', message: `port offset not permitted here in '${word}'` };
    return { kind: 'error', message: `invalid character '${portText[0]}' in port number '${portText}' in '${word}'` };
  }
  const dash = portText.indexOf('-');
  const lowText = dash >= 0 ? portText.slice(0, dash) : portText;
  const highText = dash >= 0 ? portText.slice(dash + 1) : portText;
  const portLow = atoi(lowText);
  const portHigh = atoi(highText);
  if (portLow < 1 || portLow > 65535) return { kind: 'error', message: `invalid port '${lowText}'` };
  if (portHigh < 1 || portHigh > 65535) return { kind: 'error', message: `invalid port '${highText}'` };
  if (portLow > portHigh) return { kind: 'error', message: `invalid port range '${portLow}-${portHigh}'` };
  const ports = portLow === portHigh ? `port ${portLow}` : `ports ${portLow} to ${portHigh}, one socket each`;

  // str2ip2(): brackets stripped, `::` the IPv6 wildcard, empty or `*` the wildcard of the family (IPv4 by default).
  let h = host;
  if (h.startsWith('[')) {
    if (h.length < 4 || !h.endsWith(']')) return { kind: 'error', message: `invalid address: '${host}' in '${word}'` };
    h = h.slice(1, -1);
  }
  if (h === '::') {
    if (family === 'inet') return { kind: 'error', message: `invalid address: '${host}' in '${word}'` };
    return { kind: 'inet', family: 'inet6', address: '::', portLow, portHigh, how: `'::' is the IPv6 wildcard, ${ports}` };
  }
  if (h === '' || h === '*') {
    const fam: Family = family === 'inet6' ? 'inet6' : 'inet';
    const address = fam === 'inet6' ? '::' : '0.0.0.0';
    return { kind: 'inet', family: fam, address, portLow, portHigh, how: `${h === '' ? 'no address' : "'*'"}: the ${fam === 'inet6' ? 'IPv6 (ipv6@)' : 'IPv4'} wildcard ${address}, ${ports}` };
  }
  const lit = tryCanonicalAddress(h);
  if (lit !== undefined) {
    const fam: Family = lit.includes(':') ? 'inet6' : 'inet';
    // inet_pton() only: `1.2.3` or `010.0.0.1` are not literals, they go to the resolver.
    const strictV4 = fam === 'inet6' || /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/.test(h);
    if (strictV4) {
      if (family !== 'unspec' && family !== fam) return { kind: 'error', message: `invalid address: '${h}' in '${word}'` };
      return { kind: 'inet', family: fam, address: lit, portLow, portHigh, how: ports };
    }
  }
  // resolv_hostname_validation(): letters, digits, '-' and '.', labels of at most 63 characters.
  if (!/^[A-Za-z0-9.-]+$/.test(h) || h.split('.').some((l) => l.length > 63)) return { kind: 'error', message: `invalid address: '${h}' in '${word}'` };
  return { kind: 'host', family: family === 'unspec' ? undefined : family, host: h, portLow, portHigh, how: ports };
}

/** The `bind` first argument: comma-separated addresses (str2listener()). Empty items are skipped like haproxy's loop does. */
export function splitBindAddresses(arg: string): string[] {
  const out: string[] = [];
  for (const part of arg.split(',')) {
    // `while (next && *next)`: one trailing comma ends the list; any other empty item is an empty address.
    out.push(part);
  }
  if (out.length > 1 && out[out.length - 1] === '') out.pop();
  return out;
}

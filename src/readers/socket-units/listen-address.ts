import type { Family } from '../../model/endpoint.js';
import { parseAddress } from '../../kernel/index.js';

/** What systemd's socket_address_parse() makes of a ListenStream=/ListenDatagram= value. */
export type ListenAddress =
  | {
      kind: 'inet';
      family: Family;
      /** Canonical address text (`::`, `0.0.0.0`, `127.0.0.1`). */
      address: string;
      port: number;
      /** The value was a port alone: the wildcard of IPv6 when the host has IPv6, of IPv4 otherwise. */
      portOnly: boolean;
      /** `%IFNAME` after the port: the interface index systemd resolves for the IPv6 scope id. */
      ifname?: string;
    }
  | { kind: 'unix'; path: string }
  | { kind: 'vsock' }
  | { kind: 'invalid'; errno: 'EINVAL' | 'ERANGE'; reason: string };

/**
 * parse_ip_port(): safe_atou16() with strtoul's base 0 — a leading `+`, `0x` hex and `0` octal are accepted (`010`
 * is port 8, verified with systemd-socket-activate), leading whitespace and `-` are not; 0 is refused.
 */
export function parseIpPort(text: string): number | 'EINVAL' | 'ERANGE' {
  const body = text.startsWith('+') ? text.slice(1) : text;
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[0-7]*$/.test(body)) value = body.length > 1 ? parseInt(body.slice(1), 8) : 0;
  else if (/^[1-9][0-9]*$/.test(body)) value = Number(body);
  else return 'EINVAL';
  if (!Number.isFinite(value) || value > 65535) return 'ERANGE';
  if (value === 0) return 'EINVAL';
  return value;
}

/** ifname_valid_full(IFNAME_VALID_ALTERNATIVE|IFNAME_VALID_NUMERIC): printable, no `:` `/` `%` or space, < 128. */
function validIfname(name: string): boolean {
  if (name.length === 0 || name.length >= 128 || name === '.' || name === '..') return false;
  return [...name].every((c) => c > ' ' && c <= '~' && c !== ':' && c !== '/' && c !== '%');
}

function ipv6(text: string): string | undefined {
  const p = text.includes('%') ? undefined : parseAddress(text);
  return p?.family === 'inet6' ? p.text : undefined;
}

function ipv4(text: string): string | undefined {
  const p = parseAddress(text);
  return p?.family === 'inet' ? p.text : undefined;
}

const invalid = (reason: string): ListenAddress => ({ kind: 'invalid', errno: 'EINVAL', reason });

/**
 * socket_address_parse() (src/shared/socket-netlink.c): `/path` or `@abstract` is AF_UNIX, `vsock:CID:PORT` is
 * AF_VSOCK, a port alone is `[::]:PORT` (or `0.0.0.0:PORT` without IPv6), otherwise
 * in_addr_port_ifindex_name_from_string_auto(): `ADDR:PORT`, `[ADDR6]:PORT`, optionally `%IFNAME` after the port;
 * no host names, no `#server-name`, and an address without a port is refused ("No port, no go").
 */
export function parseListenAddress(value: string, ipv6Supported: boolean): ListenAddress {
  if (value.startsWith('/') || value.startsWith('@')) return { kind: 'unix', path: value };
  if (value.startsWith('vsock:')) return { kind: 'vsock' };
  const port = parseIpPort(value);
  if (port === 'ERANGE') return { kind: 'invalid', errno: 'ERANGE', reason: `${value} is out of the port range 1-65535` };
  if (typeof port === 'number') {
    return ipv6Supported
      ? { kind: 'inet', family: 'inet6', address: '::', port, portOnly: true }
      : { kind: 'inet', family: 'inet', address: '0.0.0.0', port, portOnly: true };
  }
  if (value.includes('#')) return invalid('a #server-name is not allowed here');
  let s = value;
  let ifname: string | undefined;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    ifname = s.slice(pct + 1);
    if (!validIfname(ifname)) return invalid(`"${ifname}" is not an interface name`);
    s = s.slice(0, pct);
  }
  const colon = s.lastIndexOf(':');
  let family: Family;
  let address: string | undefined;
  let p: number | 'EINVAL' | 'ERANGE' = 'EINVAL';
  if (colon >= 0) {
    if (s.startsWith('[')) {
      if (s[colon - 1] !== ']') return invalid('an IPv6 address in brackets must be followed by ]:PORT');
      family = 'inet6';
      p = parseIpPort(s.slice(colon + 1));
      if (p === 'ERANGE') return { kind: 'invalid', errno: 'ERANGE', reason: `port ${s.slice(colon + 1)} is out of the range 1-65535` };
      address = ipv6(s.slice(1, colon - 1));
    } else if (ipv6(s) !== undefined) {
      return invalid('an IPv6 address without a port (write [ADDRESS]:PORT)');
    } else {
      family = 'inet';
      address = ipv4(s.slice(0, colon));
      if (address === undefined) return invalid(`"${s.slice(0, colon)}" is not a numeric IPv4 address (host names are not resolved)`);
      p = parseIpPort(s.slice(colon + 1));
      if (p === 'ERANGE') return { kind: 'invalid', errno: 'ERANGE', reason: `port ${s.slice(colon + 1)} is out of the range 1-65535` };
    }
  } else {
    family = 'inet';
    address = ipv4(s);
    if (address !== undefined) return invalid('an address without a port ("No port, no go")');
  }
  if (address === undefined) return invalid(`"${value}" is not a port, ADDRESS:PORT or [ADDRESS]:PORT`);
  if (typeof p !== 'number') return invalid(`"${s.slice(colon + 1)}" is not a port number`);
  const out: ListenAddress = { kind: 'inet', family, address, port: p, portOnly: false };
  if (ifname !== undefined && family === 'inet6') out.ifname = ifname;
  return out;
}

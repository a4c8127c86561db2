import type { Family } from '../../model/endpoint.js';
import { parseAddress } from '../../kernel/index.js';
import { RESOLVED_BEHAVIOUR } from './behaviour.js';

/** One DNSStubListenerExtra= value as resolved-conf.c config_parse_dns_stub_listener_extra() reads it. */
export interface ExtraListener {
  /** `udp:` / `tcp:` prefix, or both. */
  udp: boolean;
  tcp: boolean;
  family: Family;
  /** Canonical address text. */
  address: string;
  /** The port written, 0 when none was (resolved then uses 53: dns_stub_listener_extra_port()). */
  port: number;
}

/**
 * Parse a DNSStubListenerExtra= value: an optional `udp:` or `tcp:` prefix, then what
 * src/shared/socket-netlink.c in_addr_port_ifindex_name_from_string_auto() accepts with no interface and no server
 * name allowed: `1.2.3.4`, `1.2.3.4:PORT`, a bare IPv6 address, `[IPv6]:PORT`. `[::1]` without a port, a `%ifname`,
 * a `#name` and port 0 are refused (resolved logs "Failed to parse address …, ignoring assignment").
 */
export function parseExtraListener(value: string): ExtraListener | { error: string } {
  let udp = true;
  let tcp = true;
  let p = value;
  if (p.startsWith('udp:')) {
    tcp = false;
    p = p.slice(4);
  } else if (p.startsWith('tcp:')) {
    udp = false;
    p = p.slice(4);
  }
  if (p.includes('#')) return { error: 'a #server-name is not allowed here' };
  if (p.includes('%')) return { error: 'an %interface is not allowed here' };
  const colon = p.lastIndexOf(':');
  if (colon < 0) {
    const a = pton('inet', p);
    return a === undefined ? { error: `"${p}" is not an IPv4 address` } : { udp, tcp, family: 'inet', address: a, port: 0 };
  }
  if (p.startsWith('[')) {
    if (p[colon - 1] !== ']') return { error: `"${p}": an [IPv6] address needs a :port after the bracket` };
    const port = parseIpPort(p.slice(colon + 1));
    if (port === undefined) return { error: `"${p.slice(colon + 1)}" is not a port (1-65535)` };
    const a = pton('inet6', p.slice(1, colon - 1));
    return a === undefined ? { error: `"${p.slice(1, colon - 1)}" is not an IPv6 address` } : { udp, tcp, family: 'inet6', address: a, port };
  }
  const v6 = pton('inet6', p);
  if (v6 !== undefined) return { udp, tcp, family: 'inet6', address: v6, port: 0 };
  const a = pton('inet', p.slice(0, colon));
  if (a === undefined) return { error: `"${p.slice(0, colon)}" is not an IPv4 address` };
  const port = parseIpPort(p.slice(colon + 1));
  if (port === undefined) return { error: `"${p.slice(colon + 1)}" is not a port (1-65535)` };
  return { udp, tcp, family: 'inet', address: a, port };
}

/** The port resolved binds: the one written, or 53. */
export function extraPort(l: ExtraListener): number {
  return l.port > 0 ? l.port : RESOLVED_BEHAVIOUR.extraDefaultPort;
}

/** inet_pton(3): strict text, no brackets or zone. */
function pton(family: Family, s: string): string | undefined {
  if (s === '' || /[[\]%\s]/.test(s)) return undefined;
  const a = parseAddress(s);
  return a && a.family === family && a.zone === undefined ? a.text : undefined;
}

/**
 * parse-util.c parse_ip_port(): safe_atou16_full(s, SAFE_ATO_REFUSE_LEADING_WHITESPACE) — strtoul base 0 after
 * mangle_base (`0x` hex, `0` octal, `0b`/`0o` prefixes), a leading `+` allowed — then 0 refused.
 */
export function parseIpPort(s: string): number | undefined {
  if (s === '' || /^\s/.test(s)) return undefined;
  let t = s;
  let base = 0;
  if (/^0[bB]/.test(t)) {
    base = 2;
    t = t.slice(2);
  } else if (/^0[oO]/.test(t)) {
    base = 8;
    t = t.slice(2);
  }
  // strtoul: optional blanks and sign, then digits of the base (0x/0 prefixes when the base is 0).
  const m = /^[ \t\n\v\f\r]*([+-]?)(.*)$/s.exec(t);
  if (!m) return undefined;
  const sign = m[1] as string;
  let digits = m[2] as string;
  if (base === 0) {
    if (/^0[xX][0-9a-fA-F]/.test(digits)) {
      base = 16;
      digits = digits.slice(2);
    } else if (digits.startsWith('0')) base = 8;
    else base = 10;
  }
  const re = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!re.test(digits)) return undefined;
  const n = parseInt(digits, base);
  if (sign === '-' && n !== 0) return undefined;
  if (!Number.isFinite(n) || n > 65535 || n === 0) return undefined;
  return n;
}

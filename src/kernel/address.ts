import ipaddr from 'ipaddr.js';
import type { Family } from '../model/endpoint.js';

/**
 * Address predicates shared by the whole project. They encode how the Linux kernel classifies a local
 * address for bind(); nothing outside src/kernel may re-implement them.
 */

/** Thrown by {@link canonicalAddress} for text that is not an IPv4 or IPv6 literal. */
export class InvalidAddressError extends Error {
  constructor(readonly text: string) {
    super(`not an IP address: ${JSON.stringify(text)}`);
    this.name = 'InvalidAddressError';
  }
}

/** An address literal parsed once: the family of the literal (not of any socket), canonical text and bytes. */
export interface ParsedAddress {
  /** `inet` for a dotted quad, `inet6` for any IPv6 literal including `::ffff:a.b.c.d`. */
  family: Family;
  /** Canonical text: dotted quad, RFC 5952 IPv6, `::ffff:a.b.c.d` for v4-mapped, `%zone` kept. */
  text: string;
  /** 4 or 16 bytes in network order. */
  bytes: readonly number[];
  zone?: string;
}

function stripBrackets(text: string): string {
  const t = text.trim();
  return t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
}

/** Parses an address literal (`127.0.0.1`, `[::1]`, `::ffff:10.0.0.1`, `fe80::1%eth0`); undefined if it is not one. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const t = stripBrackets(text);
  // ipaddr.parse accepts "127.1" and octal forms like inet_aton does; bind() callers pass inet_pton text, so require
  // a strict dotted quad for IPv4 to avoid treating "010.0.0.1" as 8.0.0.1.
  if (!t.includes(':')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(t)) return undefined;
    const v4 = ipaddr.IPv4.parse(t);
    return { family: 'inet', text: v4.toString(), bytes: v4.toByteArray() };
  }
  if (!ipaddr.IPv6.isValid(t)) return undefined;
  const v6 = ipaddr.IPv6.parse(t);
  const zone = v6.zoneId;
  const base = v6.isIPv4MappedAddress()
    ? `::ffff:${v6.toIPv4Address().toString()}`
    : new ipaddr.IPv6(v6.parts).toRFC5952String();
  const out: ParsedAddress = { family: 'inet6', text: zone ? `${base}%${zone}` : base, bytes: v6.toByteArray() };
  if (zone) out.zone = zone;
  return out;
}

/** Canonical text of an address literal; throws {@link InvalidAddressError} when it is not one. */
export function canonicalAddress(text: string): string {
  const p = parseAddress(text);
  if (!p) throw new InvalidAddressError(text);
  return p.text;
}

/** Like {@link canonicalAddress} but returns undefined for bad input (readers turn that into a finding). */
export function tryCanonicalAddress(text: string): string | undefined {
  return parseAddress(text)?.text;
}

function mustParse(text: string): ParsedAddress {
  const p = parseAddress(text);
  if (!p) throw new InvalidAddressError(text);
  return p;
}

/** Family of an address literal (`::ffff:a.b.c.d` is `inet6`: only an AF_INET6 socket can bind it). */
export function addressFamily(text: string): Family {
  return mustParse(text).family;
}

function allZero(bytes: readonly number[], from = 0, to = bytes.length): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether a v6 literal is v4-mapped (`::ffff:0:0/96`, IPV6_ADDR_MAPPED in ipv6_addr_type()). */
export function isV4Mapped(text: string): boolean {
  const p = mustParse(text);
  return p.family === 'inet6' && allZero(p.bytes, 0, 10) && p.bytes[10] === 0xff && p.bytes[11] === 0xff;
}

/** The IPv4 address inside a v4-mapped literal, or the literal itself for IPv4; undefined for other IPv6. */
export function embeddedIPv4(text: string): string | undefined {
  const p = mustParse(text);
  if (p.family === 'inet') return p.text;
  if (!isV4Mapped(text)) return undefined;
  return p.bytes.slice(12).join('.');
}

/**
 * `0.0.0.0` or `::` — INADDR_ANY / IPV6_ADDR_ANY. `::ffff:0.0.0.0` is not: __inet6_bind() treats it as a mapped
 * address, although inet_use_bhash2_on_bind() then handles it like the IPv4 wildcard (see {@link claimsAllIPv4}).
 */
export function isWildcard(text: string): boolean {
  return allZero(mustParse(text).bytes);
}

/** Loopback: 127.0.0.0/8, ::1, and ::ffff:127.0.0.0/104 (the mapped form reaches the IPv4 loopback). */
export function isLoopback(text: string): boolean {
  const p = mustParse(text);
  if (p.family === 'inet6' && !isV4Mapped(text)) return allZero(p.bytes, 0, 15) && p.bytes[15] === 1;
  const v4 = embeddedIPv4(text);
  return v4 !== undefined && v4.startsWith('127.');
}

/** IPv4 224.0.0.0/4 or IPv6 ff00::/8 (mapped multicast counts as IPv4 multicast). */
export function isMulticast(text: string): boolean {
  const p = mustParse(text);
  if (p.family === 'inet6' && !isV4Mapped(text)) return p.bytes[0] === 0xff;
  const first = Number((embeddedIPv4(text) ?? '0').split('.')[0]);
  return first >= 224 && first <= 239;
}

/** IPv6 fe80::/10: __inet6_bind() requires a device (scope id or SO_BINDTODEVICE) for these. */
export function isLinkLocalV6(text: string): boolean {
  const p = mustParse(text);
  return p.family === 'inet6' && p.bytes[0] === 0xfe && ((p.bytes[1] ?? 0) & 0xc0) === 0x80;
}

/**
 * __ipv6_addr_needs_scope_id(): link-local unicast (fe80::/10) and interface- or link-local multicast (ff01::/16,
 * ff02::/16 and their flag variants) only make sense with an interface; __inet6_bind() rejects them without one.
 */
export function needsScopeId(text: string): boolean {
  const p = mustParse(text);
  if (p.family !== 'inet6' || isV4Mapped(p.text)) return false;
  if (isLinkLocalV6(p.text)) return true;
  const scope = (p.bytes[1] ?? 0) & 0x0f;
  return p.bytes[0] === 0xff && (scope === 1 || scope === 2);
}

/**
 * How the kernel sees a socket's bound address: the pair (sk_rcv_saddr, sk_v6_rcv_saddr) that
 * inet_rcv_saddr_equal() compares, plus ipv6_addr_type() of the v6 half.
 */
export interface KernelAddress {
  family: Family;
  text: string;
  /** sk_rcv_saddr as a dotted quad. For AF_INET6: the mapped IPv4, 0.0.0.0 for `::`, 127.0.0.6 (LOOPBACK4_IPV6) otherwise. */
  v4: string;
  /** ipv6_addr_type() class of sk_v6_rcv_saddr; `mapped` for AF_INET sockets (inet6_rcv_saddr() is NULL). */
  v6Type: 'any' | 'mapped' | 'other';
}

/** LOOPBACK4_IPV6: __inet6_bind() stores 127.0.0.6 in sk_rcv_saddr for a non-mapped, non-any IPv6 bind. */
export const LOOPBACK4_IPV6 = '127.0.0.6';

/** The kernel's view of `text` bound on a socket of `family` (the caller has checked the family fits). */
export function kernelAddress(family: Family, text: string): KernelAddress {
  const p = mustParse(text);
  if (family === 'inet') return { family, text: p.text, v4: p.text, v6Type: 'mapped' };
  if (allZero(p.bytes)) return { family, text: p.text, v4: '0.0.0.0', v6Type: 'any' };
  if (isV4Mapped(p.text)) return { family, text: p.text, v4: p.bytes.slice(12).join('.'), v6Type: 'mapped' };
  return { family, text: p.text, v4: LOOPBACK4_IPV6, v6Type: 'other' };
}

function v6Equal(a: KernelAddress, b: KernelAddress): boolean {
  return a.family === 'inet6' && b.family === 'inet6' && a.text === b.text;
}

/**
 * ipv4_rcv_saddr_equal(): an AF_INET socket's address against another socket's. An IPV6_V6ONLY holder never meets
 * an IPv4 socket; otherwise equal sk_rcv_saddr, or 0.0.0.0 on either side when wildcards match.
 */
function ipv4RcvSaddrEqual(v4a: string, v4b: string, bIpv6Only: boolean, wildA: boolean, wildB: boolean): boolean {
  if (bIpv6Only) return false;
  if (v4a === v4b) return true;
  return (wildA && v4a === '0.0.0.0') || (wildB && v4b === '0.0.0.0');
}

/** ipv6_rcv_saddr_equal(): `a` is an AF_INET6 socket's address; `b` may be AF_INET (then its v6 half is "mapped"). */
function ipv6RcvSaddrEqual(
  a: KernelAddress,
  b: KernelAddress,
  aIpv6Only: boolean,
  bIpv6Only: boolean,
  wildA: boolean,
  wildB: boolean,
): boolean {
  if (a.v6Type === 'mapped' && b.v6Type === 'mapped') {
    // Both mapped (or b is AF_INET): compared as IPv4.
    if (bIpv6Only) return false;
    if (a.v4 === b.v4) return true;
    return (wildA && a.v4 === '0.0.0.0') || (wildB && b.v4 === '0.0.0.0');
  }
  if (a.v6Type === 'any' && b.v6Type === 'any') return true;
  if (b.v6Type === 'any' && wildB && !(bIpv6Only && a.v6Type === 'mapped')) return true;
  if (a.v6Type === 'any' && wildA && !(aIpv6Only && b.v6Type === 'mapped')) return true;
  return v6Equal(a, b);
}

/**
 * inet_rcv_saddr_equal(sk, sk2, match_wildcard): do two sockets' bound addresses claim a common local address?
 * `aIpv6Only` / `bIpv6Only` are the *effective* sk_ipv6only: __inet6_bind() forces it on for a specific,
 * non-mapped IPv6 address (use {@link effectiveV6Only}).
 */
export function rcvSaddrEqual(
  a: KernelAddress,
  aIpv6Only: boolean,
  b: KernelAddress,
  bIpv6Only: boolean,
  matchWildcard = true,
): boolean {
  if (a.family === 'inet6') return ipv6RcvSaddrEqual(a, b, aIpv6Only, bIpv6Only, matchWildcard, matchWildcard);
  return ipv4RcvSaddrEqual(a.v4, b.v4, bIpv6Only, matchWildcard, matchWildcard);
}

/**
 * sk_ipv6only after bind(): IPV6_V6ONLY as set, but __inet6_bind() turns it on for any IPv6 address that is
 * neither `::` nor v4-mapped (such a socket can never receive IPv4).
 */
export function effectiveV6Only(family: Family, address: string, v6Only: boolean): boolean {
  if (family === 'inet') return false;
  const k = kernelAddress(family, address);
  return v6Only || k.v6Type === 'other';
}

/**
 * Whether a socket of family A bound to addrA and one of family B bound to addrB claim a common local address,
 * wildcards included (inet_rcv_saddr_equal(..., true)); the v6Only flags are IPV6_V6ONLY as set on each socket.
 * `0.0.0.0` covers every IPv4 address; `::` covers every IPv6 address and, unless V6ONLY, every IPv4 address
 * (and `::` always meets `::`, whatever V6ONLY says); `::ffff:a.b.c.d` is the IPv4 address a.b.c.d.
 */
export function addressesOverlap(
  famA: Family,
  addrA: string,
  v6OnlyA: boolean,
  famB: Family,
  addrB: string,
  v6OnlyB: boolean,
): boolean {
  return rcvSaddrEqual(
    kernelAddress(famA, addrA),
    effectiveV6Only(famA, addrA, v6OnlyA),
    kernelAddress(famB, addrB),
    effectiveV6Only(famB, addrB, v6OnlyB),
    true,
  );
}

/** Whether a socket bound to this address receives for every IPv4 address: 0.0.0.0, ::ffff:0.0.0.0, or `::` without V6ONLY. */
export function claimsAllIPv4(family: Family, address: string, v6Only: boolean): boolean {
  const k = kernelAddress(family, address);
  if (k.v6Type === 'any') return !v6Only;
  return k.v6Type === 'mapped' && k.v4 === '0.0.0.0';
}

/** How an address reads in a sentence: `0.0.0.0:25 (wildcard)`, `[::]:25 (dual-stack wildcard)`. */
export function describeAddress(family: Family, address: string, port: number, v6Only: boolean): string {
  const host = address.includes(':') ? `[${address}]` : address;
  const k = kernelAddress(family, address);
  if (k.v6Type === 'any' && family === 'inet6') {
    return v6Only ? `${host}:${port} (IPv6 wildcard, V6ONLY)` : `${host}:${port} (dual-stack wildcard)`;
  }
  if (k.v4 === '0.0.0.0' && k.v6Type === 'mapped') return `${host}:${port} (wildcard)`;
  return `${host}:${port}`;
}

/** A network namespace's own addresses, as the kernel's local tables hold them. */
export interface LocalAddresses {
  v4: ReadonlySet<string>;
  v6: ReadonlySet<string>;
}

/**
 * The local addresses from a list of literals (host facts: `/proc/net/fib_trie` LOCAL entries, `/proc/net/if_inet6`).
 * Only single addresses count, as in the kernel's local table; `::1` is always there. An entry that is not an address
 * literal (the `127.0.0.0/8` marker of the assumed defaults) adds nothing: 127.0.0.0/8 is local anyway.
 */
export function localAddressSet(list: readonly string[]): LocalAddresses {
  const v4 = new Set<string>();
  const v6 = new Set<string>(['::1']);
  for (const a of list) {
    const p = parseAddress(a);
    if (p) (p.family === 'inet' ? v4 : v6).add(p.text);
  }
  return { v4, v6 };
}

/**
 * inet_addr_type() == RTN_LOCAL for IPv4 (all of 127.0.0.0/8 through the loopback route) or ipv6_chk_addr() for IPv6,
 * on canonical text (parseAddress().text): whether bind() without IP_FREEBIND or ip_nonlocal_bind can use it.
 */
export function isLocalIn(local: LocalAddresses, canonical: string): boolean {
  if (!canonical.includes(':')) return canonical.startsWith('127.') || local.v4.has(canonical);
  return local.v6.has(canonical);
}

/** {@link isLocalIn} for any address literal and a list of local addresses; false for text that is no address. */
export function isLocalAddress(address: string, list: readonly string[]): boolean {
  const p = parseAddress(address);
  return p !== undefined && isLocalIn(localAddressSet(list), p.text);
}

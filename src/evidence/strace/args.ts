import { tryCanonicalAddress } from '../../kernel/index.js';
/**
 * strace's argument syntax for the calls bindcheck follows: splitting an argument list at top-level commas,
 * file descriptors with their `-y`/`-yy` decorations, socket() arguments and socket addresses. Pure functions;
 * none of them throws on odd input (they return undefined instead).
 */

/** Splits `4, {sa_family=AF_INET, …}, 16` at top-level commas; strings, brackets and comments are respected. */
export function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let cur = '';
  for (let i = 0; i < args.length; i++) {
    const c = args[i] as string;
    if (inStr) {
      cur += c;
      if (c === '\\') cur += args[++i] ?? '';
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '/' && args[i + 1] === '*') {
      // strace annotations such as `/* 2 entries */`
      const end = args.indexOf('*/', i + 2);
      i = end < 0 ? args.length : end + 1;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth = Math.max(0, depth - 1);
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** What `-y`/`-yy` print after an fd: `4<TCP:[1234]>`, `4<socket:[1234]>`, `4<TCPv6:[[::1]:25]>`. */
export interface FdTag {
  /** `TCP`, `TCPv6`, `UDP`, `UDPv6`, `UNIX`, `socket`, `NETLINK`, or a path for files. */
  kind: string;
  /** The socket inode when the tag shows one (`[1234]`). */
  inode?: number;
  /** The rest of the tag, raw (`127.0.0.1:25`, `1234->1235`). */
  detail: string;
}

export interface FdArg {
  fd: number;
  tag?: FdTag;
}

/** `4`, `4<TCP:[1234]>`, `4</dev/null>`; undefined for anything else (`AT_FDCWD`, `-1`, garbage). */
export function parseFdArg(text: string): FdArg | undefined {
  const m = /^(\d{1,9})(?:<(.*)>)?$/s.exec(text.trim());
  if (!m) return undefined;
  const fd = Number(m[1]);
  const tagText = m[2];
  if (tagText === undefined) return { fd };
  const t = /^([A-Za-z0-9_-]+):\[(.*)\]$/s.exec(tagText);
  if (!t) return { fd, tag: { kind: tagText, detail: '' } };
  const detail = t[2] ?? '';
  const tag: FdTag = { kind: t[1] ?? '', detail };
  if (/^\d+$/.test(detail)) tag.inode = Number(detail);
  return { fd, tag };
}

export type SocketKind =
  | { domain: 'inet' | 'inet6'; proto: 'tcp' | 'udp' }
  | { domain: 'unix' | 'netlink' | 'packet' | 'inet' | 'inet6' | 'other'; proto: 'other' };

const DOMAINS: Record<string, 'inet' | 'inet6' | 'unix' | 'netlink' | 'packet'> = {
  AF_INET: 'inet',
  PF_INET: 'inet',
  '2': 'inet',
  AF_INET6: 'inet6',
  PF_INET6: 'inet6',
  '10': 'inet6',
  AF_UNIX: 'unix',
  PF_UNIX: 'unix',
  AF_LOCAL: 'unix',
  PF_LOCAL: 'unix',
  '1': 'unix',
  AF_NETLINK: 'netlink',
  PF_NETLINK: 'netlink',
  AF_PACKET: 'packet',
  PF_PACKET: 'packet',
};

/**
 * socket(domain, type, protocol) → what the kernel model can reason about. TCP is SOCK_STREAM with protocol 0,
 * IPPROTO_IP or IPPROTO_TCP (IPPROTO_SCTP/MPTCP are other protocols with their own port tables); UDP likewise
 * SOCK_DGRAM with 0/IPPROTO_IP/IPPROTO_UDP.
 */
export function socketKind(domainArg: string, typeArg: string, protoArg: string): SocketKind {
  const domain = DOMAINS[domainArg.trim()] ?? 'other';
  const types = typeArg.split('|').map((s) => s.trim());
  const proto = protoArg.trim();
  if (domain === 'inet' || domain === 'inet6') {
    const generic = proto === '0' || proto === 'IPPROTO_IP';
    if (types.includes('SOCK_STREAM') && (generic || proto === 'IPPROTO_TCP' || proto === '6')) return { domain, proto: 'tcp' };
    if (types.includes('SOCK_DGRAM') && (generic || proto === 'IPPROTO_UDP' || proto === '17')) return { domain, proto: 'udp' };
  }
  return { domain, proto: 'other' };
}

/** Whether socket()'s type argument carries SOCK_CLOEXEC. */
export function hasCloexec(typeArg: string): boolean {
  return /\b(?:SOCK_CLOEXEC|O_CLOEXEC)\b/.test(typeArg);
}

/** The family and proto a `-y` tag names (`TCPv6` → tcp/inet6); undefined for other kinds. */
export function tagKind(tag: FdTag | undefined): { domain: 'inet' | 'inet6' | 'unix'; proto: 'tcp' | 'udp' | 'other' } | undefined {
  switch (tag?.kind) {
    case 'TCP':
      return { domain: 'inet', proto: 'tcp' };
    case 'TCPv6':
      return { domain: 'inet6', proto: 'tcp' };
    case 'UDP':
      return { domain: 'inet', proto: 'udp' };
    case 'UDPv6':
      return { domain: 'inet6', proto: 'udp' };
    case 'UNIX':
    case 'UNIX-STREAM':
    case 'UNIX-DGRAM':
      return { domain: 'unix', proto: 'other' };
    default:
      return undefined;
  }
}

export type SockAddr =
  | { family: 'inet' | 'inet6'; address: string; port: number; flowInfo?: number; scopeId?: string }
  | { family: 'unix'; path: string }
  | { family: 'other'; raw: string };

/**
 * A sockaddr as strace prints it:
 * `{sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}`,
 * `{sa_family=AF_INET6, sin6_port=htons(25), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}`,
 * older `sin6_addr=inet_pton(AF_INET6, "::")` / `sin6_flowinfo=0`, `sin6_scope_id=if_nametoindex("eth0")`,
 * `{sa_family=AF_UNIX, sun_path="/run/x"}`. The address text is returned as printed (not canonicalised: that is
 * the kernel model's job). Undefined when the text is not a sockaddr at all or lacks the address or port.
 */
export function parseSockAddr(text: string): SockAddr | undefined {
  const fam = /sa_family=([A-Z_0-9]+)/.exec(text)?.[1];
  if (!fam) return undefined;
  const family = DOMAINS[fam];
  if (family === 'inet') {
    const port = /sin_port=htons\((\d{1,5})\)/.exec(text)?.[1];
    const addr = /sin_addr=inet_addr\("([^"]*)"\)/.exec(text)?.[1];
    if (port === undefined || addr === undefined || Number(port) > 65535) return undefined;
    // A mangled address (a damaged trace) is not a sockaddr the kernel model can judge.
    if (tryCanonicalAddress(addr) === undefined || addr.includes(':')) return undefined;
    return { family, address: addr, port: Number(port) };
  }
  if (family === 'inet6') {
    const port = /sin6_port=htons\((\d{1,5})\)/.exec(text)?.[1];
    const addr =
      /inet_pton\(AF_INET6,\s*"([^"]*)"/.exec(text)?.[1] ?? /sin6_addr=(?:inet6_addr\()?"([^"]*)"/.exec(text)?.[1];
    if (port === undefined || addr === undefined || Number(port) > 65535) return undefined;
    if (tryCanonicalAddress(addr) === undefined || !addr.includes(':')) return undefined;
    const out: SockAddr = { family, address: addr, port: Number(port) };
    const flow = /sin6_flowinfo=(?:htonl\()?(\d+)/.exec(text)?.[1];
    if (flow !== undefined) out.flowInfo = Number(flow);
    const scope = /sin6_scope_id=(?:if_nametoindex\("([^"]*)"\)|(\d+))/.exec(text);
    const scopeId = scope?.[1] ?? scope?.[2];
    if (scopeId !== undefined && scopeId !== '0') out.scopeId = scopeId;
    return out;
  }
  if (family === 'unix') {
    const p = /sun_path=(@?"(?:[^"\\]|\\.)*")/.exec(text)?.[1];
    return { family, path: p ?? '' };
  }
  return { family: 'other', raw: text };
}

/** An integer option value: `[1]`, `[0]`, `1`; undefined when not an integer. */
export function intOptionValue(text: string): number | undefined {
  const m = /^\[?\s*(-?\d+)\s*\]?$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** SO_BINDTODEVICE's value: `"eth0\0"` / `"eth0"` → `eth0`; `""` / `NULL` → '' (unbinds). */
export function deviceOptionValue(text: string): string | undefined {
  const t = text.trim();
  if (t === 'NULL') return '';
  const m = /^"((?:[^"\\]|\\.)*)"(?:\.\.\.)?$/.exec(t);
  if (!m) return undefined;
  return (m[1] ?? '').replace(/\\0+$/, '').replace(/\\0.*$/, '');
}

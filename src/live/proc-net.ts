import type { Family, Proto } from '../model/endpoint.js';
import type { TcpState } from '../model/live.js';

/**
 * A scanner for /proc/net/{tcp,tcp6,udp,udp6}. The files can be tens of megabytes on a busy host (one ~150-byte
 * row per socket), so this walks the Buffer byte by byte instead of splitting lines or running a regex per row,
 * and it interns address text (a host has few distinct local addresses and hundreds of thousands of rows).
 *
 * Row format (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock, udp.c udp4_format_sock):
 *   sl: LOCAL:PORT REMOTE:PORT ST TXQ:RXQ TR:WHEN RETRNSMT UID TIMEOUT INODE ...
 * Addresses are the in-kernel __be32 words printed with %08X, i.e. in host byte order: each 32-bit word of an
 * address must be byte-swapped on a little-endian host.
 */

/** Numbered as in include/net/tcp_states.h. UDP reuses them: 07 CLOSE = bound, unconnected; 01 = connected. */
export const TCP_STATES: readonly TcpState[] = [
  'ESTABLISHED', // placeholder for index 0, never printed by the kernel
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
];

export const STATE_LISTEN = 0x0a;
export const STATE_CLOSE = 0x07;

/** One parsed row, before owners are attached. */
export interface ProcNetRow {
  proto: Proto;
  family: Family;
  address: string;
  port: number;
  remoteAddress: string;
  remotePort: number;
  state: TcpState;
  stateCode: number;
  uid: number;
  inode: number;
  /** 1-based line in the file (the header is line 1). */
  line: number;
}

export interface ParseOptions {
  proto: Proto;
  family: Family;
  /** Keep only rows in these numeric states; undefined keeps every row. */
  onlyState?: number;
  /** Byte order of the host that wrote the file; /proc prints addresses in that order. */
  littleEndian: boolean;
}

const SPACE = 0x20;
const NL = 0x0a;
const COLON = 0x3a;

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parse every row of one /proc/net file. Malformed rows are skipped (the kernel never writes them). */
export function parseProcNet(buf: Buffer, opts: ParseOptions): ProcNetRow[] {
  const rows: ProcNetRow[] = [];
  const addrLen = opts.family === 'inet' ? 8 : 32;
  const cache = new Map<string, string>();
  const len = buf.length;
  // Skip the header line.
  let i = buf.indexOf(NL);
  if (i < 0) return rows;
  i++;
  let line = 1;
  while (i < len) {
    line++;
    const eol0 = buf.indexOf(NL, i);
    const eol = eol0 < 0 ? len : eol0;
    const row = parseRow(buf, i, eol, addrLen, opts, cache, line);
    if (row) rows.push(row);
    i = eol + 1;
  }
  return rows;
}

function skipSpaces(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] === SPACE) i++;
  return i;
}

function readHex(buf: Buffer, i: number, end: number): [value: number, next: number] {
  let v = 0;
  let n = 0;
  while (i < end) {
    const h = hexVal(buf[i] as number);
    if (h < 0) break;
    v = v * 16 + h;
    i++;
    n++;
  }
  return [n === 0 ? -1 : v, i];
}

function readDec(buf: Buffer, i: number, end: number): [value: number, next: number] {
  let v = 0;
  let n = 0;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
    n++;
  }
  return [n === 0 ? -1 : v, i];
}

/** Skip one whitespace-separated field. */
function skipField(buf: Buffer, i: number, end: number): number {
  i = skipSpaces(buf, i, end);
  while (i < end && buf[i] !== SPACE) i++;
  return i;
}

function parseRow(
  buf: Buffer,
  start: number,
  end: number,
  addrLen: number,
  opts: ParseOptions,
  cache: Map<string, string>,
  line: number,
): ProcNetRow | undefined {
  let i = skipField(buf, start, end); // "sl:"
  i = skipSpaces(buf, i, end);
  const local = i;
  i += addrLen;
  if (i >= end || buf[i] !== COLON) return undefined;
  const [port, p1] = readHex(buf, i + 1, end);
  i = skipSpaces(buf, p1, end);
  const remote = i;
  i += addrLen;
  if (i >= end || buf[i] !== COLON) return undefined;
  const [remotePort, p2] = readHex(buf, i + 1, end);
  i = skipSpaces(buf, p2, end);
  const [st, p3] = readHex(buf, i, end);
  if (st < 0 || port < 0 || remotePort < 0) return undefined;
  if (opts.onlyState !== undefined && st !== opts.onlyState) return undefined;
  i = skipField(buf, p3, end); // tx_queue:rx_queue
  i = skipField(buf, i, end); // tr:tm->when
  i = skipField(buf, i, end); // retrnsmt
  const [uid, p4] = readDec(buf, skipSpaces(buf, i, end), end);
  i = skipField(buf, p4, end); // timeout
  const [inode] = readDec(buf, skipSpaces(buf, i, end), end);
  if (uid < 0 || inode < 0) return undefined;
  return {
    proto: opts.proto,
    family: opts.family,
    address: addressText(buf, local, addrLen, opts.littleEndian, cache),
    port,
    remoteAddress: addressText(buf, remote, addrLen, opts.littleEndian, cache),
    remotePort,
    state: TCP_STATES[st] ?? 'CLOSE',
    stateCode: st,
    uid,
    inode,
    line,
  };
}

function addressText(buf: Buffer, at: number, n: number, le: boolean, cache: Map<string, string>): string {
  const key = buf.toString('latin1', at, at + n);
  let text = cache.get(key);
  if (text === undefined) {
    text = n === 8 ? hexToIPv4(key, le) : hexToIPv6(key, le);
    cache.set(key, text);
  }
  return text;
}

/** Bytes of one %08X word in network order. */
function wordBytes(hex: string, le: boolean): number[] {
  const b = [0, 1, 2, 3].map((k) => parseInt(hex.slice(k * 2, k * 2 + 2), 16));
  return le ? b.reverse() : b;
}

/** `0100007F` (little-endian host) → `127.0.0.1`. */
export function hexToIPv4(hex: string, littleEndian: boolean): string {
  return wordBytes(hex, littleEndian).join('.');
}

/** 32 hex digits as four host-order words → canonical RFC 5952 text, `::ffff:a.b.c.d` for v4-mapped. */
export function hexToIPv6(hex: string, littleEndian: boolean): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8), littleEndian));
  return ipv6Text(bytes);
}

/** Canonical text of 16 network-order bytes (RFC 5952: lower case, longest zero run compressed, v4-mapped dotted). */
export function ipv6Text(bytes: number[]): string {
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push(((bytes[g * 2] as number) << 8) | (bytes[g * 2 + 1] as number));
  const v4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (v4Mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  // Longest run of two or more zero groups; the first one wins a tie (RFC 5952 4.2.3).
  let bestStart = -1;
  let bestLen = 1;
  for (let g = 0; g < 8; ) {
    if (groups[g] !== 0) {
      g++;
      continue;
    }
    let e = g;
    while (e < 8 && groups[e] === 0) e++;
    if (e - g > bestLen) {
      bestStart = g;
      bestLen = e - g;
    }
    g = e;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

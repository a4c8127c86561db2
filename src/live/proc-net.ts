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
  scanProcNet(buf, opts, (address, port, remoteAddress, remotePort, stateCode, uid, inode, line) => {
    rows.push({ proto: opts.proto, family: opts.family, address, port, remoteAddress, remotePort, state: TCP_STATES[stateCode] ?? 'CLOSE', stateCode, uid, inode, line });
  });
  return rows;
}

/** What scanProcNet hands over per row: plain values, so a caller can build its own object without a row in between. */
export type ProcNetVisitor = (address: string, port: number, remoteAddress: string, remotePort: number, stateCode: number, uid: number, inode: number, line: number) => void;

/**
 * The scanner behind parseProcNet: calls `visit` for every well-formed row (in `onlyState`, when given). A host
 * with 100k sockets has 100k rows; building no intermediate object per row keeps the garbage collector out of it.
 */
export function scanProcNet(buf: Buffer, opts: ParseOptions, visit: ProcNetVisitor): void {
  const addrLen = opts.family === 'inet' ? 8 : 32;
  const cache = new AddressCache(opts.littleEndian);
  const len = buf.length;
  // Skip the header line.
  let i = buf.indexOf(NL);
  if (i < 0) return;
  i++;
  let line = 1;
  while (i < len) {
    line++;
    const eol0 = buf.indexOf(NL, i);
    const eol = eol0 < 0 ? len : eol0;
    parseRow(buf, i, eol, addrLen, opts.onlyState, cache, line, visit);
    i = eol + 1;
  }
}

function skipSpaces(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] === SPACE) i++;
  return i;
}

/** Skip one whitespace-separated field. */
function skipField(buf: Buffer, i: number, end: number): number {
  i = skipSpaces(buf, i, end);
  while (i < end && buf[i] !== SPACE) i++;
  return i;
}

// readHex/readDec leave the position here instead of returning a tuple (an array per field was the parser's cost).
let next = 0;

function readHex(buf: Buffer, i: number, end: number): number {
  let v = 0;
  const start = i;
  while (i < end) {
    const h = hexVal(buf[i] as number);
    if (h < 0) break;
    v = v * 16 + h;
    i++;
  }
  next = i;
  return i === start ? -1 : v;
}

function readDec(buf: Buffer, i: number, end: number): number {
  let v = 0;
  const start = i;
  while (i < end) {
    const c = buf[i] as number;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
  }
  next = i;
  return i === start ? -1 : v;
}

function parseRow(buf: Buffer, start: number, end: number, addrLen: number, onlyState: number | undefined, cache: AddressCache, line: number, visit: ProcNetVisitor): void {
  let i = skipField(buf, start, end); // "sl:"
  i = skipSpaces(buf, i, end);
  const local = i;
  i += addrLen;
  if (i >= end || buf[i] !== COLON) return;
  const port = readHex(buf, i + 1, end);
  i = skipSpaces(buf, next, end);
  const remote = i;
  i += addrLen;
  if (i >= end || buf[i] !== COLON) return;
  const remotePort = readHex(buf, i + 1, end);
  i = skipSpaces(buf, next, end);
  const st = readHex(buf, i, end);
  if (st < 0 || port < 0 || remotePort < 0) return;
  if (onlyState !== undefined && st !== onlyState) return;
  i = skipField(buf, next, end); // tx_queue:rx_queue
  i = skipField(buf, i, end); // tr:tm->when
  i = skipField(buf, i, end); // retrnsmt
  const uid = readDec(buf, skipSpaces(buf, i, end), end);
  i = skipField(buf, next, end); // timeout
  const inode = readDec(buf, skipSpaces(buf, i, end), end);
  if (uid < 0 || inode < 0) return;
  visit(cache.text(buf, local, addrLen), port, cache.text(buf, remote, addrLen), remotePort, st, uid, inode, line);
}

/**
 * Address text, interned: a host has few distinct addresses and up to millions of rows. An IPv4 address is keyed by
 * its 32-bit value (no string per row); anything else, or hex the kernel would never print, by its text.
 */
class AddressCache {
  private readonly v4 = new Map<number, string>();
  private readonly other = new Map<string, string>();
  constructor(private readonly le: boolean) {}

  text(buf: Buffer, at: number, n: number): string {
    if (n === 8) {
      let v = 0;
      for (let k = 0; k < 8; k++) {
        const h = hexVal(buf[at + k] as number);
        if (h < 0) return this.slow(buf, at, n);
        v = v * 16 + h;
      }
      let text = this.v4.get(v);
      if (text === undefined) this.v4.set(v, (text = hexToIPv4(buf.toString('latin1', at, at + 8), this.le)));
      return text;
    }
    return this.slow(buf, at, n);
  }

  private slow(buf: Buffer, at: number, n: number): string {
    const key = buf.toString('latin1', at, at + n);
    let text = this.other.get(key);
    if (text === undefined) this.other.set(key, (text = n === 8 ? hexToIPv4(key, this.le) : hexToIPv6(key, this.le)));
    return text;
  }
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

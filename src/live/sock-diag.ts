import type { Family, Proto } from '../model/endpoint.js';
import type { NativeModule } from './native-scan.js';
import { ipv6Text, type ProcNetVisitor } from './proc-net.js';

/**
 * The live socket table over NETLINK_SOCK_DIAG (the native module's diag(), what `ss` reads) instead of
 * /proc/net/{tcp,tcp6,udp,udp6}. The rows are the ones the files print — the same kernel tables, one socket
 * family each — but the kernel formats no text, and when only listening sockets are asked for it does not walk
 * the established hash at all (reading /proc/net/tcp walks all of it, a page of text per read()). Only for the
 * live root: a netlink socket describes the caller's own network namespace, as /proc/net does.
 */
export type DiagOutcome = { ok: true; rows: number } | { ok: false; code: string };

const PROTO_NUMBER: Record<Proto, 6 | 17> = { tcp: 6, udp: 17 };

/** Every TCP state bit (include/net/tcp_states.h numbers 1..12; TIME_WAIT and NEW_SYN_RECV included). */
export const ALL_STATES = 0x1ffe;

/** One table's dump, not yet turned into rows (see visitDiagTable). */
export interface DiagDump {
  proto: Proto;
  family: Family;
  rows: Float64Array;
  addrs: Buffer;
}

/**
 * Dump one table: the sockets in `states` (a mask of 1 << state). A failure (no diag module for the protocol,
 * netlink refused in a sandbox) is returned, not thrown: the caller reads the /proc file instead.
 */
export function dumpDiagTable(mod: NativeModule, proto: Proto, family: Family, states: number): DiagDump | { code: string } {
  if (typeof mod.diag !== 'function') return { code: 'ENOSYS' };
  try {
    const { rows, addrs } = mod.diag(family === 'inet' ? 4 : 6, PROTO_NUMBER[proto], states);
    return { proto, family, rows, addrs };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'EIO' };
  }
}

/** The dump's socket inodes (0 for TIME_WAIT and request sockets, which no process holds). */
export function diagInodes(dump: DiagDump, into: Set<number>): void {
  for (let i = 2; i < dump.rows.length; i += 5) {
    const inode = dump.rows[i] as number;
    if (inode !== 0) into.add(inode);
  }
}

/** Hand every socket of a dump to `visit` with line 0: a dump has no line numbers, so a row cites its whole table. */
export function visitDiagTable(dump: DiagDump, visit: ProcNetVisitor): number {
  const { rows, addrs } = dump;
  const names = new AddressNames(dump.family);
  const n = rows.length / 5;
  for (let k = 0; k < n; k++) {
    const i = k * 5;
    const a = k * 32;
    visit(names.text(addrs, a), rows[i + 3] as number, names.text(addrs, a + 16), rows[i + 4] as number, rows[i] as number, rows[i + 1] as number, rows[i + 2] as number, 0);
  }
  return n;
}

/** dumpDiagTable then visitDiagTable. */
export function readDiagTable(mod: NativeModule, proto: Proto, family: Family, states: number, visit: ProcNetVisitor): DiagOutcome {
  const dump = dumpDiagTable(mod, proto, family, states);
  if ('code' in dump) return { ok: false, code: dump.code };
  return { ok: true, rows: visitDiagTable(dump, visit) };
}

/** Address text from 16 network-order bytes, interned (a host has few addresses and up to millions of sockets). */
class AddressNames {
  private readonly seen = new Map<number | string, string>();
  constructor(private readonly family: Family) {}

  text(buf: Buffer, at: number): string {
    const key = this.family === 'inet' ? buf.readUInt32BE(at) : buf.toString('latin1', at, at + 16);
    let text = this.seen.get(key);
    if (text === undefined) {
      const bytes = Array.from(buf.subarray(at, at + (this.family === 'inet' ? 4 : 16)));
      text = this.family === 'inet' ? bytes.join('.') : ipv6Text(bytes);
      this.seen.set(key, text);
    }
    return text;
  }
}

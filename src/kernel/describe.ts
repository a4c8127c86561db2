import type { Family, Proto } from '../model/endpoint.js';
import { describeAddress, isWildcard, kernelAddress } from './address.js';
import type { SimSocketState, Tristate } from './types.js';

/** What {@link describeConflict} needs to know about each side. A SimSocket plus an address/port fits. */
export interface ConflictParty {
  proto: Proto;
  family: Family;
  address: string;
  port: number;
  reuseAddr: Tristate;
  reusePort: Tristate;
  v6Only: Tristate;
  uid: number;
  state: SimSocketState;
  label?: string;
}

function name(p: ConflictParty): string {
  const where = describeAddress(p.family, p.address, p.port, p.v6Only === true);
  return p.label ? `${p.label} (${where})` : where;
}

function covers(p: ConflictParty): boolean {
  const k = kernelAddress(p.family, p.address);
  return isWildcard(p.address) || (k.v6Type === 'mapped' && k.v4 === '0.0.0.0');
}

/** The overlap half of the sentence: who covers whom. */
function overlap(a: ConflictParty, b: ConflictParty): string {
  const aw = covers(a);
  const bw = covers(b);
  if (bw && !aw) return `${name(b)} covers ${name(a)}`;
  if (aw && !bw) return `${name(a)} covers ${name(b)}`;
  if (a.address === b.address && a.family === b.family) return `${name(a)} and ${name(b)} claim the same address`;
  return `${name(a)} and ${name(b)} overlap`;
}

function flag(v: Tristate, what: string): string {
  return v === 'unknown' ? `${what} unknown` : v ? `${what} set` : `${what} not set`;
}

/** Why the options did not let the two share, for TCP (inet_bind_conflict()). */
function tcpWhy(a: ConflictParty, b: ConflictParty): string {
  const holderListens = b.state === 'listening';
  if (a.reusePort === true && b.reusePort === true && a.uid !== b.uid && b.state !== 'time-wait') {
    return `both set SO_REUSEPORT but it only shares a port between sockets of one uid (uid ${a.uid} vs ${b.uid})`;
  }
  if (a.reuseAddr !== false && b.reuseAddr !== false && holderListens) {
    return 'the holder is listening, so SO_REUSEADDR does not help';
  }
  const missing: string[] = [];
  if (a.reuseAddr !== true) missing.push(`the new socket has ${flag(a.reuseAddr, 'SO_REUSEADDR')}`);
  if (b.reuseAddr !== true) missing.push(`the holder has ${flag(b.reuseAddr, 'SO_REUSEADDR')}`);
  const tail = holderListens ? ' (and against a listening holder it would not help anyway)' : '';
  return `sharing needs SO_REUSEADDR on both, but ${missing.join(' and ')}${tail}`;
}

/** Why UDP refused (udp_lib_lport_inuse()). */
function udpWhy(a: ConflictParty, b: ConflictParty): string {
  if (a.reusePort === true && b.reusePort === true && a.uid !== b.uid) {
    return `both set SO_REUSEPORT but it only shares a port between sockets of one uid (uid ${a.uid} vs ${b.uid})`;
  }
  return `UDP shares a port only when both set SO_REUSEADDR, or both set SO_REUSEPORT under one uid (new socket: ${flag(a.reuseAddr, 'SO_REUSEADDR')}, ${flag(a.reusePort, 'SO_REUSEPORT')}; holder: ${flag(b.reuseAddr, 'SO_REUSEADDR')}, ${flag(b.reusePort, 'SO_REUSEPORT')})`;
}

/**
 * One sentence naming the kernel rule that makes `a` (the socket being bound or put to listen) collide with `b`
 * (the holder), e.g. "0.0.0.0:25 (wildcard) covers 127.0.0.1:25, and the holder is listening, so SO_REUSEADDR
 * does not help." Pure: it reads only the two descriptions.
 */
export function describeConflict(a: ConflictParty, b: ConflictParty): string {
  const holderState = b.state === 'time-wait' ? ' (in TIME_WAIT)' : b.state === 'established' ? ' (a connection)' : '';
  const why = a.proto === 'tcp' ? tcpWhy(a, b) : udpWhy(a, b);
  return `${overlap(a, b)}${holderState}, and ${why}.`;
}

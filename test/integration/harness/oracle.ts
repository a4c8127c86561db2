import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ExtraLiveSocket } from '../../../src/run.js';
import type { PortHolderSpec } from './namespace.js';
import type { NetSocketAttempt } from './strace.js';

/** `98` → `EADDRINUSE`; a name stays a name. strace prints names, the harness's helpers may print numbers. */
export function errnoName(e: string | number): string {
  if (typeof e === 'string') return e;
  const hit = Object.entries(osConstants.errno).find(([, n]) => n === e);
  return hit ? hit[0] : String(e);
}

/**
 * Run each scenario's real daemon once, however many tests look at it: the first call starts it, later calls
 * share the same promise (scenarios run concurrently, each in its own namespace).
 */
export function observeOnce<S extends { id: string }, O>(run: (sc: S) => Promise<O>): (sc: S) => Promise<O> {
  const seen = new Map<string, Promise<O>>();
  return (sc) => {
    let p = seen.get(sc.id);
    if (!p) {
      p = run(sc);
      seen.set(sc.id, p);
    }
    return p;
  };
}

/** `ok`, `unknown` (bound, never listened), or `bind EADDRINUSE`: one traced attempt's outcome in a word or two. */
export function describeOutcome(a: NetSocketAttempt): string {
  const o = a.outcome;
  if (o.ok === true) return 'ok';
  if (o.ok === 'unknown') return 'unknown';
  return `${o.call} ${o.errno}`;
}

/** One line of a scenario summary: who bound what, with which options, and how it went. */
export function attemptLine(a: NetSocketAttempt): string {
  const s = a.socket;
  const opts = s.options.map((x) => `${x.name}=${x.value}`).join(' ');
  return `pid ${s.pid} fd ${s.fd} ${a.proto}/${a.family} ${a.address}:${a.port} [${opts}] -> ${describeOutcome(a)}`;
}

/**
 * A scenario's port holders as the live sockets scan() is told about: what /proc would show of them, plus the
 * options the harness knows it set (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY) and /proc cannot show.
 */
export function holdersAsLive(holders: readonly PortHolderSpec[] | undefined): ExtraLiveSocket[] {
  return (holders ?? []).map((h) => ({
    proto: h.proto,
    family: h.family,
    address: h.address,
    port: h.port,
    state: h.proto === 'tcp' && h.listen !== false ? 'LISTEN' : 'CLOSE',
    reuseAddr: Boolean(h.reuseAddr),
    reusePort: Boolean(h.reusePort),
    ...(h.v6Only !== undefined ? { v6Only: h.v6Only } : {}),
  }));
}

/** A socket the real daemon created, as a recorded scenario.json lists it (RECORD=1). */
export interface RecordedSocket {
  /** undefined when strace ran without -f pids (a single process). */
  pid: number | undefined;
  fd: number;
  proto: string;
  family: string;
  address: string;
  port: number;
  options: string[];
  outcome: NetSocketAttempt['outcome'];
}

/** The attempts of a run in the recorded form, every socket option with what the kernel answered. */
export function recordedSockets(attempts: readonly NetSocketAttempt[]): RecordedSocket[] {
  return attempts.map((a) => ({
    pid: a.socket.pid,
    fd: a.socket.fd,
    proto: a.proto,
    family: a.family,
    address: a.address,
    port: a.port,
    options: a.socket.options.map((x) => `${x.level} ${x.name} ${x.value} = ${x.result}`),
    outcome: a.outcome,
  }));
}

/** A file's non-empty lines; none when it cannot be read (the daemon never wrote it). */
export function readLines(p: string): string[] {
  try {
    return readFileSync(p, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

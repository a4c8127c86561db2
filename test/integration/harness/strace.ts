/**
 * The integration tests' view of a trace, as thin adapters over bindcheck's own strace reader
 * (src/evidence/strace: parse → sockets), so the project has one strace parser. The shapes here are the ones the
 * oracle tests were written against: calls with their line, sockets with their setsockopt list and last
 * bind()/listen(), and "first start attempt" helpers.
 *
 * Calls are in order of completion (a split `<unfinished ...>` call sits where it resumed; `line` is where it
 * started). A pid is the one strace printed, or the only live process's for unprefixed lines.
 */
import {
  type ParsedStrace,
  type RebuiltSocket,
  parseSockAddr as parseProductSockAddr,
  parseStrace as parseProductStrace,
  rebuildSockets,
} from '../../../src/evidence/strace/index.js';

export type SockFamily = 'inet' | 'inet6' | 'unix' | 'netlink' | 'other';

export interface TraceCall {
  /** Line number (1-based) in the trace text where the call (or its `<unfinished ...>` half) starts. */
  line: number;
  /** Process id as strace printed it; `undefined` when the trace has no pid prefixes. */
  pid: number | undefined;
  /** `HH:MM:SS.micro` as printed (or epoch seconds with -ttt); `undefined` without -t. */
  time: string | undefined;
  syscall: string;
  /** Raw argument text, joined across unfinished/resumed halves. */
  args: string;
  /** Return value as a number (`-1` on error), `undefined` for `= ?`. */
  result: number | undefined;
  /** `EADDRINUSE`… when the call failed. */
  errno: string | undefined;
  /** strace's text after the errno, e.g. `Address already in use`. */
  errnoText: string | undefined;
}

export interface TraceExit {
  line: number;
  pid: number | undefined;
  time: string | undefined;
  /** Exit status, or undefined when killed. */
  code: number | undefined;
  signal: string | undefined;
}

export interface ParsedTrace {
  calls: TraceCall[];
  exits: TraceExit[];
  /** The product parser's result, which socketsFromTrace() rebuilds sockets from. */
  product: ParsedStrace;
}

export function parseStrace(text: string): ParsedTrace {
  const product = parseProductStrace(text, 'strace.txt');
  const calls: TraceCall[] = [];
  const exits: TraceExit[] = [];
  for (const e of product.events) {
    if (e.kind === 'call') {
      calls.push({
        line: e.source.line,
        pid: e.pid,
        time: e.time,
        syscall: e.syscall,
        args: e.args,
        result: e.result,
        errno: e.errno,
        errnoText: e.errnoText,
      });
    } else if (e.kind === 'exit') {
      exits.push({ line: e.source.line, pid: e.pid, time: e.time, code: e.status, signal: e.signal });
    }
  }
  return { calls, exits, product };
}

// ---------------------------------------------------------------------------------------------------------
// Sockets

export interface SockAddr {
  family: SockFamily;
  /** Canonical text for inet/inet6 (`0.0.0.0`, `::`, `::1`); the path for unix. */
  address: string;
  port: number | undefined;
}

export interface TracedSocket {
  /** Order of creation in the trace (0-based, counting only sockets this parser tracked). */
  index: number;
  pid: number | undefined;
  fd: number;
  family: SockFamily;
  /** `SOCK_STREAM`, `SOCK_DGRAM`… (flags stripped). */
  type: string;
  socketLine: number;
  time: string | undefined;
  /** setsockopt calls on this socket, in order: `SO_REUSEADDR=1`. */
  options: { level: string; name: string; value: string; result: number | undefined; errno: string | undefined; line: number }[];
  reuseAddr: boolean;
  reusePort: boolean;
  /** IPV6_V6ONLY as set by the process; undefined when never set. */
  v6Only: boolean | undefined;
  bind: { addr: SockAddr; result: number | undefined; errno: string | undefined; line: number; pid: number | undefined } | undefined;
  listen: { backlog: number; result: number | undefined; errno: string | undefined; line: number; pid: number | undefined } | undefined;
  closedLine: number | undefined;
}

export function parseSockAddr(text: string): SockAddr | undefined {
  const a = parseProductSockAddr(text);
  if (!a) {
    // The product reader wants both address and port; the old shape kept what there was.
    const fam = /sa_family=([A-Z_0-9]+)/.exec(text)?.[1];
    if (!fam) return undefined;
    const family = FAMILIES[fam] ?? 'other';
    return { family, address: '', port: undefined };
  }
  if (a.family === 'inet' || a.family === 'inet6') return { family: a.family, address: a.address, port: a.port };
  if (a.family === 'unix') return { family: 'unix', address: a.path.replace(/^@?"(.*)"$/s, '$1'), port: undefined };
  return { family: 'other', address: '', port: undefined };
}

const FAMILIES: Record<string, SockFamily> = { AF_INET: 'inet', PF_INET: 'inet', AF_INET6: 'inet6', PF_INET6: 'inet6' };

function sockFamily(s: RebuiltSocket): SockFamily {
  return s.domain === 'inet' || s.domain === 'inet6' || s.domain === 'unix' || s.domain === 'netlink' ? s.domain : 'other';
}

/**
 * Every socket() in the trace, followed through setsockopt/bind/listen/close by the product's fd tracking (fork
 * inheritance, dup, fd reuse). `closedLine` is the first close() by the process that created the socket: a forked
 * child closing its inherited copy leaves the daemon's socket open.
 */
export function socketsFromTrace(trace: ParsedTrace): TracedSocket[] {
  const rebuilt = rebuildSockets(trace.product);
  const created = rebuilt.sockets.filter((s) => s.origin === 'socket' && s.type !== 'accepted');
  return created.map((s, index) => {
    const flag = (name: string): boolean | undefined => {
      let v: boolean | undefined;
      for (const o of s.options) if (o.name === name && o.result === 0) v = /^\[?\s*([1-9]\d*)\s*\]?$/.test(o.value);
      return v;
    };
    const bind = [...s.binds].reverse().find((b) => b.addr !== undefined);
    const bindAddr = bind ? parseSockAddrFromProduct(bind.addr) : undefined;
    const listen = s.listens[s.listens.length - 1];
    const closed = s.closes.find((c) => c.pid === s.pid && c.fd === s.fd);
    return {
      index,
      pid: s.pid,
      fd: s.fd,
      family: sockFamily(s),
      type: s.type,
      socketLine: s.source.line,
      time: s.time,
      options: s.options.map((o) => ({ level: o.level, name: o.name, value: o.value, result: o.result, errno: o.errno, line: o.source.line })),
      reuseAddr: flag('SO_REUSEADDR') ?? false,
      reusePort: flag('SO_REUSEPORT') ?? false,
      v6Only: flag('IPV6_V6ONLY'),
      bind:
        bind && bindAddr
          ? { addr: bindAddr, result: bind.result, errno: bind.errno, line: bind.source.line, pid: bind.pid }
          : undefined,
      listen: listen
        ? { backlog: listen.backlog ?? Number.NaN, result: listen.result, errno: listen.errno, line: listen.source.line, pid: listen.pid }
        : undefined,
      closedLine: closed?.source.line,
    };
  });
}

function parseSockAddrFromProduct(a: RebuiltSocket['binds'][number]['addr']): SockAddr | undefined {
  if (!a) return undefined;
  if (a.family === 'inet' || a.family === 'inet6') return { family: a.family, address: a.address, port: a.port };
  if (a.family === 'unix') return { family: 'unix', address: a.path.replace(/^@?"(.*)"$/s, '$1'), port: undefined };
  return { family: 'other', address: '', port: undefined };
}

/** A listening-socket attempt's result as bindcheck models it. */
export type Outcome = { ok: true } | { ok: false; call: 'bind' | 'listen'; errno: string };

export interface NetSocketAttempt {
  socket: TracedSocket;
  family: 'inet' | 'inet6';
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
  outcome: Outcome | { ok: 'unknown' };
}

/** Sockets bound to an inet/inet6 address — what a daemon listens on (client/DNS sockets are never bound). */
export function boundNetSockets(sockets: TracedSocket[]): NetSocketAttempt[] {
  const out: NetSocketAttempt[] = [];
  for (const s of sockets) {
    if (!s.bind || (s.bind.addr.family !== 'inet' && s.bind.addr.family !== 'inet6')) continue;
    const proto = s.type === 'SOCK_DGRAM' ? 'udp' : 'tcp';
    let outcome: NetSocketAttempt['outcome'];
    if (s.bind.result !== 0) outcome = { ok: false, call: 'bind', errno: s.bind.errno ?? 'UNKNOWN' };
    else if (proto === 'udp') outcome = { ok: true };
    else if (!s.listen) outcome = { ok: 'unknown' };
    else if (s.listen.result !== 0) outcome = { ok: false, call: 'listen', errno: s.listen.errno ?? 'UNKNOWN' };
    else outcome = { ok: true };
    out.push({
      socket: s,
      family: s.bind.addr.family,
      proto,
      address: s.bind.addr.address,
      port: s.bind.addr.port ?? 0,
      outcome,
    });
  }
  return out;
}

/**
 * The daemon's first start attempt: bound net sockets up to (not including) the first one that retries an
 * endpoint — same (proto, family, address, port) as an earlier socket that had already failed and been closed
 * when this one was created. (Two config lines asking for the same endpoint are two sockets of one attempt.)
 */
export function firstAttempt(attempts: NetSocketAttempt[]): NetSocketAttempt[] {
  const out: NetSocketAttempt[] = [];
  for (const a of attempts) {
    const key = endpointKey(a);
    const isRetry = out.some(
      (b) =>
        endpointKey(b) === key &&
        b.outcome.ok === false &&
        b.socket.closedLine !== undefined &&
        b.socket.closedLine < a.socket.socketLine,
    );
    if (isRetry) break;
    out.push(a);
  }
  return out;
}

export function endpointKey(a: { proto: string; family: string; address: string; port: number }): string {
  return `${a.proto}/${a.family}/${a.address}/${a.port}`;
}

/** Whether every bound net socket so far has a final answer (failed bind, listen result, or closed). */
export function allSettled(attempts: NetSocketAttempt[]): boolean {
  return attempts.length > 0 && attempts.every((a) => a.outcome.ok !== 'unknown' || a.socket.closedLine !== undefined);
}

/** Summary of later rounds: every bind/listen of the same endpoints after the first attempt. */
export function retries(attempts: NetSocketAttempt[]): NetSocketAttempt[] {
  return attempts.slice(firstAttempt(attempts).length);
}

/**
 * A minimal parser for `strace -f -tt -e trace=socket,bind,listen,setsockopt,close` output — just enough to
 * turn a real daemon's trace into "which sockets did it create, with which options, and what did bind() and
 * listen() return". It is a test oracle helper, not bindcheck's evidence reader: it understands the shapes
 * strace 6.x prints for these five syscalls and ignores everything else.
 *
 * Handles both pid prefixes (`1234 ` with `-o FILE`, `[pid 1234] ` on stderr), `-tt`/`-ttt` timestamps or none,
 * `<unfinished ...>` / `<... bind resumed>` pairs (a split call is placed where it resumed, i.e. calls are in order of
 * completion; `line` is where it started), and `+++ exited with N +++` / `+++ killed by SIG +++`.
 */

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
}

const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d{2}:\d{2}:\d{2}(?:\.\d+)?|\d+\.\d+)\s+)?(.*)$/;
const RESULT = /\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(?:\s+([A-Z][A-Z0-9_]+)(?:\s+\((.*)\))?)?\s*$/;

export function parseStrace(text: string): ParsedTrace {
  const calls: TraceCall[] = [];
  const exits: TraceExit[] = [];
  const pending = new Map<string, { line: number; pid: number | undefined; time: string | undefined; syscall: string; args: string }>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const m = PREFIX.exec(raw.trimEnd());
    if (!m) return;
    const pid = m[1] ?? m[2] ? Number(m[1] ?? m[2]) : undefined;
    const time = m[3];
    const body = m[4] ?? '';
    if (body === '') return;
    const exit = /^\+\+\+ (?:exited with (\d+)|killed by (SIG[A-Z0-9]+)[^+]*) \+\+\+$/.exec(body);
    if (exit) {
      exits.push({ line: lineNo, pid, time, code: exit[1] !== undefined ? Number(exit[1]) : undefined, signal: exit[2] });
      return;
    }
    if (body.startsWith('---')) return; // signals
    const key = String(pid);
    const unfinished = /^([a-z_0-9]+)\((.*?)\s*<unfinished \.\.\.>$/.exec(body);
    if (unfinished) {
      pending.set(key, { line: lineNo, pid, time, syscall: unfinished[1]!, args: unfinished[2]! });
      return;
    }
    const resumed = /^<\.\.\. ([a-z_0-9]+) resumed>\s*(.*)$/.exec(body);
    if (resumed) {
      const start = pending.get(key);
      pending.delete(key);
      const rest = resumed[2]!;
      const r = RESULT.exec(rest);
      const argsTail = r ? rest.slice(0, r.index) : rest;
      calls.push(
        finish(
          start ?? { line: lineNo, pid, time, syscall: resumed[1]!, args: '' },
          (start ? start.args : '') + argsTail,
          r,
        ),
      );
      return;
    }
    const call = /^([a-z_0-9]+)\((.*)$/.exec(body);
    if (!call) return;
    const rest = call[2]!;
    const r = RESULT.exec(rest);
    if (!r) return;
    calls.push(finish({ line: lineNo, pid, time, syscall: call[1]! }, rest.slice(0, r.index), r));
  });
  return { calls, exits };
}

function finish(
  head: { line: number; pid: number | undefined; time: string | undefined; syscall: string },
  args: string,
  r: RegExpExecArray | null,
): TraceCall {
  const rv = r?.[1];
  return {
    ...head,
    args: args.trim(),
    result: rv === undefined || rv === '?' ? undefined : Number(rv),
    errno: r?.[2],
    errnoText: r?.[3],
  };
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

const FAMILY: Record<string, SockFamily> = {
  AF_INET: 'inet',
  PF_INET: 'inet',
  AF_INET6: 'inet6',
  PF_INET6: 'inet6',
  AF_UNIX: 'unix',
  AF_LOCAL: 'unix',
  PF_LOCAL: 'unix',
  PF_UNIX: 'unix',
  AF_NETLINK: 'netlink',
  PF_NETLINK: 'netlink',
};

export function parseSockAddr(text: string): SockAddr | undefined {
  const fam = /sa_family=([A-Z_0-9]+)/.exec(text)?.[1];
  if (!fam) return undefined;
  const family = FAMILY[fam] ?? 'other';
  const port = /sin6?_port=htons\((\d+)\)/.exec(text)?.[1];
  if (family === 'inet') {
    const a = /sin_addr=inet_addr\("([^"]*)"\)/.exec(text)?.[1];
    return { family, address: a ?? '', port: port === undefined ? undefined : Number(port) };
  }
  if (family === 'inet6') {
    const a = /inet_pton\(AF_INET6,\s*"([^"]*)"/.exec(text)?.[1];
    return { family, address: a ?? '', port: port === undefined ? undefined : Number(port) };
  }
  if (family === 'unix') {
    const p = /sun_path=@?"([^"]*)"/.exec(text)?.[1];
    return { family, address: p ?? '', port: undefined };
  }
  return { family, address: '', port: undefined };
}

function splitTop(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let cur = '';
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (inStr) {
      cur += c;
      if (c === '\\') {
        cur += args[++i] ?? '';
      } else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    if (c === '{' || c === '[' || c === '(') depth++;
    if (c === '}' || c === ']' || c === ')') depth--;
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

/**
 * Follow every socket() through setsockopt/bind/listen/close. fds are tracked per pid; a pid that uses an fd it
 * did not create (inherited across fork, which this trace filter does not show) falls back to the most recent
 * open socket with that fd number in any process.
 */
export function socketsFromTrace(trace: ParsedTrace): TracedSocket[] {
  const sockets: TracedSocket[] = [];
  const open = new Map<string, TracedSocket>(); // `${pid}:${fd}`
  const byFd = new Map<number, TracedSocket>();
  const lookup = (pid: number | undefined, fd: number): TracedSocket | undefined =>
    open.get(`${pid}:${fd}`) ?? byFd.get(fd);
  for (const c of trace.calls) {
    const a = splitTop(c.args);
    switch (c.syscall) {
      case 'socket': {
        if (c.result === undefined || c.result < 0) break;
        const s: TracedSocket = {
          index: sockets.length,
          pid: c.pid,
          fd: c.result,
          family: FAMILY[a[0] ?? ''] ?? 'other',
          type: (a[1] ?? '').split('|')[0] ?? '',
          socketLine: c.line,
          time: c.time,
          options: [],
          reuseAddr: false,
          reusePort: false,
          v6Only: undefined,
          bind: undefined,
          listen: undefined,
          closedLine: undefined,
        };
        sockets.push(s);
        open.set(`${c.pid}:${s.fd}`, s);
        byFd.set(s.fd, s);
        break;
      }
      case 'setsockopt': {
        const s = lookup(c.pid, Number(a[0]));
        if (!s) break;
        const level = a[1] ?? '';
        const name = a[2] ?? '';
        const value = a[3] ?? '';
        s.options.push({ level, name, value, result: c.result, errno: c.errno, line: c.line });
        if (c.result === 0) {
          const on = /^\[?\s*([1-9]\d*)\s*\]?$/.test(value);
          if (name === 'SO_REUSEADDR') s.reuseAddr = on;
          if (name === 'SO_REUSEPORT') s.reusePort = on;
          if (name === 'IPV6_V6ONLY') s.v6Only = on;
        }
        break;
      }
      case 'bind': {
        const s = lookup(c.pid, Number(a[0]));
        const addr = parseSockAddr(a[1] ?? '');
        if (!s || !addr) break;
        s.bind = { addr, result: c.result, errno: c.errno, line: c.line, pid: c.pid };
        break;
      }
      case 'listen': {
        const s = lookup(c.pid, Number(a[0]));
        if (!s) break;
        s.listen = { backlog: Number(a[1]), result: c.result, errno: c.errno, line: c.line, pid: c.pid };
        break;
      }
      case 'close': {
        // Only a close() by the process that created the socket counts: a forked child closing its inherited
        // copy leaves the daemon's socket open.
        const fd = Number(a[0]);
        const key = `${c.pid}:${fd}`;
        const s = open.get(key);
        if (!s || c.result !== 0) break;
        s.closedLine ??= c.line;
        open.delete(key);
        if (byFd.get(fd) === s) byFd.delete(fd);
        break;
      }
      default:
        break;
    }
  }
  return sockets;
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

/**
 * Follows file descriptors through a parsed trace: which socket each fd of each process refers to, across
 * socket(), dup*(), fork/clone (a child gets a copy of its parent's fd table; CLONE_FILES shares it), execve()
 * (close-on-exec), close()/close_range() and process exit. The result is every socket with its options and
 * bind()/listen() calls, plus the timeline of bind/listen/close in trace order, which replay.ts hands to the
 * kernel model. A socket is closed when its last descriptor in any process goes (close(2) on a forked child's
 * copy leaves the parent's open).
 */
import { tryCanonicalAddress } from '../../kernel/index.js';
import type { Family, Proto } from '../../model/endpoint.js';
import type { Location } from '../../model/location.js';
import type { TracedCall, TracedSocket } from '../../model/runtime.js';
import {
  type FdTag,
  type SockAddr,
  deviceOptionValue,
  hasCloexec,
  intOptionValue,
  parseFdArg,
  parseSockAddr,
  socketKind,
  tagKind,
} from './args.js';
import type { ParsedStrace, StraceCall, StraceExit, StraceNote } from './parse.js';

export interface SocketOptionCall {
  level: string;
  name: string;
  value: string;
  result?: number;
  errno?: string;
  source: Location;
}

export interface SocketCallRecord {
  /** bind(): the address asked for; undefined when the sockaddr could not be read. */
  addr?: SockAddr;
  /** listen(): the backlog. */
  backlog?: number;
  result?: number;
  errno?: string;
  pid: number | undefined;
  fd: number;
  time?: string;
  source: Location;
}

/** Every socket the trace shows (any domain), with what happened to it. */
export interface RebuiltSocket {
  /** Order of appearance (0-based). */
  index: number;
  /** The process that created it (for a preexisting socket: the first that used it); undefined = first process, pid unknown. */
  pid: number | undefined;
  fd: number;
  domain: 'inet' | 'inet6' | 'unix' | 'netlink' | 'packet' | 'other';
  /** socket()'s type without flags (`SOCK_STREAM`); '' for preexisting sockets. */
  type: string;
  proto: Proto | 'other';
  inode?: number;
  origin: 'socket' | 'preexisting';
  /** The time printed on the socket() call (or first use). */
  time?: string;
  options: SocketOptionCall[];
  binds: SocketCallRecord[];
  listens: SocketCallRecord[];
  /** Successful close() calls on any of its descriptors, in order. */
  closes: { pid: number | undefined; fd: number; source: Location }[];
  /** Where its last descriptor went. */
  closedAt?: Location;
  source: Location;
  /** The model's view, for TCP and UDP sockets over IPv4/IPv6. */
  net?: TracedSocket;
}

/** One step of the timeline replay.ts feeds to the kernel model. */
export type SocketStep =
  | { op: 'bind' | 'listen'; socket: RebuiltSocket; call: TracedCall; record: SocketCallRecord }
  | { op: 'close'; socket: RebuiltSocket; source: Location };

export interface RebuiltTrace {
  sockets: RebuiltSocket[];
  steps: SocketStep[];
  exits: StraceExit[];
  notes: StraceNote[];
  /** Syscalls taken to be traced (the filter), given or inferred from the calls present. */
  traced: Set<string>;
}

export interface RebuildOptions {
  /** The `-e trace=` set, when known; otherwise inferred from the syscalls that appear. */
  traced?: Iterable<string>;
}

interface FdEntry {
  sock: RebuiltSocket | undefined;
  cloexec: boolean;
}

class FdTable {
  readonly fds = new Map<number, FdEntry>();
  users = 1;
  copy(): FdTable {
    const t = new FdTable();
    for (const [fd, e] of this.fds) t.fds.set(fd, { ...e });
    return t;
  }
}

interface Proc {
  pid: number | undefined;
  table: FdTable;
  alive: boolean;
  parentKnown: boolean;
  lastActive: number;
}

const CLOSE_RANGE_CLOEXEC = /CLOSE_RANGE_CLOEXEC/;

export function rebuildSockets(parsed: ParsedStrace, opts: RebuildOptions = {}): RebuiltTrace {
  const traced = new Set(opts.traced ?? parsed.syscalls);
  const notes: StraceNote[] = [];
  const sockets: RebuiltSocket[] = [];
  const steps: SocketStep[] = [];
  const exits: StraceExit[] = [];
  const procs = new Map<string, Proc>();
  const initialKey = 'initial';
  let tick = 0;

  const keyOf = (pid: number | undefined): string => (pid === undefined ? initialKey : String(pid));
  const proc = (pid: number | undefined): Proc => {
    const key = keyOf(pid);
    let p = procs.get(key);
    if (!p) {
      p = { pid, table: new FdTable(), alive: true, parentKnown: procs.size === 0, lastActive: tick };
      procs.set(key, p);
    }
    return p;
  };

  const stillReferenced = (s: RebuiltSocket): boolean => {
    for (const p of new Set([...procs.values()].map((q) => q.table))) {
      if (p.users <= 0) continue;
      for (const e of p.fds.values()) if (e.sock === s) return true;
    }
    return false;
  };
  const release = (s: RebuiltSocket | undefined, source: Location): void => {
    if (!s || s.closedAt || stillReferenced(s)) return;
    s.closedAt = source;
    if (s.net) s.net.closedAt = source;
    steps.push({ op: 'close', socket: s, source });
  };
  const dropFd = (p: Proc, fd: number, source: Location): RebuiltSocket | undefined => {
    const e = p.table.fds.get(fd);
    if (!e) return undefined;
    p.table.fds.delete(fd);
    release(e.sock, source);
    return e.sock;
  };

  const newSocket = (
    p: Proc,
    fd: number,
    domain: RebuiltSocket['domain'],
    type: string,
    proto: Proto | 'other',
    origin: RebuiltSocket['origin'],
    source: Location,
    tag?: FdTag,
    time?: string,
  ): RebuiltSocket => {
    const s: RebuiltSocket = {
      index: sockets.length,
      pid: p.pid,
      fd,
      domain,
      type,
      proto,
      origin,
      options: [],
      binds: [],
      listens: [],
      closes: [],
      source,
    };
    if (tag?.inode !== undefined) s.inode = tag.inode;
    if (time !== undefined) s.time = time;
    if ((domain === 'inet' || domain === 'inet6') && proto !== 'other') {
      s.net = { pid: p.pid ?? 0, fd, proto, family: domain, reuseAddr: false, reusePort: false, calls: [], source, origin };
    }
    sockets.push(s);
    return s;
  };

  /** The socket behind `fd` in `p`, following inheritance the trace does not show, or a preexisting one. */
  const lookup = (p: Proc, fdText: string | undefined, source: Location, hint?: SockAddr): RebuiltSocket | undefined => {
    const arg = parseFdArg(fdText ?? '');
    if (!arg) return undefined;
    const e = p.table.fds.get(arg.fd);
    if (e?.sock) return e.sock;
    if (e && !e.sock) return undefined; // a known non-socket descriptor
    // -y shows the inode: the same socket may already be known from another process.
    if (arg.tag?.inode !== undefined) {
      const byInode = sockets.find((s) => s.inode === arg.tag?.inode && !s.closedAt);
      if (byInode) {
        p.table.fds.set(arg.fd, { sock: byInode, cloexec: false });
        return byInode;
      }
    }
    if (!p.parentKnown) {
      // The fork is not in the trace: take the fd from the most recently active other process that has it open.
      const donors = [...procs.values()]
        .filter((q) => q !== p && q.table !== p.table && q.table.fds.get(arg.fd)?.sock && !q.table.fds.get(arg.fd)?.sock?.closedAt)
        .sort((a, b) => b.lastActive - a.lastActive);
      const donor = donors[0];
      const sock = donor?.table.fds.get(arg.fd)?.sock;
      if (donor && sock) {
        p.table.fds.set(arg.fd, { sock, cloexec: false });
        notes.push({
          message: `fd ${arg.fd} of ${pidText(p.pid)} is taken to be inherited from ${pidText(donor.pid)} (the fork is not in the trace)`,
          source,
        });
        return sock;
      }
    }
    const fromTag = tagKind(arg.tag);
    const domain = fromTag?.domain ?? (hint && (hint.family === 'inet' || hint.family === 'inet6') ? hint.family : 'other');
    const proto: Proto | 'other' =
      fromTag?.proto ?? (domain === 'inet' || domain === 'inet6' ? 'tcp' : 'other');
    const s = newSocket(p, arg.fd, domain, '', proto, 'preexisting', source, arg.tag);
    p.table.fds.set(arg.fd, { sock: s, cloexec: false });
    notes.push({
      message:
        `fd ${arg.fd} of ${pidText(p.pid)} is used but not created in the trace: a socket from before tracing started` +
        (fromTag ? '' : domain === 'other' ? '' : ' (taken to be TCP: the trace does not show its type)'),
      source,
    });
    if (s.net) s.net.unknownOptions = s.net.family === 'inet6' ? ['reuseAddr', 'reusePort', 'v6Only'] : ['reuseAddr', 'reusePort'];
    return s;
  };

  const fork = (parent: Proc, childPid: number, share: boolean): void => {
    const existing = procs.get(keyOf(childPid));
    if (existing && existing.parentKnown) return;
    const base = share ? parent.table : parent.table.copy();
    if (share) base.users++;
    if (existing) {
      // The child's lines came before the parent's clone() returned: keep what the child did meanwhile.
      for (const [fd, e] of existing.table.fds) base.fds.set(fd, e);
      existing.table = base;
      existing.parentKnown = true;
      return;
    }
    procs.set(keyOf(childPid), { pid: childPid, table: base, alive: true, parentKnown: true, lastActive: tick });
  };

  const callRecord = (c: StraceCall, fd: number): SocketCallRecord => {
    const r: SocketCallRecord = { pid: c.pid, fd, source: c.source };
    if (c.result !== undefined) r.result = c.result;
    if (c.errno !== undefined) r.errno = c.errno;
    if (c.time !== undefined) r.time = c.time;
    return r;
  };
  const tracedCall = (kind: 'bind' | 'listen', c: StraceCall, fd: number): TracedCall => {
    const t: TracedCall = { call: kind, ok: c.result === 0, source: c.source, fd };
    if (c.pid !== undefined) t.pid = c.pid;
    if (c.errno !== undefined) t.errno = c.errno;
    if (c.time !== undefined) t.time = c.time;
    return t;
  };

  for (const ev of parsed.events) {
    tick++;
    if (ev.kind === 'pid-learned') {
      const p = procs.get(initialKey);
      if (p) {
        procs.delete(initialKey);
        p.pid = ev.pid;
        procs.set(String(ev.pid), p);
        for (const s of sockets) {
          if (s.pid === undefined) {
            s.pid = ev.pid;
            if (s.net) s.net.pid = ev.pid;
          }
          for (const r of [...s.binds, ...s.listens]) r.pid ??= ev.pid;
          for (const c of s.net?.calls ?? []) c.pid ??= ev.pid;
        }
        for (const x of exits) x.pid ??= ev.pid;
      }
      continue;
    }
    if (ev.kind === 'attach') {
      proc(ev.pid).lastActive = tick;
      continue;
    }
    if (ev.kind === 'detach' || ev.kind === 'signal') continue;
    if (ev.kind === 'exit') {
      exits.push(ev);
      const p = proc(ev.pid);
      p.alive = false;
      p.table.users--;
      if (p.table.users <= 0) {
        const gone = [...p.table.fds.values()].map((e) => e.sock);
        p.table.fds.clear();
        for (const s of gone) release(s, ev.source);
      }
      continue;
    }
    if (ev.kind !== 'call') continue;
    const c = ev;
    const p = proc(c.pid);
    p.lastActive = tick;
    const a = c.argv;
    const failed = c.result === undefined || c.result < 0;
    switch (c.syscall) {
      case 'socket': {
        if (failed || c.result === undefined) break;
        const fd = c.result;
        if (p.table.fds.has(fd)) dropFd(p, fd, c.source); // closed by a call the trace does not show
        const kind = socketKind(a[0] ?? '', a[1] ?? '', a[2] ?? '');
        const type = (a[1] ?? '').split('|')[0]?.trim() ?? '';
        const s = newSocket(p, fd, kind.domain, type, kind.proto, 'socket', c.source, c.resultTag, c.time);
        p.table.fds.set(fd, { sock: s, cloexec: hasCloexec(a[1] ?? '') });
        break;
      }
      case 'socketpair': {
        if (failed) break;
        const fds = /\[\s*(\d+)\s*,\s*(\d+)\s*\]/.exec(a[3] ?? '');
        for (const f of [fds?.[1], fds?.[2]]) {
          if (f === undefined) continue;
          dropFd(p, Number(f), c.source);
          const s = newSocket(p, Number(f), 'unix', (a[1] ?? '').split('|')[0]?.trim() ?? '', 'other', 'socket', c.source);
          p.table.fds.set(Number(f), { sock: s, cloexec: hasCloexec(a[1] ?? '') });
        }
        break;
      }
      case 'accept':
      case 'accept4': {
        // A connected child socket: not something bind() meets in this model; track its fd as a non-listener.
        if (failed || c.result === undefined) break;
        dropFd(p, c.result, c.source);
        const s = newSocket(p, c.result, 'other', 'accepted', 'other', 'socket', c.source, c.resultTag);
        p.table.fds.set(c.result, { sock: s, cloexec: /SOCK_CLOEXEC/.test(a[3] ?? '') });
        break;
      }
      case 'setsockopt': {
        const s = lookup(p, a[0], c.source);
        if (!s) break;
        const opt: SocketOptionCall = { level: a[1] ?? '', name: a[2] ?? '', value: a[3] ?? '', source: c.source };
        if (c.result !== undefined) opt.result = c.result;
        if (c.errno !== undefined) opt.errno = c.errno;
        s.options.push(opt);
        if (c.result !== 0 || !s.net) break;
        const n = s.net;
        const on = (intOptionValue(opt.value) ?? 0) !== 0;
        const known = (flag: 'reuseAddr' | 'reusePort' | 'v6Only'): void => {
          if (n.unknownOptions) n.unknownOptions = n.unknownOptions.filter((f) => f !== flag);
          if (n.unknownOptions?.length === 0) delete n.unknownOptions;
        };
        switch (opt.name) {
          case 'SO_REUSEADDR':
            n.reuseAddr = on;
            known('reuseAddr');
            break;
          case 'SO_REUSEPORT':
            n.reusePort = on;
            known('reusePort');
            break;
          case 'IPV6_V6ONLY':
            n.v6Only = on;
            known('v6Only');
            break;
          case 'IP_FREEBIND':
          case 'IPV6_FREEBIND':
          case 'IP_TRANSPARENT':
          case 'IPV6_TRANSPARENT':
            if (on) n.freeBind = true;
            break;
          case 'SO_BINDTODEVICE': {
            const dev = deviceOptionValue(opt.value);
            if (dev === undefined) break;
            if (dev === '') delete n.device;
            else n.device = dev;
            break;
          }
          default:
            break;
        }
        break;
      }
      case 'bind': {
        const addr = parseSockAddr(a[1] ?? '');
        const s = lookup(p, a[0], c.source, addr);
        if (!s) break;
        const fd = parseFdArg(a[0] ?? '')?.fd ?? s.fd;
        const rec = callRecord(c, fd);
        if (addr) rec.addr = addr;
        s.binds.push(rec);
        if (!s.net) break;
        if (!addr || (addr.family !== 'inet' && addr.family !== 'inet6')) {
          notes.push({ message: `bind() on fd ${fd} with an address bindcheck cannot read`, source: c.source });
          break;
        }
        const call = tracedCall('bind', c, fd);
        const text = addr.scopeId !== undefined ? `${addr.address}%${addr.scopeId}` : addr.address;
        call.address = tryCanonicalAddress(text) ?? text;
        call.port = addr.port;
        s.net.calls.push(call);
        if (call.ok) {
          s.net.address = call.address;
          s.net.port = addr.port;
        }
        steps.push({ op: 'bind', socket: s, call, record: rec });
        break;
      }
      case 'listen': {
        const s = lookup(p, a[0], c.source);
        if (!s) break;
        const fd = parseFdArg(a[0] ?? '')?.fd ?? s.fd;
        const rec = callRecord(c, fd);
        const backlog = Number(a[1]);
        if (Number.isFinite(backlog)) rec.backlog = backlog;
        s.listens.push(rec);
        if (!s.net) break;
        const call = tracedCall('listen', c, fd);
        s.net.calls.push(call);
        steps.push({ op: 'listen', socket: s, call, record: rec });
        break;
      }
      case 'close': {
        const fd = parseFdArg(a[0] ?? '')?.fd;
        if (fd === undefined || c.errno === 'EBADF') break;
        const s = dropFd(p, fd, c.source);
        if (s) s.closes.push({ pid: c.pid, fd, source: c.source });
        break;
      }
      case 'close_range': {
        if (failed) break;
        const first = Number(a[0]);
        const lastText = (a[1] ?? '').trim();
        const last = /^\d+$/.test(lastText) ? Number(lastText) : Number.MAX_SAFE_INTEGER;
        if (!Number.isFinite(first)) break;
        for (const [fd, e] of [...p.table.fds]) {
          if (fd < first || fd > last) continue;
          if (CLOSE_RANGE_CLOEXEC.test(a[2] ?? '')) e.cloexec = true;
          else dropFd(p, fd, c.source);
        }
        break;
      }
      case 'dup':
      case 'dup2':
      case 'dup3':
      case 'fcntl':
      case 'fcntl64': {
        if (failed || c.result === undefined) break;
        const isFcntl = c.syscall.startsWith('fcntl');
        if (isFcntl && !/^F_DUPFD/.test(a[1] ?? '')) break;
        const oldFd = parseFdArg(a[0] ?? '')?.fd;
        const newFd = c.result;
        if (oldFd === undefined || oldFd === newFd) break;
        const old = p.table.fds.get(oldFd);
        dropFd(p, newFd, c.source);
        const cloexec = isFcntl ? (a[1] ?? '').includes('CLOEXEC') : c.syscall === 'dup3' && /O_CLOEXEC/.test(a[2] ?? '');
        if (old) p.table.fds.set(newFd, { sock: old.sock, cloexec });
        break;
      }
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork': {
        if (failed || c.result === undefined || c.result === 0) break;
        fork(p, c.result, /CLONE_FILES/.test(c.args));
        break;
      }
      case 'execve':
      case 'execveat': {
        if (c.result !== 0) break;
        for (const [fd, e] of [...p.table.fds]) if (e.cloexec) dropFd(p, fd, c.source);
        break;
      }
      default: {
        // Other calls that hand out descriptors (open, pipe…), when traced, replace whatever the fd was.
        if (!failed && c.result !== undefined && /^(open|openat|openat2|creat|epoll_create1?|eventfd2?|signalfd4?|timerfd_create|memfd_create|inotify_init1?)$/.test(c.syscall)) {
          dropFd(p, c.result, c.source);
          p.table.fds.set(c.result, { sock: undefined, cloexec: /O_CLOEXEC|_CLOEXEC/.test(c.args) });
        }
        break;
      }
    }
  }

  // Flags the trace cannot show: with setsockopt filtered out, every flag is unknown (not "off").
  if (!traced.has('setsockopt')) {
    for (const s of sockets) {
      if (!s.net) continue;
      s.net.unknownOptions = s.net.family === 'inet6' ? ['reuseAddr', 'reusePort', 'v6Only'] : ['reuseAddr', 'reusePort'];
    }
    if (sockets.some((s) => s.net?.calls.length)) {
      notes.push({
        message: 'the trace does not include setsockopt(), so SO_REUSEADDR, SO_REUSEPORT and IPV6_V6ONLY are unknown',
        source: { file: firstFile(parsed), line: 0 },
      });
    }
  }
  return { sockets, steps, exits, notes, traced };
}

function firstFile(parsed: ParsedStrace): string {
  const e = parsed.events[0] ?? parsed.notes[0];
  return e && 'source' in e ? e.source.file : 'strace';
}

export function pidText(pid: number | undefined): string {
  return pid === undefined || pid === 0 ? 'the first traced process' : `pid ${pid}`;
}

/** The model-level sockets: TCP/UDP over IPv4/IPv6. */
export function netSockets(trace: RebuiltTrace): TracedSocket[] {
  return trace.sockets.flatMap((s) => (s.net ? [s.net] : []));
}

export type { Family };

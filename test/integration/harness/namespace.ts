/**
 * Run a real daemon inside a throwaway network + mount + pid namespace, as a test oracle.
 *
 * `unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private sh -c SCRIPT` where SCRIPT
 * brings `lo` up, adds extra local addresses, bind-mounts files over host paths (config files, /etc/hosts), covers
 * directories with empty tmpfs, puts a tmpfs on /dev with the usual device nodes plus a syslog receiver at
 * /dev/log, starts "port holder" processes, then runs the command (under strace when asked). Nothing touches the
 * host: every mount is private to the namespace, every socket lives in the namespace's own network stack, and
 * every process is in the namespace's pid namespace, so killing its init (pid 1) kills them all — including
 * daemons that setsid() away from our process group.
 *
 * Daemon-agnostic: nothing here knows sendmail.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseStrace, type ParsedTrace } from './strace.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SYSLOG_RECEIVER = join(HERE, 'syslog-receiver.py');
export const PORT_HOLDER = join(HERE, 'port-holder.py');

export const DEFAULT_STRACE_SYSCALLS = ['socket', 'bind', 'listen', 'setsockopt', 'close'];

export interface PortHolderSpec {
  proto: 'tcp' | 'udp';
  family: 'inet' | 'inet6';
  address: string;
  port: number;
  reuseAddr?: boolean;
  reusePort?: boolean;
  /** IPV6_V6ONLY to set explicitly (inet6 only); left at the sysctl default when undefined. */
  v6Only?: boolean;
  /** TCP only: call listen() (default true). */
  listen?: boolean;
}

export interface NamespaceOptions {
  /** Host directory for the generated script, logs, trace; created if missing. Must not be under /dev. */
  workDir: string;
  /** argv to run inside the namespace, after all setup. */
  command: string[];
  /** Wrap the command in `strace -f -tt -e trace=… -o <workDir>/trace.txt`. */
  strace?: boolean | { syscalls?: string[] };
  /** Host name for the default /etc/hosts (`127.0.1.1 NAME.localdomain NAME`); defaults to os.hostname(). */
  hostname?: string;
  /** /etc/hosts content to bind-mount, `false` to leave the host's; default: localhost + 127.0.1.1 FQDN line. */
  hosts?: string | false;
  /** Files or directories to bind-mount over paths (the target must exist on the host). */
  bindMounts?: { source: string; target: string }[];
  /** Directories to cover with an empty tmpfs (e.g. a daemon's /run dir, so pid files stay private). */
  tmpfs?: string[];
  /** Directories to create after the mounts (inside a tmpfs, typically). */
  mkdirs?: string[];
  /** tmpfs on /dev (null, zero, full, random, urandom, tty, fd links) with a syslog receiver at /dev/log. Default true. */
  syslog?: boolean;
  /** Extra addresses on lo, CIDR (`192.0.2.10/32`, `2001:db8::10/128`). */
  extraAddresses?: string[];
  /** Processes that hold ports before the command starts; each must print READY or the run fails. */
  holders?: PortHolderSpec[];
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Bound on namespace setup (mounts, receiver, holders). Default 15 s. */
  setupTimeoutMs?: number;
}

export interface Snapshot {
  traceText: string;
  trace: ParsedTrace;
  logLines: string[];
  /** The namespace init exited (the whole namespace is gone). */
  nsExited: boolean;
  /** The command (strace, or the daemon's foreground process) exited with this status, when it has. */
  commandExit: number | undefined;
  elapsedMs: number;
}

export interface WaitResult extends Snapshot {
  satisfied: boolean;
  timedOut: boolean;
}

export interface NamespaceRun {
  readonly workDir: string;
  /** Host pid of the namespace's init (pid 1 inside). */
  readonly nsPid: number;
  readonly tracePath: string;
  readonly syslogPath: string;
  snapshot(): Snapshot;
  /**
   * Resolve once `until(snapshot)` holds and the trace and log have not changed for `quietMs` (a grace for
   * whatever the daemon does right after), or the namespace died, or `timeoutMs` passed. Polls the files.
   */
  waitFor(until: (s: Snapshot) => boolean, opts: { timeoutMs: number; quietMs?: number; pollMs?: number }): Promise<WaitResult>;
  /** Run a command in the namespace (network + mount) via nsenter. */
  exec(argv: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `ss -H -ltnp` (or other ss args) inside the namespace, parsed. */
  ss(args?: string[]): Promise<{ text: string; rows: SsRow[] }>;
  /** Kill everything in the namespace; idempotent; resolves when the namespace is gone. */
  stop(): Promise<void>;
}

export interface SsRow {
  netid: string | undefined;
  state: string;
  address: string;
  port: number;
  process: string;
  raw: string;
}

const active = new Set<{ kill(): void }>();
process.once('exit', () => {
  for (const a of active) a.kill();
});

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function defaultHosts(name: string): string {
  return `127.0.0.1\tlocalhost\n127.0.1.1\t${name}.localdomain ${name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/** The shell script run as the namespace's init. Exported for tests and for reading. */
export function buildScript(o: NamespaceOptions): string {
  const W = o.workDir;
  const py = python();
  const L: string[] = [];
  L.push('set -eu');
  L.push(`W=${q(W)}`);
  L.push('fail() { echo "ns-setup: $*" >&2; echo "FAIL $*" > "$W/ns-ready"; exit 90; }');
  L.push('waitline() { i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i+1)); [ $i -lt 200 ] || fail "timeout waiting for $1"; if grep -q ERROR "$1" 2>/dev/null; then fail "$(cat "$1")"; fi; sleep 0.05; done; }');
  L.push('ip link set lo up || fail "ip link set lo up"');
  for (const a of o.extraAddresses ?? []) L.push(`ip addr add ${q(a)} dev lo || fail ${q(`ip addr add ${a}`)}`);
  if (o.hosts !== false) L.push(`mount --bind "$W/hosts" /etc/hosts || fail "bind /etc/hosts"`);
  for (const m of o.bindMounts ?? []) L.push(`mount --bind ${q(m.source)} ${q(m.target)} || fail ${q(`bind ${m.target}`)}`);
  for (const d of o.tmpfs ?? []) L.push(`mount -t tmpfs -o mode=755 tmpfs ${q(d)} || fail ${q(`tmpfs ${d}`)}`);
  for (const d of o.mkdirs ?? []) L.push(`mkdir -p ${q(d)}`);
  if (o.syslog !== false) {
    L.push('mount -t tmpfs -o mode=755 tmpfs /dev || fail "tmpfs /dev"');
    L.push('for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do set -- $n; mknod -m 666 "/dev/$1" c "$2" "$3"; done');
    L.push('ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr');
    L.push('mkdir -m 1777 /dev/shm');
    L.push(`${py} ${q(SYSLOG_RECEIVER)} /dev/log "$W/syslog.txt" > "$W/syslog.ready" 2>&1 &`);
    L.push('waitline "$W/syslog.ready" READY');
  }
  (o.holders ?? []).forEach((h, i) => {
    const flags = [
      h.reuseAddr ? 'reuseaddr' : '',
      h.reusePort ? 'reuseport' : '',
      h.v6Only === undefined ? '' : `v6only=${h.v6Only ? 1 : 0}`,
      h.listen === false ? 'nolisten' : '',
    ].filter(Boolean);
    L.push(`${py} ${q(PORT_HOLDER)} ${h.proto} ${h.family} ${q(h.address)} ${h.port} ${flags.join(' ')} > "$W/holder-${i}.out" 2>&1 &`);
    L.push(`waitline "$W/holder-${i}.out" READY`);
  });
  const env = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${q(v)}`);
  const argv = o.command.map(q).join(' ');
  let cmd = argv;
  if (o.strace) {
    const sys = (typeof o.strace === 'object' && o.strace.syscalls) || DEFAULT_STRACE_SYSCALLS;
    cmd = `strace -f -tt -e trace=${sys.join(',')} -o "$W/trace.txt" ${argv}`;
  }
  L.push('echo READY > "$W/ns-ready"');
  L.push('set +e');
  L.push(`${env.length ? `env ${env.join(' ')} ` : ''}${cmd} > "$W/command.out" 2>&1 &`);
  L.push('wait $!');
  L.push('echo $? > "$W/command.exit"');
  // Stay alive (as pid 1) so the namespace — and anything the command left running — can still be inspected.
  L.push('while :; do sleep 3600 & wait $!; done');
  return L.join('\n') + '\n';
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startInNamespace(o: NamespaceOptions): Promise<NamespaceRun> {
  const W = o.workDir;
  if (W.startsWith('/dev')) throw new Error('workDir must not be under /dev');
  mkdirSync(W, { recursive: true });
  const tracePath = join(W, 'trace.txt');
  const syslogPath = join(W, 'syslog.txt');
  writeFileSync(syslogPath, '');
  if (o.strace) writeFileSync(tracePath, '');
  if (o.hosts !== false) writeFileSync(join(W, 'hosts'), o.hosts ?? defaultHosts(o.hostname ?? osHostname()));
  const script = buildScript(o);
  writeFileSync(join(W, 'ns-script.sh'), script);

  const child: ChildProcess = spawn(
    'unshare',
    ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', 'sh', join(W, 'ns-script.sh')],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (e) => {
      exited = true;
      stderr += String(e);
      resolve();
    });
  });
  const unsharePid = child.pid;
  let nsPid = 0;
  // Killing the namespace's init kills every process in its pid namespace (the kernel's zap_pid_ns_processes),
  // including daemons that setsid() away; unshare reaps it only after they are all gone. nsPid is safe to signal
  // while unshare has not exited (it is unshare's unreaped child). Never kill by namespace inode: nsfs inode
  // numbers are recycled as soon as a namespace dies, so they can name a concurrent test's namespace.
  const killAll = () => {
    if (exited) return;
    try {
      if (nsPid) process.kill(nsPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const killHard = () => {
    if (exited) return;
    try {
      // --kill-child: unshare's death SIGKILLs the namespace init too.
      if (unsharePid) process.kill(-unsharePid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const handle = {
    kill: () => {
      killAll();
      killHard();
    },
  };
  active.add(handle);

  async function terminate(): Promise<void> {
    killAll();
    await Promise.race([exitPromise, sleep(5000)]);
    if (!exited) {
      killHard();
      await Promise.race([exitPromise, sleep(5000)]);
    }
    active.delete(handle);
    if (!exited) throw new Error(`namespace (unshare pid ${unsharePid}) did not go away`);
  }

  const t0 = Date.now();
  const setupTimeout = o.setupTimeoutMs ?? 15_000;
  try {
    for (;;) {
      if (!nsPid && unsharePid) {
        const c = childrenOf(unsharePid);
        if (c[0]) nsPid = c[0];
      }
      const ready = readText(join(W, 'ns-ready'));
      if (ready.startsWith('READY') && nsPid) break;
      if (ready.startsWith('FAIL') || exited) {
        throw new Error(`namespace setup failed: ${ready.trim()} ${stderr.trim()}`);
      }
      if (Date.now() - t0 > setupTimeout) throw new Error(`namespace setup timed out after ${setupTimeout} ms: ${stderr.trim()}`);
      await sleep(20);
    }
  } catch (e) {
    await terminate();
    throw e;
  }

  const started = Date.now();
  let cache: { key: string; trace: ParsedTrace } | undefined;
  const snapshot = (): Snapshot => {
    const traceText = readText(tracePath);
    const logText = readText(syslogPath);
    if (!cache || cache.key !== traceText) cache = { key: traceText, trace: parseStrace(traceText) };
    const ce = readText(join(W, 'command.exit')).trim();
    return {
      traceText,
      trace: cache.trace,
      logLines: logText.split('\n').filter((l) => l !== ''),
      nsExited: exited,
      commandExit: ce === '' ? undefined : Number(ce),
      elapsedMs: Date.now() - started,
    };
  };

  const fileSizes = () => {
    const size = (p: string) => {
      try {
        return statSync(p).size;
      } catch {
        return -1;
      }
    };
    return `${size(tracePath)}:${size(syslogPath)}`;
  };

  const nsenter = (argv: string[], timeoutMs = 10_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('nsenter', ['-t', String(nsPid), '-n', '-m', '--', ...argv], { timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });

  let stopped = false;
  return {
    workDir: W,
    nsPid,
    tracePath,
    syslogPath,
    snapshot,
    async waitFor(until, { timeoutMs, quietMs = 0, pollMs = 25 }) {
      const deadline = Date.now() + timeoutMs;
      let lastSizes = fileSizes();
      let lastChange = Date.now();
      for (;;) {
        const sizes = fileSizes();
        if (sizes !== lastSizes) {
          lastSizes = sizes;
          lastChange = Date.now();
        }
        const s = snapshot();
        if (until(s) && Date.now() - lastChange >= quietMs) return { ...s, satisfied: true, timedOut: false };
        if (s.nsExited) return { ...s, satisfied: until(s), timedOut: false };
        if (Date.now() > deadline) return { ...s, satisfied: false, timedOut: true };
        await sleep(pollMs);
      }
    },
    exec: nsenter,
    async ss(args = ['-H', '-ltnp']) {
      const r = await nsenter(['ss', ...args]);
      return { text: r.stdout, rows: parseSs(r.stdout) };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate();
    },
  };
}

/** Parse `ss -H -ltn[p]` / `ss -H -l[t|u]nap` lines. */
export function parseSs(text: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('State') || line.startsWith('Netid')) continue;
    const parts = line.split(/\s+/);
    let netid: string | undefined;
    if (/^(tcp|udp|raw|u_|nl|p_|mptcp|sctp)/.test(parts[0] ?? '')) netid = parts.shift();
    const state = parts[0] ?? '';
    const local = parts[3] ?? '';
    const m = /^(?:\[(.*)\]|(.*)):(\d+|\*)$/.exec(local);
    if (!m) continue;
    let address = m[1] ?? m[2] ?? '';
    address = address.replace(/%.*$/, '');
    rows.push({ netid, state, address, port: m[3] === '*' ? 0 : Number(m[3]), process: parts.slice(5).join(' '), raw: line });
  }
  return rows;
}

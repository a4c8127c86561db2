/**
 * Shared pieces of the security tests: a private build of the CLI in a world-readable directory (so it can run as
 * nobody), a runner with a hard timeout, hostile roots built at test time, and an strace-based file-access audit.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SEED = path.join(REPO, 'examples/seed-appliance');
export const NOBODY = 65534;
export const IS_ROOT = process.getuid?.() === 0;
export const HAVE_STRACE = spawnSync('strace', ['-V']).status === 0;

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** A world-readable temp directory (mkdtemp makes 0700; nobody must traverse it). */
export function tempDir(prefix = 'bindcheck-sec-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

let built: string | undefined;

/**
 * The CLI built from the current sources into /tmp/bindcheck-sec-app-HASH (dist, package.json and the runtime
 * dependencies), readable by every user. Built once per source state; concurrent test files share it.
 */
export function appDir(): string {
  if (built) return built;
  const h = createHash('sha256');
  for (const f of [...listFiles(path.join(REPO, 'src')), path.join(REPO, 'tsconfig.json'), path.join(REPO, 'tsconfig.build.json'), path.join(REPO, 'package.json')]) {
    h.update(f).update(fs.readFileSync(f));
  }
  const dest = path.join(os.tmpdir(), `bindcheck-sec-app-${h.digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(path.join(dest, 'dist/bindcheck.cjs'))) {
    const tmp = tempDir('bindcheck-sec-build-');
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(tmp, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
    fs.copyFileSync(path.join(REPO, 'package.json'), path.join(tmp, 'package.json'));
    // Every runtime dependency the package declares (type-only packages aside), as an install would bring.
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@types/'))) {
      fs.cpSync(path.join(REPO, 'node_modules', dep), path.join(tmp, 'node_modules', dep), { recursive: true });
    }
    // The bin users run: the CommonJS bundles of that build (scripts/bundle.mjs).
    const b = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'bundle.mjs'), path.join(tmp, 'dist')], { cwd: REPO, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`bundle failed:\n${b.stdout}${b.stderr}`);
    spawnSync('chmod', ['-R', 'a+rX', tmp]);
    try {
      fs.renameSync(tmp, dest);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another test file won the race
    }
  }
  built = dest;
  return dest;
}

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: Buffer;
  stderr: Buffer;
  ms: number;
  /** The strace output file, when run under strace. */
  trace?: string;
}

export interface RunOptions {
  timeoutMs?: number;
  /** Run as uid/gid 65534 with no supplementary groups. */
  nobody?: boolean;
  /** Run under strace -f with these syscalls; the output goes to a file in `traceDir`. */
  strace?: { syscalls: string; traceDir: string };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Node's heap limit in MB: a runaway read shows up as a crash instead of swapping the machine. */
  maxOldSpaceMb?: number;
}

function command(args: string[], opts: RunOptions): { cmd: string[]; trace?: string } {
  const cli = path.join(appDir(), 'dist/bindcheck.cjs');
  let cmd: string[] = [process.execPath, `--max-old-space-size=${opts.maxOldSpaceMb ?? 512}`, cli, ...args];
  let trace: string | undefined;
  if (opts.strace) {
    trace = path.join(opts.strace.traceDir, `strace-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
    cmd = ['strace', '-f', '-qq', '-s', '4096', '-e', `trace=${opts.strace.syscalls}`, '-o', trace, ...cmd];
  }
  if (opts.nobody) cmd = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...cmd];
  return trace ? { cmd, trace } : { cmd };
}

/** runCli without blocking the test's event loop, so many runs can go at once (see runAll). */
export function runCliAsync(args: string[], opts: RunOptions = {}): Promise<CliRun> {
  const { cmd, trace } = command(args, opts);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      cwd: opts.cwd ?? os.tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const r: CliRun = { status, signal, timedOut, stdout: Buffer.concat(out), stderr: Buffer.concat(err), ms: Date.now() - t0 };
      if (trace) r.trace = trace;
      resolve(r);
    });
  });
}

/** Run jobs with at most `limit` at a time. */
export async function runAll<T>(jobs: (() => Promise<T>)[], limit = Math.max(2, os.availableParallelism())): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, jobs.length) }, async () => {
      for (let i = next++; i < jobs.length; i = next++) results[i] = await (jobs[i] as () => Promise<T>)();
    }),
  );
  return results;
}

export function runCli(args: string[], opts: RunOptions = {}): CliRun {
  const { cmd, trace } = command(args, opts);
  const t0 = Date.now();
  const r: SpawnSyncReturns<Buffer> = spawnSync(cmd[0] as string, cmd.slice(1), {
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
    cwd: opts.cwd ?? os.tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...opts.env },
  });
  const ms = Date.now() - t0;
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const out: CliRun = { status: r.status, signal: r.signal, timedOut, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0), ms };
  if (trace) out.trace = trace;
  return out;
}

/** A run that ended by itself with a documented exit code and no stack trace. */
export function problems(r: CliRun, allowed: number[] = [0, 1]): string[] {
  const p: string[] = [];
  const err = r.stderr.toString('utf8');
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.signal) p.push(`killed by ${r.signal}`);
  if (r.status !== null && !allowed.includes(r.status)) p.push(`exit status ${r.status}`);
  if (/bindcheck[^:\n]*: internal error|\n\s+at .*(file:\/\/|node:|\.js):\d+:\d+|FATAL ERROR|heap out of memory/.test(err)) p.push(`stack or internal error on stderr: ${err.slice(0, 2000)}`);
  return p;
}

export function describe_(r: CliRun): string {
  return `status=${r.status} signal=${r.signal} ms=${r.ms}\n--- stdout ---\n${r.stdout.toString('utf8').slice(0, 3000)}\n--- stderr ---\n${r.stderr.toString('utf8').slice(0, 3000)}`;
}

/** Write a file, creating its parent directories. */
export function put(root: string, inRoot: string, content: string | Buffer, mode?: number): string {
  const p = path.join(root, inRoot);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  if (mode !== undefined) fs.chmodSync(p, mode);
  return p;
}

/** Replace an in-root path with a symlink (removing what is there). */
export function link(root: string, inRoot: string, target: string): void {
  const p = path.join(root, inRoot);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.rmSync(p, { recursive: true, force: true });
  fs.symlinkSync(target, p);
}

/** Replace an in-root path with a FIFO or a character device. */
export function special(root: string, inRoot: string, kind: 'fifo' | 'chr-null' | 'chr-zero'): void {
  const p = path.join(root, inRoot);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.rmSync(p, { recursive: true, force: true });
  const args = kind === 'fifo' ? [p, 'p'] : kind === 'chr-null' ? [p, 'c', '1', '3'] : [p, 'c', '1', '5'];
  const r = spawnSync('mknod', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mknod ${args.join(' ')}: ${r.stderr}`);
}

/** A copy of the seed appliance (sendmail with a wildcard and a specific listener, unit, logs, strace). */
export function seedCopy(): string {
  const d = tempDir('bindcheck-sec-root-');
  fs.cpSync(SEED, d, { recursive: true, verbatimSymlinks: true });
  spawnSync('chmod', ['-R', 'a+rX', d]);
  return d;
}

/**
 * Every in-root file bindcheck reads for sendmail, with a role: the daemon config (mc, cf), the services and
 * hosts databases, the unit and its drop-ins, EnvironmentFile, os-release, the logs and /proc pieces.
 */
export const READ_FILES = {
  cf: '/etc/mail/sendmail.cf',
  mc: '/etc/mail/sendmail.mc',
  services: '/etc/services',
  hosts: '/etc/hosts',
  unit: '/etc/systemd/system/sendmail.service',
  dropin: '/etc/systemd/system/sendmail.service.d/override.conf',
  envfile: '/etc/sysconfig/sendmail',
  osRelease: '/etc/os-release',
  maillog: '/var/log/maillog',
  messages: '/var/log/messages',
  procTcp: '/proc/net/tcp',
  procTcp6: '/proc/net/tcp6',
  procFib: '/proc/net/fib_trie',
  procInet6: '/proc/net/if_inet6',
  sysctlPortStart: '/proc/sys/net/ipv4/ip_unprivileged_port_start',
  haproxy: '/etc/haproxy/haproxy.cfg',
  dnsmasq: '/etc/dnsmasq.conf',
  resolved: '/etc/systemd/resolved.conf',
  socketUnit: '/etc/systemd/system/app.socket',
  compose: '/opt/app/compose.yaml',
} as const;

/** A minimal /proc capture: one root-owned process (pid 100, comm "holder") listening on 0.0.0.0:25. */
export function addProc(root: string, comm = 'holder', cmdline = 'holder\0-d\0'): void {
  const hdr = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  put(root, '/proc/net/tcp', hdr + '   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n');
  put(root, '/proc/net/tcp6', hdr);
  put(root, '/proc/net/udp', hdr);
  put(root, '/proc/net/udp6', hdr);
  put(root, '/proc/net/fib_trie', 'Local:\n  +-- 127.0.0.0/8 2 0 2\n     |-- 127.0.0.1\n        /32 host LOCAL\n');
  put(root, '/proc/100/status', `Name:\t${comm}\nUid:\t0\t0\t0\t0\n`);
  put(root, '/proc/100/comm', comm + '\n');
  put(root, '/proc/100/cmdline', cmdline);
  put(root, '/proc/100/cgroup', '0::/system.slice/holder.service\n');
  fs.mkdirSync(path.join(root, 'proc/100/fd'), { recursive: true });
  fs.symlinkSync('socket:[4242]', path.join(root, 'proc/100/fd/3'));
}

/** Paths opened, stat'ed or readlink'ed in an strace -f output, with the syscall. */
export function accessedPaths(traceFile: string): { call: string; path: string; line: string }[] {
  const out: { call: string; path: string; line: string }[] = [];
  const text = fs.readFileSync(traceFile, 'utf8');
  const re = /^(?:\d+\s+)?(open|openat|openat2|readlink|readlinkat|stat|lstat|newfstatat|statx|access|faccessat|faccessat2|execve|chdir|mknodat|unlinkat|rename|renameat2|inotify_add_watch)\((?:AT_FDCWD, |\d+<[^>]*>, |\d+, )?"((?:[^"\\]|\\.)*)"/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    // newfstatat(fd, "", …, AT_EMPTY_PATH) is an fstat: no path.
    if (m[2] === '') continue;
    out.push({ call: m[1] as string, path: unescapeStrace(m[2] as string), line });
  }
  return out;
}

function unescapeStrace(s: string): string {
  return s.replace(/\\(x[0-9a-f]{2}|[0-7]{1,3}|.)/g, (_, c: string) => {
    if (c[0] === 'x') return String.fromCharCode(parseInt(c.slice(1), 16));
    if (/^[0-7]+$/.test(c)) return String.fromCharCode(parseInt(c, 8));
    return ({ n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' } as Record<string, string>)[c] ?? c;
  });
}

/**
 * Proof by strace, not by reading the code: for a root whose every file is a symlink to a host secret, the CLI
 * opens, stats and readlinks nothing outside the root (but node's own files), and scan, why and sockets make no
 * AF_INET/AF_INET6 bind() or connect().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessedPaths, appDir, HAVE_STRACE, link, problems, READ_FILES, runAll, runCliAsync, tempDir } from './harness.js';
import { fullRoot, makeCanaryDir } from './hostile-root.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

let app = '';
let root = '';
let traces = '';
let canary = '';
beforeAll(() => {
  app = appDir();
  traces = tempDir('bindcheck-sec-strace-');
  canary = makeCanaryDir();
  root = fullRoot();
  made.push(traces, canary, root);
  // Every file bindcheck reads leads out of the root: half absolute, half relative; the log and proc dirs too.
  Object.values(READ_FILES).forEach((p, i) => {
    const target = i % 2 === 0 ? '/etc/shadow' : '../'.repeat(12) + path.join(canary, path.posix.basename(p)).slice(1);
    link(root, p, target);
  });
  link(root, '/etc/systemd/system/sendmail.service.d', canary);
  link(root, '/proc/100/fd', '/proc/self/fd');
  link(root, '/proc/100/status', '/proc/self/status');
});

/** Where node itself may look: its binary and libraries, the loader's config, its own /proc entries, our build. */
function allowed(p: string): boolean {
  const prefixes = [root, app, '/proc/self/', '/proc/thread-self/', '/dev/null', '/dev/urandom', '/etc/ld.so', '/usr/lib/', '/lib/', '/lib64/', '/usr/lib64/', '/usr/bin/node', '/usr/local/bin/node', '/usr/share/zoneinfo', '/etc/localtime', '/sys/fs/cgroup/', '/sys/devices/system/cpu/', '/etc/ssl/openssl.cnf', '/usr/lib/ssl/openssl.cnf', '/proc/meminfo', '/proc/sys/vm/overcommit_memory', '/proc/stat', '/proc/cpuinfo', '/dev/pts/', '/dev/tty', '/etc/nsswitch.conf', '/etc/passwd'];
  if (prefixes.some((x) => p === x || p.startsWith(x.endsWith('/') ? x : x + '/') || p.startsWith(x))) return true;
  // node's own pid and tasks under /proc (/proc/PID/... where PID is the traced process) are /proc/self in disguise.
  if (/^\/proc\/\d+\/(task\/\d+\/)?(stat|status|maps|cgroup|mountinfo|comm|fd)\b/.test(p)) return true;
  return ['/', '/tmp', '/proc', '/proc/self', '/sys', '/usr', '/etc', '/dev'].includes(p) || p === path.dirname(root) || p === os_tmp();
}

function os_tmp(): string {
  return fs.realpathSync(process.env.TMPDIR ?? '/tmp');
}

describe.skipIf(!HAVE_STRACE)('syscalls under strace', () => {
  it('never opens, stats or readlinks a path outside the root', { timeout: 300_000 }, async () => {
    const runs = [
      ['scan', '--root', root],
      ['scan', '--root', root, '--format', 'sarif'],
      ['why', 'sendmail', '--root', root],
      ['why', '25', '--root', root, '--json'],
      ['sockets', '--root', root, '--all'],
      ['trace', '--file', path.join(root, 'root/sendmail-strace.txt'), '--root', root],
    ];
    const results = await runAll(
      runs.map((args) => () => runCliAsync(args, { timeoutMs: 60_000, strace: { syscalls: 'open,openat,openat2,readlink,readlinkat,stat,lstat,newfstatat,statx,access,faccessat,faccessat2,execve', traceDir: traces } })),
    );
    const outside: string[] = [];
    results.forEach((r, i) => {
      expect(problems(r, [0, 1, 2]), (runs[i] as string[]).join(' ')).toEqual([]);
      for (const a of accessedPaths(r.trace as string)) {
        const abs = path.isAbsolute(a.path) ? a.path : path.resolve(os_tmp(), a.path);
        if (!allowed(abs)) outside.push(`${(runs[i] as string[])[0]}: ${a.line}`);
      }
      const out = r.stdout.toString() + r.stderr.toString();
      expect(out).not.toContain('BINDCHECK-CANARY');
    });
    expect([...new Set(outside)]).toEqual([]);
  });

  it('binds and connects nothing on AF_INET/AF_INET6 (scan, why, sockets on the live host and an image)', { timeout: 300_000 }, async () => {
    const runs = [
      ['scan'],
      ['scan', '--format', 'json'],
      ['why', 'sendmail'],
      ['why', '25', '--json'],
      ['sockets', '--all'],
      ['scan', '--root', root],
      ['why', 'sendmail', '--root', root],
    ];
    const results = await runAll(runs.map((args) => () => runCliAsync(args, { timeoutMs: 60_000, strace: { syscalls: 'socket,bind,connect,listen,sendto', traceDir: traces } })));
    const net: string[] = [];
    results.forEach((r, i) => {
      expect(problems(r, [0, 1, 2]), (runs[i] as string[]).join(' ')).toEqual([]);
      for (const line of fs.readFileSync(r.trace as string, 'utf8').split('\n')) {
        if (/\b(bind|connect|listen|sendto)\(.*AF_INET6?\b/.test(line) || /\bsocket\(AF_INET6?\b/.test(line)) net.push(`${(runs[i] as string[]).join(' ')}: ${line}`);
      }
    });
    expect(net).toEqual([]);
  });
});

/**
 * Terminal safety (issue 4 §3): escapes, OSC 8 links, C1 CSI, bidi overrides, zero-width characters and NUL from
 * configs, units, logs, /proc (comm, cmdline), traces and bad arguments never reach stdout or stderr raw — in text,
 * JSON, SARIF and diff output alike (JSON may carry them only as \u escapes).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProc, appDir, describe_, problems, put, runAll, runCliAsync, seedCopy, tempDir, type CliRun } from './harness.js';

export const EVIL = '\x1b[2J\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\x9b31m\u202eRLO\u2066LRI\u2069\u200bZW\0NUL\x07';

/** Raw bytes a terminal would act on (UTF-8): ESC, BEL, NUL, C1 (U+0080–9F), bidi, zero-width, BOM. */
export function rawUnsafe(buf: Buffer): string[] {
  const text = buf.toString('utf8');
  const hits = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if ((cp < 0x20 && cp !== 0x0a && cp !== 0x09) || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0xfeff) {
      hits.add(`U+${cp.toString(16).padStart(4, '0')}`);
    }
  }
  return [...hits];
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

let root = '';
beforeAll(() => {
  appDir();
  root = seedCopy();
  made.push(root);
  const cf = fs.readFileSync(`${root}/etc/mail/sendmail.cf`, 'utf8');
  put(root, '/etc/mail/sendmail.cf', cf + `O DaemonPortOptions=Name=${EVIL},Addr=10.9.9.9,Port=${EVIL}\nO DaemonPortOptions=Name=X${EVIL},Addr=${EVIL}\nO Evil${EVIL}=1\n`);
  put(root, '/etc/services', fs.readFileSync(`${root}/etc/services`, 'utf8') + `smtp${EVIL} 26/tcp\n`);
  put(root, '/etc/systemd/system/sendmail.service.d/evil.conf', `[Service]\nEnvironment=A=${EVIL}\nExecStart=\nExecStart=/usr/sbin/sendmail -bd -q1h -O${EVIL}\nEvil${EVIL}=1\n`);
  put(root, '/var/log/maillog', fs.readFileSync(`${root}/var/log/maillog`, 'utf8') + `Aug 30 14:56:07 gorp send${EVIL}mail[24097]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon ${EVIL}: cannot bind: Address already in use\n`);
  addProc(root, `hold${EVIL}`.slice(0, 40), `hold${EVIL}\0-x${EVIL}\0`);
  // status Name: as the kernel escapes it, plus a raw one in comm
  put(root, '/proc/100/status', `Name:\thold\\e[2J\\033]8;;x\\007\nUid:\t0\t0\t0\t0\n`);
  put(root, '/root/evil-strace.txt', `24097 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3\n24097 bind(3, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0\n24097 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 4\n24097 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EADDRINUSE (Address already in use${EVIL})\n24097 ${EVIL}(4) = 0\n24097 +++ exited with 71 +++\n`);
});

/** --color output carries bindcheck's own SGR colour codes; nothing else may carry ESC. */
function unsafe(r: CliRun, color = false): string[] {
  const stdout = color ? Buffer.from(r.stdout.toString('utf8').replace(/\x1b\[[0-9;]*m/g, '')) : r.stdout;
  const out = rawUnsafe(stdout).map((x) => `stdout ${x}`);
  const err = rawUnsafe(r.stderr).map((x) => `stderr ${x}`);
  return [...out, ...err];
}

describe('hostile text never reaches the terminal raw', () => {
  it('every command, reporter and error message', { timeout: 300_000 }, async () => {
    const fixRoot = tempDir('bindcheck-sec-fix-');
    made.push(fixRoot);
    fs.cpSync(root, fixRoot, { recursive: true, verbatimSymlinks: true });
    const logLine = `gorp sendmail[1]: ${EVIL} opendaemonsocket: daemon MTA${EVIL}: cannot bind: Address already in use`;
    const runs: [string[], number[]][] = [
      [['scan', '--root', root], [0, 1]],
      [['scan', '--root', root, '--color', '--verbose'], [0, 1]],
      [['scan', '--root', root, '--format', 'json'], [0, 1]],
      [['scan', '--root', root, '--format', 'sarif'], [0, 1]],
      [['scan', '--root', root, '--diff', '--unsafe-fixes'], [0, 1]],
      [['scan', '--root', fixRoot, '--fix', '--unsafe-fixes'], [0, 1]],
      [['why', 'sendmail', '--root', root], [0, 1, 2]],
      [['why', 'sendmail', '--root', root, '--json'], [0, 1, 2]],
      [['why', '25', '--root', root, '--color'], [0, 1, 2]],
      [['why', logLine, '--root', root], [0, 1, 2]],
      [['why', logLine, '--root', root, '--json'], [0, 1, 2]],
      [['why', 'sendmail', '--root', root, '--evidence', `${root}/root/evil-strace.txt`], [0, 1, 2]],
      [['trace', '--file', `${root}/root/evil-strace.txt`], [0, 1]],
      [['trace', '--file', `${root}/root/evil-strace.txt`, '--json', '--root', root], [0, 1]],
      [['trace', '--file', `${root}/root/evil-strace.txt`, '--root', root], [0, 1]],
      [['sockets', '--root', root], [0]],
      [['sockets', '--root', root, '--json', '--all'], [0]],
      // bad arguments echo what was given
      [['scan', '--format', EVIL], [2]],
      [['scan', '--fail-on', EVIL], [2]],
      [['scan', `--${EVIL}`], [2]],
      [['scan', '--baseline', `/nonexistent/${EVIL}`], [2]],
      [['why', `--${EVIL}`], [2]],
      [['why', EVIL, '--root', root], [0, 1, 2]],
      [['trace', '--file', `/nonexistent/${EVIL}`], [2]],
      [['trace', '--file', `${root}/root/evil-strace.txt`, '--timeout', EVIL], [2]],
      [['sockets', '--max-owners', EVIL], [2]],
      [['sockets', `--${EVIL}`], [2]],
      [['help', EVIL], [2]],
    ];
    const results = await runAll(runs.map(([args]) => () => runCliAsync(args.map((a) => a.replaceAll('\0', '')), { timeoutMs: 30_000 })));
    const failures = results.flatMap((r, i) => {
      const [args, allowed] = runs[i] as [string[], number[]];
      const what = JSON.stringify(args.join(' ')).slice(0, 120);
      const p = [...problems(r, allowed), ...unsafe(r, args.includes('--color'))].map((x) => `${what}: ${x}`);
      return p.length > 0 ? [...p, describe_(r)] : [];
    });
    expect(failures).toEqual([]);
    // The hostile text is there, escaped, not dropped: the scan reports the bad address.
    expect((results[0] as CliRun).stdout.toString()).toMatch(/\\x1b|\\u\{202e\}/);
  });

  it('a live process whose comm and argv carry escapes', { timeout: 60_000 }, async () => {
    const py = `import socket,sys,time
open('/proc/self/comm','w').write('\\x1b[2J\\u202eev\\x9bil')
s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)`;
    const child = spawn('python3', ['-c', py, `\x1b]8;;http://evil/\x07argv\u202e`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
      const runs = [['sockets'], ['sockets', '--json'], ['scan', '--format', 'json'], ['why', port], ['why', port, '--json']];
      const results = await runAll(runs.map((a) => () => runCliAsync(a, { timeoutMs: 30_000 })));
      const failures = results.flatMap((r, i) => [...problems(r, [0, 1, 2]), ...unsafe(r)].map((x) => `${(runs[i] as string[]).join(' ')}: ${x}`));
      expect(failures).toEqual([]);
      const table = (results[0] as CliRun).stdout.toString();
      expect(table).toContain(`127.0.0.1:${port}`);
      expect(table).toMatch(/\\x1b\[2J/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/**
 * `bindcheck trace`: saved traces (text and JSON), usage errors, a missing strace, ptrace refused, and live runs of a
 * real program under strace in a private network namespace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { traceCommand } from '../../../src/commands/trace.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SEED = join(HERE, 'fixtures', 'seed-blog.strace.txt');
const RECORDED_SEED = join(HERE, '..', '..', 'integration', 'recorded', 'sendmail', 'seed', 'strace.txt');

async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await traceCommand(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false, env });
  return { code, out, err };
}

describe('bindcheck trace --file', () => {
  it('names the holder of the seed\'s failed bind, with both trace lines and the kernel rule; exit 1', async () => {
    const r = await run(['--file', SEED]);
    expect(r.code).toBe(1);
    const file = SEED;
    expect(r.out).toContain(
      `bind(5, 127.0.0.1:25) = -1 EADDRINUSE at ${file}:20: 0.0.0.0:25 is held by fd 4 of pid 12216, bound at ${file}:12 — the kernel rule: fd 4 of pid 12216 (0.0.0.0:25 (wildcard)) covers fd 5 of pid 12216 (127.0.0.1:25)`,
    );
    expect(r.out).toContain('the new socket has SO_REUSEADDR unknown and the holder has SO_REUSEADDR unknown');
    expect(r.out).toContain('which the trace does not show.');
    expect(r.out).toContain('pid 12217 exited with 0');
  });

  it('on the recorded real sendmail trace: listen(5) fails, held by the listening fd 4', async () => {
    const r = await run(['--file', RECORDED_SEED]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/listen\(5\) = -1 EADDRINUSE at .*strace\.txt:397: 0\.0\.0\.0:25 is held by fd 4 of pid 31, bound at .*:386, listening since .*:395 — the kernel rule: .*the holder is listening, so SO_REUSEADDR does not help\./);
    expect(r.out).toContain('4 bind()/listen() call(s) replayed: 4 confirmed by the model, 0 undecidable from the trace, 0 outside the model, 0 disagreement(s).');
  });

  it('--json prints the TraceAnalysis', async () => {
    const r = await run(['--json', '--file', RECORDED_SEED]);
    const j = JSON.parse(r.out) as { schemaVersion: number; failures: { holder: { fd: number } }[]; disagreements: unknown[] };
    expect(j.schemaVersion).toBe(1);
    expect(j.failures[0]!.holder.fd).toBe(4);
    expect(j.disagreements).toEqual([]);
  });

  it('escapes trace-derived text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-trace-'));
    const f = join(dir, 't.txt');
    writeFileSync(f, '1 \u001b]0;pwned\u0007 hello\n1 close(3) = 0\n');
    const r = await run(['--file', f]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.out).toContain('unrecognised line');
  });

  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['--file', SEED, '--', 'true'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['--timeout', 'x', '--', 'true'])).code).toBe(2);
    expect((await run(['--file', '/nonexistent/trace'])).code).toBe(2);
  });
});

describe('bindcheck trace -- COMMAND', () => {
  it('a missing strace is a clear error, exit 2', async () => {
    const r = await run(['--', 'true'], { PATH: '/nonexistent' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/strace is not installed/);
  });

  it('ptrace refused is a clear error, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bc-fake-strace-'));
    const fake = join(dir, 'strace');
    writeFileSync(fake, '#!/bin/sh\necho "strace: PTRACE_TRACEME: Operation not permitted" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const r = await run(['--', 'true'], { PATH: `${dir}:${process.env.PATH ?? ''}` });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ptrace is not permitted/);
  });

  const unavailable = liveUnavailable();
  const live = unavailable ? it.skip : it;
  if (unavailable) {
    if (process.env.CI) it('strace and ptrace are available in CI', () => expect.fail(unavailable));
    else console.log(`skipping live strace tests: ${unavailable}`);
  }

  const PY = [
    'import socket, sys, time',
    'a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    'a.bind(("0.0.0.0", 5525)); a.listen(5)',
    'b = socket.socket(); b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    'try:\n  b.bind(("0.0.0.0", 5525))\nexcept OSError as e:\n  print("bind failed", e.errno, file=sys.stderr)',
    'time.sleep(float(sys.argv[1]))',
  ].join('\n');

  live('finds the failed bind and its holder in a real run (private network namespace)', async () => {
    const r = await run(['--json', '--', 'unshare', '-n', 'python3', '-c', PY, '0']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as {
      failures: { call: { call: string; errno: string; port: number }; holder?: { fd: number; address: string } }[];
      disagreements: unknown[];
    };
    expect(j.disagreements).toEqual([]);
    expect(j.failures).toHaveLength(1);
    expect(j.failures[0]!.call).toMatchObject({ call: 'bind', errno: 'EADDRINUSE', port: 5525 });
    expect(j.failures[0]!.holder).toMatchObject({ address: '0.0.0.0' });
  }, 30_000);

  live('--timeout stops a daemon that never exits and analyses what was captured', async () => {
    const t0 = Date.now();
    const r = await run(['--timeout', '4', '--', 'unshare', '-n', 'python3', '-c', PY, '60']);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stopped the command after 4 s/);
    expect(r.out).toMatch(/bind\(\d+, 0\.0\.0\.0:5525\) = -1 EADDRINUSE at strace:\d+: 0\.0\.0\.0:5525 is held by fd \d+ of pid \d+/);
    expect(r.out).toMatch(/killed by SIGTERM|exited with/);
  }, 30_000);
});

function liveUnavailable(): string | undefined {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'strace is not installed';
  }
  const probe = spawnSync('strace', ['-f', '-e', 'trace=none', '-o', '/dev/null', '--', 'unshare', '-n', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `strace/unshare cannot run here: ${(probe.stderr ?? '').trim().slice(0, 200)}`;
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
  } catch {
    return 'python3 is not installed';
  }
  return undefined;
}

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../../src/cli.js';
import { applyEdits } from '../../src/fixes/apply.js';
import type { JsonReport } from '../../src/reporters/json.js';
import { scanInventory } from '../../src/run.js';

const REPO = join(import.meta.dirname, '..', '..');
const SEED = join(REPO, 'examples', 'seed-appliance');
const CF = '/etc/mail/sendmail.cf';

async function run(args: string[], env: NodeJS.ProcessEnv = {}, isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY, env };
  const code = await main(args, io);
  return { code, out, err };
}

/** Line numbers of the example's two DaemonPortOptions lines, read from the file rather than assumed. */
function daemonLines(): number[] {
  return readFileSync(join(SEED, 'etc/mail/sendmail.cf'), 'utf8')
    .split('\n')
    .flatMap((l, i) => (l.startsWith('O DaemonPortOptions=') ? [i + 1] : []));
}

describe('the seed, end to end', () => {
  it('scan --root examples/seed-appliance names the wildcard line as the cause, the 127.0.0.1 line, EADDRINUSE and the fix', async () => {
    const [wild, specific] = daemonLines();
    const { code, out } = await run(['scan', '--root', SEED]);
    expect(code).toBe(1);
    expect(out).toContain(`error BC101 wildcard-covers-specific`);
    expect(out).toContain(`--> ${CF}:${wild}:`);
    expect(out).toContain(`${CF}:${specific}:3  then: sendmail MTA asks for tcp/127.0.0.1:25`);
    expect(out).toMatch(/listen\(\) of tcp\/127\.0\.0\.1:25 fails with EADDRINUSE/);
    expect(out).toMatch(/no Addr= given: sendmail binds INADDR_ANY \(0\.0\.0\.0\)/);
    expect(out).toContain(`-O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA`);
    expect(out).toContain(`+#O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA`);
    expect(out).not.toMatch(/\u001b\[/); // not a TTY: no colour
  });

  it('--json carries the daemon plan with predicted outcomes and the finding with evidence and a diff', async () => {
    const [wild, specific] = daemonLines();
    const { code, out } = await run(['scan', '--root', SEED, '--json']);
    expect(code).toBe(1);
    const r = JSON.parse(out) as JsonReport;
    expect(r.schemaVersion).toBe(1);
    expect(r.daemons).toHaveLength(1);
    expect(r.daemons[0]).toMatchObject({ daemon: 'sendmail', config: CF, starts: false });
    expect(r.daemons[0]?.sockets.map((s) => [s.address, s.port, s.source.line, s.outcome])).toEqual([
      ['0.0.0.0', 25, wild, { ok: true }],
      ['127.0.0.1', 25, specific, expect.objectContaining({ ok: false, call: 'listen', errno: 'EADDRINUSE' })],
    ]);
    const f = r.findings.find((x) => x.code === 'BC101');
    // BC101 is the cause; BC104 is its effect on the alerts (mail submitted to 127.0.0.1:25 goes nowhere).
    expect(r.findings.map((x) => x.code).sort()).toEqual(['BC101', 'BC104']);
    expect(f).toMatchObject({ code: 'BC101', severity: 'error', errno: 'EADDRINUSE', location: { file: CF, line: wild } });
    expect(f?.endpoint).toEqual({ proto: 'tcp', address: '127.0.0.1', port: 25 });
    expect(f?.evidence.map((e) => e.line)).toEqual([wild, specific, specific, 0]);
    expect(f?.fixes[0]?.diff).toContain(`@@ -${(specific ?? 0) - 3},7 +${(specific ?? 0) - 3},7 @@`);
  });

  it('every fix bindcheck offers, applied, leaves a config with no findings', () => {
    const before = scanInventory({ root: SEED, live: false });
    const fixes = before.findings.flatMap((f) => f.fixes);
    expect(fixes.length).toBeGreaterThanOrEqual(2);
    for (const fix of fixes) {
      const root = mkdtempSync(join(tmpdir(), 'bc-seedfix-'));
      cpSync(SEED, root, { recursive: true });
      const host = join(root, CF);
      writeFileSync(host, applyEdits(readFileSync(host, 'utf8'), fix.edits));
      const after = scanInventory({ root, live: false });
      expect(after.findings, fix.description).toEqual([]);
      expect(after.analysis.predictions[0]?.starts).toBe(true);
    }
  });
});

describe('cli', () => {
  it('exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage errors', async () => {
    const clean = join(REPO, 'test', 'checks', 'fixtures', 'bc101-ok-other-port');
    expect((await run(['scan', '--root', clean])).code).toBe(0);
    expect((await run(['--root', SEED, '--fail-on', 'error'])).code).toBe(1);
    expect((await run(['--root', SEED, '--bogus'])).code).toBe(2);
    expect((await run(['--root', SEED, '--format', 'xml'])).code).toBe(2);
    expect((await run(['--root', SEED, '--fail-on', 'never'])).code).toBe(2);
  });

  it('colours on a TTY unless NO_COLOR is set', async () => {
    expect((await run(['--root', SEED], {}, true)).out).toMatch(/\u001b\[/);
    expect((await run(['--root', SEED], { NO_COLOR: '1' }, true)).out).not.toMatch(/\u001b\[/);
  });

  it('the built bin (the CommonJS bundle) and dist/cli.js run and say the same: --version, help, a scan of the seed', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const bin = join(REPO, pkg.bin.bindcheck as string);
    expect(bin).toMatch(/bindcheck\.cjs$/);
    const esm = join(REPO, 'dist', 'cli.js');
    for (const file of [bin, esm]) expect(execFileSync(process.execPath, [file, '--version']).toString().trim()).toBe(pkg.version);
    const runBoth = (args: string[]): [ReturnType<typeof spawnSync>, ReturnType<typeof spawnSync>] => [spawnSync(process.execPath, [bin, ...args]), spawnSync(process.execPath, [esm, ...args])];
    const [r, e] = runBoth(['scan', '--root', SEED, '--json']);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout.toString()) as JsonReport).findings.map((x) => x.code)).toContain('BC101');
    // The bundle reads package.json (version, SARIF's driver) and finds its files relative to dist/ as the modules do.
    expect(r.stdout.toString()).toBe(e.stdout.toString());
    for (const args of [['scan', '--root', SEED, '--format', 'sarif'], ['help', 'sockets'], ['why', '--root', SEED, 'sendmail'], ['sockets', '--root', SEED, '--json'], ['completion', 'bash'], ['nosuchcommand']]) {
      const [b, m] = runBoth(args);
      expect(b.status, args.join(' ')).toBe(m.status);
      expect(b.stdout.toString(), args.join(' ')).toBe(m.stdout.toString());
      expect(b.stderr.toString(), args.join(' ')).toBe(m.stderr.toString());
    }
  });
});

import { mkdtempSync, readFileSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inlineSuppression, makeBaseline } from '../../src/baseline/suppress.js';
import { main } from '../../src/cli.js';
import type { JsonReport } from '../../src/reporters/json.js';
import { scanInventory } from '../../src/run.js';

const FIX = join(import.meta.dirname, '..', 'checks', 'fixtures');

function withCf(text: string): string {
  const root = mkdtempSync(join(tmpdir(), 'bc-suppress-'));
  cpSync(join(FIX, 'bc101-seed'), root, { recursive: true });
  writeFileSync(join(root, 'etc/mail/sendmail.cf'), text);
  return root;
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false, env: {} });
  return { code, out, err };
}

describe('inline suppressions', () => {
  it('parse in each comment syntax, with and without a reason', () => {
    expect(inlineSuppression('# bindcheck: ignore BC101 -- vendor line, removed in 7.5')).toEqual({ codes: ['BC101'], reason: 'vendor line, removed in 7.5' });
    expect(inlineSuppression('dnl bindcheck: ignore BC101, BC102')).toEqual({ codes: ['BC101', 'BC102'] });
    expect(inlineSuppression('; bindcheck: ignore all')).toEqual({ codes: ['all'] });
    expect(inlineSuppression('O DaemonPortOptions=Name=MTA')).toBeUndefined();
    expect(inlineSuppression('# bindcheck: ignored BC101')).toBeUndefined();
  });

  it('a comment above the finding\'s line leaves it out and the report says so; another code is not affected', () => {
    const cf = (code: string) => `# bindcheck: ignore ${code} -- known, fixed upstream\nO DaemonPortOptions=Name=MTA\nO DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\n`;
    const quiet = scanInventory({ root: withCf(cf('BC101')), live: false });
    expect(quiet.findings).toEqual([]);
    expect(quiet.suppressed.map((s) => [s.finding.code, s.by, s.reason, s.where.line])).toEqual([['BC101', 'inline', 'known, fixed upstream', 1]]);
    expect(scanInventory({ root: withCf(cf('BC202')), live: false }).findings.map((f) => f.code)).toEqual(['BC101']);
  });
});

describe('baseline', () => {
  it('--write-baseline records findings; --baseline accepts them even after lines move, and new findings still fail', async () => {
    const root = withCf(readFileSync(join(FIX, 'bc101-seed/etc/mail/sendmail.cf'), 'utf8'));
    const file = join(root, 'baseline.json');
    expect((await run(['--root', root, '--no-live', '--write-baseline', file])).code).toBe(0);
    const r1 = await run(['--root', root, '--no-live', '--baseline', file, '--json']);
    expect(r1.code).toBe(0);
    expect((JSON.parse(r1.out) as JsonReport).suppressed.map((s) => s.by)).toEqual(['baseline']);
    // Lines shift, the accepted finding stays accepted; a new problem is reported.
    const cf = join(root, 'etc/mail/sendmail.cf');
    writeFileSync(cf, `# a comment added later\n\n${readFileSync(cf, 'utf8')}O DaemonPortOptions=Port=smtp,Addr=192.0.2.99, Name=Far\n`);
    const r2 = await run(['--root', root, '--no-live', '--baseline', file, '--json']);
    expect(r2.code).toBe(1);
    expect((JSON.parse(r2.out) as JsonReport).findings.map((f) => f.code)).toEqual(['BC202']);
  });

  it('a broken baseline is a usage error, not a crash', async () => {
    const root = withCf('O DaemonPortOptions=Name=MTA\n');
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"nope": true}');
    const r = await run(['--root', root, '--baseline', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a bindcheck baseline/);
    expect((await run(['--root', root, '--baseline', join(root, 'missing.json')])).code).toBe(2);
  });

  it('makeBaseline numbers identical findings apart', () => {
    const root = withCf('O DaemonPortOptions=Name=MTA\nO DaemonPortOptions=Name=MTA\nO DaemonPortOptions=Name=MTA\n');
    const r = scanInventory({ root, live: false });
    const b = makeBaseline(r.findings, r.inventory.sources);
    expect(new Set(b.findings.map((x) => x.fingerprint)).size).toBe(b.findings.length);
  });
});

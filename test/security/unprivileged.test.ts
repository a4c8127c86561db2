/**
 * As an unprivileged user (uid/gid 65534, no groups): no crash, documented exit codes, unreadable files become
 * BC001 findings, owners that need root are reported unseen — and a root-held port still blocks the prediction.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addProc, appDir, describe_, IS_ROOT, problems, runAll, runCliAsync, seedCopy } from './harness.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
beforeAll(() => {
  appDir();
});

describe.skipIf(!IS_ROOT)('as nobody', () => {
  it('live host: scan, sockets, why sendmail, why 25 run and say what they could not see', { timeout: 120_000 }, async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const runs: [string[], number[]][] = [
        [['scan'], [0, 1]],
        [['scan', '--format', 'json'], [0, 1]],
        [['sockets'], [0]],
        [['sockets', '--json', '--all'], [0]],
        [['why', 'sendmail'], [0, 1, 2]],
        [['why', '25'], [0, 1, 2]],
        [['why', String(port), '--json'], [0, 1, 2]],
      ];
      const results = await runAll(runs.map(([a]) => () => runCliAsync(a, { nobody: true, timeoutMs: 60_000 })));
      const failures = results.flatMap((r, i) => problems(r, (runs[i] as [string[], number[]])[1]).map((x) => `${(runs[i] as [string[], number[]])[0].join(" ")}: ${x}\n${describe_(r)}`));
      expect(failures).toEqual([]);
      // The root-held listener: owner not guessed, reported as needing root.
      const doc = JSON.parse((results[3] as { stdout: Buffer }).stdout.toString()) as { sockets: { port: number; address: string; owners: unknown[]; ownersKnown: boolean; uid: number }[]; unseen: { what: string; why: string }[] };
      const mine = doc.sockets.find((s) => s.port === port && s.address === '127.0.0.1');
      expect(mine).toBeDefined();
      expect(mine?.owners).toEqual([]);
      expect(mine?.ownersKnown).toBe(false);
      expect(doc.unseen.map((u) => u.why).join('\n')).toMatch(/need root/);
      expect((results[2] as { stdout: Buffer }).stdout.toString()).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s.*\\? \\(uid=0`));
      // why PORT: the holder is shown, by uid, as needing root to name.
      const why = JSON.parse((results[6] as { stdout: Buffer }).stdout.toString()) as { chain: { label: string }[] };
      expect(why.chain.map((c) => c.label).join('\n')).toMatch(/uid 0 \(owner needs root\)/);
    } finally {
      server.close();
    }
  });

  it('an image with an unreadable config, unit dir and fd dirs: BC001, owners unseen, the held port still blocks', { timeout: 120_000 }, async () => {
    const root = seedCopy();
    made.push(root);
    addProc(root);
    fs.chmodSync(`${root}/etc/mail/sendmail.cf`, 0o000);
    fs.chmodSync(`${root}/proc/100/fd`, 0o000);
    const runs = [['scan', '--root', root, '--json'], ['why', 'sendmail', '--root', root, '--json'], ['sockets', '--root', root, '--json']];
    const results = await runAll(runs.map((a) => () => runCliAsync(a, { nobody: true, timeoutMs: 60_000 })));
    const failures = results.flatMap((r, i) => problems(r, [0, 1, 2]).map((x) => `${(runs[i] as string[]).join(' ')}: ${x}\n${describe_(r)}`));
    expect(failures).toEqual([]);
    const scan = JSON.parse((results[0] as { stdout: Buffer }).stdout.toString()) as { findings: { code: string; message: string; location: { file: string } }[] };
    expect(scan.findings.find((f) => f.code === 'BC001' && f.location.file === '/etc/mail/sendmail.cf')?.message).toMatch(/permission denied/);
    expect((results[0] as { status: number }).status).toBe(1);
    const why = JSON.parse((results[1] as { stdout: Buffer }).stdout.toString()) as { status: string };
    expect(why.status).toBe('fails');
    const sockets = JSON.parse((results[2] as { stdout: Buffer }).stdout.toString()) as { sockets: { port: number; ownersKnown: boolean }[]; unseen: { why: string }[] };
    expect(sockets.sockets.find((s) => s.port === 25)?.ownersKnown).toBe(false);
    expect(sockets.unseen.map((u) => u.why).join('\n')).toMatch(/need root/);

    // Readable config, owner still unseen: the root-held :25 must still make sendmail's 0.0.0.0:25 fail.
    fs.chmodSync(`${root}/etc/mail/sendmail.cf`, 0o644);
    const r = await runCliAsync(['why', '25', '--root', root, '--json'], { nobody: true, timeoutMs: 60_000 });
    expect(problems(r, [0, 1, 2])).toEqual([]);
    const w = JSON.parse(r.stdout.toString()) as { status: string; chain: { label: string }[] };
    expect(w.status).toBe('fails');
    expect(w.chain.map((c) => c.label).join('\n')).toMatch(/owner needs root/);
  });

  it('an image without /proc: no host sockets or facts leak into the answer', { timeout: 60_000 }, async () => {
    const root = seedCopy();
    made.push(root);
    const r = await runCliAsync(['scan', '--root', root, '--json'], { nobody: true, timeoutMs: 60_000 });
    expect(problems(r, [0, 1])).toEqual([]);
    const doc = JSON.parse(r.stdout.toString()) as { live: boolean; hostFacts: Record<string, { origin: string }>; findings: { evidence: { file: string }[] }[] };
    expect(doc.live).toBe(false);
    for (const [k, f] of Object.entries(doc.hostFacts)) expect(f.origin, k).toBe('assumed');
    expect(JSON.stringify(doc)).not.toMatch(/"kind":"live"|\/proc\/net\/tcp/);
  });
});

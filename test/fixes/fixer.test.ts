import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFixes } from '../../src/fixes/fixer.js';
import { scanInventory } from '../../src/run.js';

const REPO = join(import.meta.dirname, '..', '..');
const SEED = join(REPO, 'examples', 'seed-appliance');
const CF = 'etc/mail/sendmail.cf';

function copySeed(): string {
  const root = mkdtempSync(join(tmpdir(), 'bc-fix-'));
  cpSync(SEED, root, { recursive: true });
  return root;
}

function xattr(path: string): string | undefined {
  try {
    return execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "user.bindcheck").decode())', path]).toString().trim();
  } catch {
    return undefined;
  }
}

describe('applyFixes', () => {
  it('applies the safe fix atomically, keeps owner, mode and xattrs, leaves a backup, and the re-scan is clean', () => {
    const root = copySeed();
    const host = join(root, CF);
    chmodSync(host, 0o640);
    chownSync(host, 8, 12);
    execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.bindcheck", b"label")', host]);
    const before = readFileSync(host, 'utf8');
    const opts = { root, live: false };
    const r = scanInventory(opts);
    const rep = applyFixes(r, { unsafe: false, backup: true, rescan: () => scanInventory(opts) });
    expect(rep.rolledBack).toBeUndefined();
    expect(rep.applied.map((a) => a.fix.safety)).toEqual(['safe']);
    expect(scanInventory(opts).findings).toEqual([]);
    const st = statSync(host);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 8, 12]);
    expect(xattr(host)).toBe('label');
    expect(readFileSync(`${host}.bindcheck-bak`, 'utf8')).toBe(before);
    expect(readFileSync(host, 'utf8')).toContain('#O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA');
  });

  it('applies nothing unsafe unless asked', () => {
    const root = copySeed();
    const r = scanInventory({ root, live: false });
    // Make the safe fix unavailable: only the unsafe one is left.
    const f = r.findings[0];
    if (!f) throw new Error('seed must have a finding');
    f.fixes = f.fixes.filter((x) => x.safety === 'unsafe');
    const rep = applyFixes(r, { unsafe: false, backup: false, rescan: () => scanInventory({ root, live: false }) });
    expect(rep.applied).toEqual([]);
    expect(rep.skipped[0]?.why).toMatch(/unsafe/);
    const rep2 = applyFixes(r, { unsafe: true, backup: false, rescan: () => scanInventory({ root, live: false }) });
    expect(rep2.applied.map((a) => a.fix.safety)).toEqual(['unsafe']);
    expect(readFileSync(join(root, CF), 'utf8')).toContain('#O DaemonPortOptions=Name=MTA\n');
  });

  it('refuses a file that changed since it was read', () => {
    const root = copySeed();
    const r = scanInventory({ root, live: false });
    writeFileSync(join(root, CF), readFileSync(join(root, CF), 'utf8') + '# edited meanwhile\n');
    const rep = applyFixes(r, { unsafe: false, backup: false, rescan: () => scanInventory({ root, live: false }) });
    expect(rep.applied).toEqual([]);
    expect(rep.skipped[0]?.why).toMatch(/changed since it was read/);
    expect(readFileSync(join(root, CF), 'utf8')).toContain('# edited meanwhile');
  });

  it('rolls back when the re-scan shows a new finding', () => {
    const root = copySeed();
    const before = readFileSync(join(root, CF), 'utf8');
    const r = scanInventory({ root, live: false });
    const bogus = scanInventory({ root: join(REPO, 'test', 'checks', 'fixtures', 'bc202-not-local'), live: false });
    const rep = applyFixes(r, { unsafe: false, backup: false, rescan: () => bogus });
    expect(rep.rolledBack).toMatch(/new finding appeared: BC202/);
    expect(readFileSync(join(root, CF), 'utf8')).toBe(before);
  });
});

describe('--fix under SIGKILL', () => {
  it('leaves the config either wholly old or wholly new, whenever the process dies', async () => {
    const bin = join(REPO, 'dist', 'bindcheck.cjs');
    const root = copySeed();
    const host = join(root, CF);
    const old = readFileSync(host, 'utf8');
    // One whole run, timed: the kills are spread over as long as a run takes on this machine now.
    const started = Date.now();
    const fixed = (() => {
      const r2 = copySeed();
      execFileSync(process.execPath, [bin, '--root', r2, '--fix', '--no-backup', '--no-live'], { stdio: 'ignore' });
      return readFileSync(join(r2, CF), 'utf8');
    })();
    const runMs = Math.max(200, Date.now() - started);
    expect(fixed).not.toBe(old);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      writeFileSync(host, old);
      const child = spawn(process.execPath, [bin, '--root', root, '--fix', '--no-backup', '--no-live'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      // Spread the kill over the whole run: start-up, scan, write, rename, re-scan.
      const delay = 20 + (((i * 97) % 1000) / 1000) * runMs * 1.2;
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited;
      const now = readFileSync(host, 'utf8');
      expect([old, fixed]).toContain(now);
      seen.add(now === old ? 'old' : 'new');
    }
    // The kills landed on both sides of the rename at least once.
    expect(seen).toEqual(new Set(['old', 'new']));
    expect(existsSync(host)).toBe(true);
    // Leftover temporary files are possible (killed before the rename) but never replace the config.
    const original = new Set(readdirSync(join(SEED, 'etc', 'mail')));
    for (const name of readdirSync(join(root, 'etc', 'mail'))) expect(original.has(name) || name.startsWith('.sendmail.cf.bindcheck-'), name).toBe(true);
  }, 120_000);
});

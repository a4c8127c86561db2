import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../src/fs/root-fs.js';

function image(): string {
  const root = mkdtempSync(join(tmpdir(), 'bc-rootfs-'));
  mkdirSync(join(root, 'etc', 'mail'), { recursive: true });
  writeFileSync(join(root, 'etc', 'mail', 'sendmail.cf'), 'O DaemonPortOptions=Name=MTA\n');
  return root;
}

describe('RootFs confinement', () => {
  it('resolves absolute and relative symlinks inside the root, never outside', () => {
    const root = image();
    const outside = mkdtempSync(join(tmpdir(), 'bc-outside-'));
    writeFileSync(join(outside, 'secret'), 'host secret\n');
    symlinkSync('/etc/mail/sendmail.cf', join(root, 'etc', 'abs-link'));
    symlinkSync('../../../../../../../..' + outside + '/secret', join(root, 'etc', 'dotdot-link'));
    symlinkSync(outside + '/secret', join(root, 'etc', 'host-abs-link'));
    const fs = new RootFs(root);
    expect(fs.readText('/etc/abs-link')).toMatchObject({ ok: true, text: 'O DaemonPortOptions=Name=MTA\n', resolved: '/etc/mail/sendmail.cf' });
    // Both links land inside the root (`..` stops at it; absolute targets are read against it): not found there.
    expect(fs.readText('/etc/dotdot-link')).toMatchObject({ ok: false, failure: 'not-found' });
    expect(fs.readText('/etc/host-abs-link')).toMatchObject({ ok: false, failure: 'not-found' });
    expect(fs.readText('/../../../../' + outside + '/secret')).toMatchObject({ ok: false, failure: 'not-found' });
  });

  it('reports loops, directories, FIFOs and device nodes without blocking', () => {
    const root = image();
    symlinkSync('/etc/b', join(root, 'etc', 'a'));
    symlinkSync('/etc/a', join(root, 'etc', 'b'));
    execFileSync('mkfifo', [join(root, 'etc', 'fifo')]);
    symlinkSync('/dev/zero', join(root, 'etc', 'zero'));
    mkdirSync(join(root, 'dev'));
    execFileSync('mknod', [join(root, 'dev', 'zero'), 'c', '1', '5']);
    const fs = new RootFs(root);
    expect(fs.readText('/etc/a')).toMatchObject({ ok: false, failure: 'symlink-loop' });
    expect(fs.readText('/etc/mail')).toMatchObject({ ok: false, failure: 'not-a-file' });
    expect(fs.readText('/etc/fifo')).toMatchObject({ ok: false, failure: 'not-a-file' });
    expect(fs.readText('/etc/zero')).toMatchObject({ ok: false, failure: 'not-a-file' });
  });

  it('refuses files over the size limit and reads size-0 procfs files whole', () => {
    const root = image();
    writeFileSync(join(root, 'big'), 'x'.repeat(5000));
    const fs = new RootFs(root);
    expect(fs.readText('/big', 4096)).toMatchObject({ ok: false, failure: 'too-large' });
    const proc = new RootFs('/');
    const r = proc.readText('/proc/self/status');
    expect(r.ok && r.text.includes('Uid:')).toBe(true);
  });
});

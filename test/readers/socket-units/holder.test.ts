import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { socketUnitHolder } from '../../../src/analysis/socket-unit-holder.js';
import { explain } from '../../../src/explain/explain.js';
import { parseWhyTarget } from '../../../src/explain/target.js';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { LiveSocket } from '../../../src/model/live.js';
import { readSocketUnits, socketUnitsReader } from '../../../src/readers/socket-units/index.js';
import { sshdReader } from '../../../src/readers/sshd/index.js';
import { scanInventory } from '../../../src/run.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/**
 * Debian 12 with a socket unit for port 22 enabled and sshd_config's Port 22. With `unit` = 'ssh' it is Debian's
 * ssh.socket, which hands port 22 to sshd (sshd then binds nothing itself); another name is a unit of some other
 * service listening on 22, which sshd then finds held by pid 1.
 */
function sshSocketRoot(unit = 'ssh'): string {
  const root = mkdtempSync(join(tmpdir(), 'bindcheck-socket-holder-'));
  roots.push(root);
  const files: Record<string, string> = {
    [`lib/systemd/system/${unit}.socket`]: '[Unit]\nDescription=OpenBSD Secure Shell server socket\n\n[Socket]\nListenStream=22\nAccept=no\n',
    [`lib/systemd/system/${unit}.service`]: '[Service]\nExecStart=/usr/sbin/sshd -D\n',
    'lib/systemd/system/ssh.service': '[Service]\nExecStart=/usr/sbin/sshd -D\n',
    'etc/ssh/sshd_config': 'Port 22\n',
  };
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), t);
  }
  mkdirSync(join(root, 'etc/systemd/system/sockets.target.wants'), { recursive: true });
  symlinkSync(`/lib/systemd/system/${unit}.socket`, join(root, `etc/systemd/system/sockets.target.wants/${unit}.socket`));
  return root;
}

function live(owner: { pid: number; comm: string }, over: Partial<LiveSocket> = {}): LiveSocket {
  return {
    proto: 'tcp',
    family: 'inet6',
    address: '::',
    port: 22,
    remoteAddress: '::',
    remotePort: 0,
    state: 'LISTEN',
    uid: 0,
    inode: 1234,
    owners: [{ ...owner, cmdline: owner.comm, uid: 0 }],
    ownersKnown: true,
    source: { file: '/proc/net/tcp6', line: 2 },
    ...over,
  };
}

describe('socketUnitHolder', () => {
  const plans = readSocketUnits(new RootFs(sshSocketRoot())).plans;

  it('a socket pid 1 holds is traced to the Listen line asking for that endpoint', () => {
    const h = socketUnitHolder(live({ pid: 1, comm: 'systemd' }), plans);
    expect(h).toMatchObject({ unit: 'ssh.socket', directive: 'ListenStream=22' });
    expect(h?.socket.source).toMatchObject({ file: '/lib/systemd/system/ssh.socket', line: 5 });
  });

  it('not pid 1, another endpoint, or another protocol: no unit', () => {
    expect(socketUnitHolder(live({ pid: 812, comm: 'systemd' }), plans)).toBeUndefined();
    expect(socketUnitHolder(live({ pid: 1, comm: 'systemd' }, { port: 2222 }), plans)).toBeUndefined();
    expect(socketUnitHolder(live({ pid: 1, comm: 'systemd' }, { proto: 'udp', state: 'CLOSE' }), plans)).toBeUndefined();
    expect(socketUnitHolder(live({ pid: 1, comm: 'systemd' }, { family: 'inet', address: '0.0.0.0' }), plans)).toBeUndefined();
  });
});

describe('BC201 names the socket unit behind pid 1', () => {
  it('sshd cannot bind [::]:22: "pid 1 (systemd) for gitssh.socket (ListenStream=22 at …:5)"', () => {
    const r = scanInventory({
      root: sshSocketRoot('gitssh'),
      live: false,
      readers: [socketUnitsReader, sshdReader],
      extraLiveSockets: [{ proto: 'tcp', family: 'inet6', address: '::', port: 22, state: 'LISTEN', reuseAddr: true, owner: { pid: 1, comm: 'systemd', unit: 'init.scope' } }],
    });
    const bc201 = r.findings.filter((f) => f.code === 'BC201');
    expect(bc201.length).toBeGreaterThan(0);
    expect(bc201[0]?.message).toContain('pid 1 (systemd, init.scope) for gitssh.socket (ListenStream=22 at /lib/systemd/system/gitssh.socket:5) holds');
    // The socket unit's own plan sets aside what pid 1 holds: its own socket is no conflict.
    expect(bc201.every((f) => f.daemon !== 'systemd-socket')).toBe(true);
  });

  it("with Debian's own ssh.socket sshd binds nothing, so pid 1 holding [::]:22 is no conflict (BC406 instead)", () => {
    const r = scanInventory({
      root: sshSocketRoot(),
      live: false,
      readers: [socketUnitsReader, sshdReader],
      extraLiveSockets: [{ proto: 'tcp', family: 'inet6', address: '::', port: 22, state: 'LISTEN', reuseAddr: true, owner: { pid: 1, comm: 'systemd', unit: 'init.scope' } }],
    });
    expect(r.findings.filter((f) => f.code === 'BC201')).toEqual([]);
    expect(r.findings.filter((f) => f.code === 'BC406').map((f) => `${f.location.file}:${f.location.line}`)).toEqual(['/etc/ssh/sshd_config:1']);
  });
});

describe('bindcheck why PORT names the socket unit behind pid 1', () => {
  it('the live holder step says which unit and Listen line', () => {
    const r = scanInventory({
      root: sshSocketRoot('gitssh'),
      live: false,
      readers: [socketUnitsReader, sshdReader],
      extraLiveSockets: [{ proto: 'tcp', family: 'inet6', address: '::', port: 22, state: 'LISTEN', reuseAddr: true, owner: { pid: 1, comm: 'systemd' } }],
    });
    const target = parseWhyTarget('22');
    if (!('kind' in target)) throw new Error('22 is a port target');
    const e = explain({ target, inventory: r.inventory, analysis: r.analysis, findings: r.findings, runtime: { logEvents: [], units: [], traceFailures: [], traceDisagreements: [] } });
    expect(e.chain.filter((c) => c.kind === 'live').map((c) => c.label)).toContain('tcp/[::]:22 LISTEN held by pid 1 systemd for gitssh.socket (ListenStream=22 at /lib/systemd/system/gitssh.socket:5)');
  });
});

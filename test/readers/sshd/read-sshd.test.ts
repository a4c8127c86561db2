import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { Location } from '../../../src/model/location.js';
import { readSshd, splitHostPort, splitSshdConfig, sshdReader } from '../../../src/readers/sshd/index.js';
import { scanInventory } from '../../../src/run.js';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** UPDATE_GOLDEN=1 rewrites fixtures/<name>.expected.json from the reader's output. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const where = (l: Location) => `${l.file}:${l.line}${(l.includedFrom ?? []).map((i) => ` <- ${i.file}:${i.line}`).join('')}`;

function summary(r: ReturnType<typeof readSshd>) {
  return {
    files: r.plans[0]?.files ?? [],
    addressFamily: r.addressFamily.value,
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      family: s.family,
      address: s.address,
      port: s.port,
      v6Only: s.v6Only ?? null,
      device: s.device ?? null,
      source: where(s.source),
      directive: s.directive ? { lines: `${s.directive.startLine}-${s.directive.endLine}`, disabled: s.directive.disabled } : null,
    })),
    findings: r.findings.map((f) => ({ code: f.code, at: where(f.location), message: f.message })),
    refusesToStart: r.refusesToStart.length > 0,
  };
}

const golden = (name: string) => summary(readSshd(new RootFs(join(FIX, name))));

describe.each(['include-tree', 'malformed', 'include-loop', 'missing-include'])('fixture %s', (name) => {
  it('matches its golden file', () => {
    const got = golden(name);
    const file = join(FIX, `${name}.expected.json`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});

function withConfig(lines: string[], argv?: string[]) {
  const root = mkdtempSync(join(tmpdir(), 'bindcheck-sshd-'));
  mkdirSync(join(root, 'etc', 'ssh'), { recursive: true });
  writeFileSync(join(root, 'etc', 'ssh', 'sshd_config'), lines.join('\n') + '\n');
  try {
    return readSshd(new RootFs(root), argv ? { argv } : {});
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
const eps = (r: ReturnType<typeof readSshd>) => (r.plans[0]?.sockets ?? []).map((s) => `${s.address}:${s.port}`);

describe('sshd reader behaviour (each fact checked on the real sshd in test/integration/sshd.test.ts)', () => {
  it('include tree: drop-ins first, Ports add up, the first AddressFamily wins, last pair bound first', () => {
    const g = golden('include-tree');
    expect(g.addressFamily).toBe('any');
    expect(g.files).toEqual(['/etc/ssh/sshd_config', '/etc/ssh/sshd_config.d/10-ports.conf', '/etc/ssh/sshd_config.d/20-extra.conf', '/etc/ssh/extra.conf']);
    expect(g.sockets.map((s) => `${s.address}:${s.port}${s.device ? '%' + s.device : ''}`)).toEqual([
      // servconf.c keeps one list per rdomain in order of first appearance (extra.conf's is read first)…
      '192.0.2.10:22%vrf-blue',
      '192.0.2.10:2222%vrf-blue',
      // …and each list is built by prepending: the last (ListenAddress, Port) pair is bound first.
      '::1:2201',
      '127.0.0.1:22',
      '127.0.0.1:2222',
    ]);
    expect(g.findings).toEqual([]);
  });

  it('defaults: port 22 on 0.0.0.0 then :: (IPV6_V6ONLY)', () => {
    const r = withConfig(['UsePAM no']);
    expect(eps(r)).toEqual(['0.0.0.0:22', ':::22']);
    expect(r.plans[0]?.sockets.map((s) => [s.reuseAddr, s.v6Only])).toEqual([[true, undefined], [true, true]]);
    expect(r.plans[0]?.onFailure).toBe('continue');
  });

  it('Port 22 + Port 2222: 2222 first', () => {
    expect(eps(withConfig(['Port 22', 'Port 2222']))).toEqual(['0.0.0.0:2222', ':::2222', '0.0.0.0:22', ':::22']);
  });

  it('-p replaces the Port lines; -o Port adds to them; -4 restricts the family', () => {
    expect(eps(withConfig(['Port 22', 'Port 23'], ['/usr/sbin/sshd', '-D', '-p', '2222']))).toEqual(['0.0.0.0:2222', ':::2222']);
    expect(eps(withConfig(['Port 22'], ['/usr/sbin/sshd', '-D', '-o', 'Port=2200']))).toEqual(['0.0.0.0:22', ':::22', '0.0.0.0:2200', ':::2200']);
    expect(eps(withConfig(['AddressFamily inet6'], ['/usr/sbin/sshd', '-D4']))).toEqual(['0.0.0.0:22']);
  });

  it('keyword=value, case-insensitive keywords, quotes and comments', () => {
    expect(eps(withConfig(['port=2200', 'LISTENADDRESS "127.0.0.1"  # comment']))).toEqual(['127.0.0.1:2200']);
  });

  it('Port inside a Match block is fatal, after "Match all" it counts', () => {
    const bad = withConfig(['Match User bob', '  Port 2222']);
    expect(bad.findings.map((f) => f.code)).toEqual(['BC002']);
    expect(bad.refusesToStart).toHaveLength(1);
    expect(eps(withConfig(['Match all', 'Port 2222']))).toEqual(['0.0.0.0:2222', ':::2222']);
  });

  it('an address of the wrong family for AddressFamily is fatal; a host name is not predicted', () => {
    expect(withConfig(['AddressFamily inet6', 'ListenAddress 127.0.0.1']).refusesToStart).toHaveLength(1);
    const h = withConfig(['ListenAddress localhost']);
    expect(h.findings.map((f) => f.code)).toEqual(['BC005']);
    expect(h.refusesToStart).toEqual([]);
  });

  it('splitHostPort follows hpdelim()', () => {
    expect(splitHostPort('::1')).toEqual({ host: '::1' });
    expect(splitHostPort('[::1]:22')).toEqual({ host: '::1', port: '22' });
    expect(splitHostPort('[::1]')).toEqual({ host: '::1' });
    expect(splitHostPort('127.0.0.1:2200')).toEqual({ host: '127.0.0.1', port: '2200' });
    expect(splitHostPort('[::1]x')).toBe('bad-usage');
  });

  it('scanInventory with the reader passed explicitly', () => {
    const inv = scanInventory({ root: join(FIX, 'include-tree'), live: false, readers: [sshdReader] });
    expect(inv.inventory.daemons.map((d) => d.daemon)).toEqual(['sshd']);
  });

  it('a root without sshd_config has no sshd', () => {
    const root = mkdtempSync(join(tmpdir(), 'bindcheck-sshd-'));
    try {
      expect(readSshd(new RootFs(root)).found).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('Port', 'ListenAddress', 'Match all', 'Include', '"', "'", '=', '#', '[::1]:', 'AddressFamily')), { maxLength: 20 }), (parts) => {
        const text = parts.join(fc.sample(fc.constantFrom(' ', '\n', '\t', '='), 1)[0]);
        splitSshdConfig(text);
        withConfig([text]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('socket activation (ssh.socket enabled)', () => {
  const SSH_SOCKET = ['[Unit]', 'Description=OpenBSD Secure Shell server socket', '', '[Socket]', 'ListenStream=22', 'Accept=no', '', '[Install]', 'WantedBy=sockets.target', ''];
  const SSH_SERVICE = ['[Service]', 'ExecStart=/usr/sbin/sshd -D $SSHD_OPTS', ''];

  function root(opts: { enable?: 'link' | 'masked' | 'none'; accept?: boolean; dropIn?: string[]; config?: string[] }): string {
    const dir = mkdtempSync(join(tmpdir(), 'bindcheck-sshd-sa-'));
    const put = (rel: string, lines: string[]) => {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), lines.join('\n'));
    };
    put('etc/ssh/sshd_config', opts.config ?? ['Port 2222', 'ListenAddress 127.0.0.1']);
    put('lib/systemd/system/ssh.socket', opts.accept ? SSH_SOCKET.map((l) => (l === 'Accept=no' ? 'Accept=yes' : l)) : SSH_SOCKET);
    put('lib/systemd/system/ssh.service', SSH_SERVICE);
    if (opts.accept) put('lib/systemd/system/ssh@.service', ['[Service]', 'ExecStart=-/usr/sbin/sshd -i', 'StandardInput=socket', '']);
    if (opts.dropIn) put('etc/systemd/system/ssh.socket.d/port.conf', opts.dropIn);
    const wants = join(dir, 'etc/systemd/system/sockets.target.wants');
    mkdirSync(wants, { recursive: true });
    if (opts.enable === 'link' || opts.enable === undefined) symlinkSync('/lib/systemd/system/ssh.socket', join(wants, 'ssh.socket'));
    if (opts.enable === 'masked') symlinkSync('/dev/null', join(wants, 'ssh.socket'));
    return dir;
  }

  it('sshd binds nothing itself; its Port and ListenAddress lines are BC406', () => {
    const dir = root({});
    try {
      const r = readSshd(new RootFs(dir));
      expect(r.plans[0]?.sockets).toEqual([]);
      expect(r.plans[0]?.inheritsSockets).toMatchObject({ from: 'ssh.socket', endpoints: ['tcp/[::]:22'], source: { file: '/lib/systemd/system/ssh.socket', line: 5 } });
      expect(r.plans[0]?.inheritsSockets?.ignored.map((l) => `${l.file}:${l.line}`)).toEqual(['/etc/ssh/sshd_config:1', '/etc/ssh/sshd_config:2']);
      const inv = scanInventory({ root: dir, live: false });
      const codes = inv.findings.map((f) => `${f.code} ${f.location.file}:${f.location.line}`);
      expect(codes).toContain('BC406 /etc/ssh/sshd_config:1');
      // sshd and ssh.socket do not fight over port 22: only the socket unit binds it.
      expect(inv.findings.filter((f) => f.code === 'BC103')).toEqual([]);
      expect(inv.inventory.daemons.find((d) => d.daemon === 'systemd-socket')?.sockets.map((s) => `${s.address}:${s.port}`)).toEqual([':::22']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a drop-in that moves the socket is what sshd listens on; the default config has nothing to flag', () => {
    const dir = root({ dropIn: ['[Socket]', 'ListenStream=', 'ListenStream=2222'], config: ['UsePAM yes'] });
    try {
      const r = readSshd(new RootFs(dir));
      expect(r.plans[0]?.inheritsSockets?.endpoints).toEqual(['tcp/[::]:2222']);
      expect(r.plans[0]?.inheritsSockets?.ignored).toEqual([]);
      expect(scanInventory({ root: dir, live: false }).findings.filter((f) => f.code === 'BC406')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Accept=yes (sshd -i per connection) binds nothing either; a masked or absent link leaves sshd binding itself', () => {
    for (const [opts, expectSockets] of [
      [{ accept: true }, 0],
      [{ enable: 'masked' as const }, 1],
      [{ enable: 'none' as const }, 1],
    ] as const) {
      const dir = root(opts);
      try {
        const r = readSshd(new RootFs(dir));
        expect(r.plans[0]?.sockets.length, JSON.stringify(opts)).toBe(expectSockets);
        expect(r.plans[0]?.inheritsSockets === undefined, JSON.stringify(opts)).toBe(expectSockets === 1);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

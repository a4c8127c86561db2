import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { Location } from '../../../src/model/location.js';
import { debianHelperArgv, dnsmasqReader, readDnsmasq, splitDnsmasqConf, wildcardMatch } from '../../../src/readers/dnsmasq/index.js';
import { daemonArgs } from '../../../src/readers/systemd/daemon-args.js';
import { scanInventory } from '../../../src/run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** UPDATE_GOLDEN=1 rewrites fixtures/<name>.expected.json from the reader's output. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const HELPER = ['/usr/share/dnsmasq/systemd-helper', 'exec'];

const where = (l: Location) => `${l.file}:${l.line}${l.line === 0 && l.column !== undefined ? `[${l.column}]` : ''}${(l.includedFrom ?? []).map((i) => ` <- ${i.file}:${i.line}`).join('')}`;

function summary(r: ReturnType<typeof readDnsmasq>) {
  return {
    files: r.plans[0]?.files ?? [],
    mode: r.mode,
    port: r.port,
    effectiveArgv: r.effectiveArgv ?? null,
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      name: s.name,
      proto: s.proto,
      family: s.family,
      address: s.address,
      port: s.port,
      reuseAddr: s.reuseAddr,
      reusePort: s.reusePort,
      v6Only: s.v6Only ?? null,
      source: where(s.source),
      directive: s.directive ? { lines: `${s.directive.startLine}-${s.directive.endLine}`, disabled: s.directive.disabled } : null,
    })),
    findings: r.findings.map((f) => ({ code: f.code, at: where(f.location), message: f.message })),
    refusesToStart: r.refusesToStart.map((x) => ({ exitStatus: x.exitStatus, testCatches: x.testCatches })),
  };
}

const FIXTURES: Record<string, { argv?: string[] }> = {
  'include-tree': {},
  'missing-include': {},
  malformed: {},
  'include-loop': {},
  'debian-helper': { argv: HELPER },
};

describe.each(Object.entries(FIXTURES))('fixture %s', (name, o) => {
  it('matches its golden plan', () => {
    const got = summary(readDnsmasq(new RootFs(join(FIX, name)), o.argv ? { argv: o.argv } : {}));
    const file = join(FIX, `${name}.expected.json`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});

describe('what the fixtures show', () => {
  const read = (name: string, argv?: string[]) => readDnsmasq(new RootFs(join(FIX, name)), argv ? { argv } : {});

  it('include-tree: conf-file, then conf-dir files in strcmp order; dotfiles, backups, .bak and non-*.conf skipped', () => {
    const r = read('include-tree');
    expect(r.plans[0]?.files).toEqual(['/etc/dnsmasq.conf', '/etc/dnsmasq.more.conf', '/etc/dnsmasq.d/10-a.conf', '/etc/dnsmasq.d/20-b.conf']);
    expect(r.port).toBe(5300);
    // lo's addresses first (127.0.0.1, ::1), then the listen-address no interface has; TFTP after each address's DNS.
    expect(r.plans[0]?.sockets.map((s) => `${s.name} ${s.proto} ${s.address}:${s.port}`)).toEqual([
      'dns udp 127.0.0.1:5300',
      'dns tcp 127.0.0.1:5300',
      'tftp udp 127.0.0.1:69',
      'dns udp ::1:5300',
      'dns tcp ::1:5300',
      'tftp udp ::1:69',
      'dns udp 127.0.0.2:5300',
      'dns tcp 127.0.0.2:5300',
      'tftp udp 127.0.0.2:69',
    ]);
    expect(r.findings).toEqual([]);
  });

  it('missing-include: a missing conf-file and conf-dir stop dnsmasq with exit 3, and --test says so', () => {
    const r = read('missing-include');
    expect(r.findings.map((f) => f.code)).toEqual(['BC004', 'BC004']);
    expect(r.refusesToStart).toEqual([
      expect.objectContaining({ exitStatus: 3, testCatches: true }),
      expect.objectContaining({ exitStatus: 3, testCatches: true }),
    ]);
  });

  it('malformed: every line dnsmasq would die on is a finding with its line', () => {
    const r = read('malformed');
    expect(r.findings.map((f) => `${f.code} ${f.location.line}`)).toEqual([
      'BC005 1',
      'BC002 2',
      'BC002 3',
      'BC002 4',
      'BC002 5',
      'BC002 6',
      'BC002 8',
      'BC002 9',
    ]);
    expect(r.findings.find((f) => f.location.line === 8)?.message).toMatch(/illegal repeated keyword at line 8/);
    // interface=eth0 in wildcard mode is no error: dnsmasq warns that it does not exist and answers on no interface.
    expect(r.refusesToStart).toHaveLength(8);
  });

  it('include-loop: a file is read once (one_file remembers device and inode)', () => {
    const r = read('include-loop');
    expect(r.plans[0]?.files).toEqual(['/etc/dnsmasq.conf', '/etc/b.conf']);
    expect(r.mode).toBe('bind-dynamic');
    expect(r.plans[0]?.sockets.map((s) => s.address)).toEqual(['127.0.0.9', '127.0.0.9']);
    expect(r.plans[0]?.onFailureByErrno).toEqual({ EADDRNOTAVAIL: 'continue' });
  });

  it("debian-helper: the unit's systemd-helper builds dnsmasq's argv from /etc/default/dnsmasq", () => {
    const r = read('debian-helper', HELPER);
    expect(r.effectiveArgv).toEqual([
      '/usr/sbin/dnsmasq', '-x', '/run/dnsmasq/dnsmasq.pid', '-u', 'dnsmasq', '-I', 'lo', '-7', '/etc/dnsmasq.d,.dpkg-dist,.dpkg-old,.dpkg-new', '--bind-interfaces', '-p', '5353', '--local-service',
    ]);
    // except-interface=lo, but listen-address=127.0.0.1 matches by address, which wins over the exception.
    expect(r.plans[0]?.sockets.map((s) => `${s.proto} ${s.address}:${s.port}`)).toEqual(['udp 127.0.0.1:5353', 'tcp 127.0.0.1:5353']);
    expect(r.plans[0]?.files).toEqual(['/etc/dnsmasq.d/local.conf', '/etc/dnsmasq.conf']);
  });

  it('scanInventory reads it through dnsmasq.service', () => {
    const inv = scanInventory({ root: join(FIX, 'debian-helper'), live: false, readers: [dnsmasqReader] }).inventory;
    expect(inv.daemons.map((d) => d.daemon)).toEqual(['dnsmasq']);
    expect(inv.daemons[0]?.sockets.map((s) => s.port)).toEqual([5353, 5353]);
  });
});

describe('readDnsmasq on generated roots', () => {
  const base = mkdtempSync(join(tmpdir(), 'bindcheck-dnsmasq-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  const root = (conf: string | undefined, files: Record<string, string> = {}) => {
    const r = join(base, String(n++));
    mkdirSync(join(r, 'etc'), { recursive: true });
    if (conf !== undefined) writeFileSync(join(r, 'etc', 'dnsmasq.conf'), conf);
    for (const [p, t] of Object.entries(files)) {
      mkdirSync(dirname(join(r, p)), { recursive: true });
      writeFileSync(join(r, p), t);
    }
    return new RootFs(r);
  };
  const plan = (conf: string, argv?: string[]) => readDnsmasq(root(conf), argv ? { argv } : {});
  const eps = (r: ReturnType<typeof readDnsmasq>) => r.plans[0]?.sockets.map((s) => `${s.name} ${s.proto} ${s.address}:${s.port}`) ?? [];

  it('no config and no unit: not found; a unit alone: found, the defaults', () => {
    expect(readDnsmasq(root(undefined)).found).toBe(false);
    const r = readDnsmasq(root(undefined), { argv: ['/usr/sbin/dnsmasq', '-k'] });
    expect(r.found).toBe(true);
    expect(eps(r)).toEqual(['dns udp 0.0.0.0:53', 'dns tcp 0.0.0.0:53', 'dns udp :::53', 'dns tcp :::53']);
  });

  it('port=0 without DHCP or TFTP: no socket at all', () => {
    expect(eps(plan('port=0\n'))).toEqual([]);
  });

  it('wildcard mode: listen-address and interface= bind nothing specific', () => {
    expect(eps(plan('listen-address=192.0.2.99\ninterface=eth0\n'))).toEqual(['dns udp 0.0.0.0:53', 'dns tcp 0.0.0.0:53', 'dns udp :::53', 'dns tcp :::53']);
  });

  it('interface=eth0 with bind-interfaces: lo is always added; eth0 is a finding (addresses unknown)', () => {
    const r = plan('interface=eth0\nbind-interfaces\n');
    expect(eps(r)).toEqual(['dns udp 127.0.0.1:53', 'dns tcp 127.0.0.1:53', 'dns udp ::1:53', 'dns tcp ::1:53']);
    expect(r.findings.map((f) => f.code)).toEqual(['BC005']);
    expect(r.findings[0]?.message).toMatch(/unknown interface eth0/);
  });

  it('listen-address alone in bind-interfaces mode: lo is not added, only the address', () => {
    expect(eps(plan('listen-address=::1\nbind-interfaces\n'))).toEqual(['dns udp ::1:53', 'dns tcp ::1:53']);
  });

  it('except-interface=lo: nothing of lo unless a listen-address names it', () => {
    expect(eps(plan('except-interface=lo\nbind-interfaces\n'))).toEqual([]);
    expect(eps(plan('except-interface=lo\nlisten-address=::1\nbind-interfaces\n'))).toEqual(['dns udp ::1:53', 'dns tcp ::1:53']);
  });

  it('local-service=host means interface=lo + bind-interfaces, unless access control is configured', () => {
    expect(plan('local-service=host\n').mode).toBe('bind-interfaces');
    expect(plan('local-service=host\nlisten-address=127.0.0.1\n').mode).toBe('wildcard');
    expect(plan('local-service\n').mode).toBe('wildcard');
  });

  it('DHCP: 0.0.0.0:67 first; SO_REUSEPORT+SO_REUSEADDR only in the bind modes; dhcp-alternate-port', () => {
    const w = plan('dhcp-range=192.0.2.10,192.0.2.20\n').plans[0]?.sockets[0];
    expect(w).toMatchObject({ name: 'dhcp', proto: 'udp', address: '0.0.0.0', port: 67, reuseAddr: false, reusePort: false });
    const b = plan('dhcp-range=192.0.2.10,192.0.2.20\nbind-dynamic\ndhcp-alternate-port\n').plans[0]?.sockets[0];
    expect(b).toMatchObject({ port: 1067, reuseAddr: true, reusePort: true });
    expect(b?.group).toBeUndefined();
  });

  it('enable-tftp=IFACE and no-dhcp-interface restrict TFTP on interfaces, not on plain listen-addresses', () => {
    expect(eps(plan('enable-tftp=eth0\ninterface=lo\nbind-interfaces\n')).filter((e) => e.startsWith('tftp'))).toEqual([]);
    expect(eps(plan('enable-tftp\nno-dhcp-interface=lo\ninterface=lo\nbind-interfaces\n')).filter((e) => e.startsWith('tftp'))).toEqual([]);
    expect(eps(plan('enable-tftp=eth0\nlisten-address=127.0.0.5\nbind-interfaces\n')).filter((e) => e.startsWith('tftp'))).toEqual(['tftp udp 127.0.0.5:69']);
  });

  it('bind-interfaces + bind-dynamic: refused at start, but --test passes', () => {
    expect(plan('bind-interfaces\nbind-dynamic\n').refusesToStart).toEqual([expect.objectContaining({ exitStatus: 1, testCatches: false })]);
  });

  it('command line: -p, -a, -z, --bind-dynamic, --conf-dir; the file overrides -p once', () => {
    expect(plan('', ['dnsmasq', '-k', '-p', '5454']).port).toBe(5454);
    expect(plan('port=5353\n', ['dnsmasq', '-p5454']).port).toBe(5353);
    expect(plan('port=5353\nport=1\n', ['dnsmasq', '-p5454']).refusesToStart).toHaveLength(1);
    expect(plan('', ['dnsmasq', '-p', '1', '--port=2']).refusesToStart).toEqual([expect.objectContaining({ exitStatus: 1 })]);
    expect(eps(plan('', ['dnsmasq', '-z', '-a', '127.0.0.2,127.0.0.3']))).toEqual([
      'dns udp 127.0.0.3:53',
      'dns tcp 127.0.0.3:53',
      'dns udp 127.0.0.2:53',
      'dns tcp 127.0.0.2:53',
    ]);
    expect(plan('', ['dnsmasq', '--bind-dynamic']).mode).toBe('bind-dynamic');
    const r = readDnsmasq(root('', { 'etc/d/a.conf': 'port=5000\n', 'etc/d/b.x': 'port=6000\n' }), { argv: ['dnsmasq', '--conf-dir=/etc/d,*.conf'] });
    expect(r.port).toBe(5000);
    expect(plan('', ['dnsmasq', 'junk']).refusesToStart).toHaveLength(1);
  });

  it('-C names the main config (read last); a missing one is BC001 with exit 3', () => {
    const r = readDnsmasq(root(undefined, { 'etc/alt.conf': 'port=5001\n' }), { argv: ['dnsmasq', '-C', '/etc/alt.conf'] });
    expect(r.port).toBe(5001);
    const m = readDnsmasq(root(undefined), { argv: ['dnsmasq', '-C', '/etc/none.conf'] });
    expect(m.findings.map((f) => f.code)).toEqual(['BC001']);
    expect(m.refusesToStart[0]?.exitStatus).toBe(3);
  });

  it('never throws and keeps locations inside the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = plan(text);
        for (const f of r.findings) expect(f.location.line).toBeLessThanOrEqual(text.split('\n').length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('splitDnsmasqConf (option.c read_file)', () => {
  it('name=value with spaces around =, comments after whitespace, quotes hide # , and spaces', () => {
    expect(splitDnsmasqConf('port = 53\n  # c\nlisten-address=127.0.0.1 # x\ntxt-record="a#b, c",d\nbind-interfaces\nserver=/a#b/1.2.3.4\n')).toEqual([
      { kind: 'option', line: 1, column: 1, name: 'port', value: '53', items: ['53'] },
      { kind: 'option', line: 3, column: 1, name: 'listen-address', value: '127.0.0.1', items: ['127.0.0.1'] },
      { kind: 'option', line: 4, column: 1, name: 'txt-record', value: 'a#b, c,d', items: ['a#b, c', 'd'] },
      { kind: 'option', line: 5, column: 1, name: 'bind-interfaces', items: [] },
      { kind: 'option', line: 6, column: 1, name: 'server', value: '/a#b/1.2.3.4', items: ['/a#b/1.2.3.4'] },
    ]);
  });

  it('an unterminated quote is an error on its line', () => {
    expect(splitDnsmasqConf('x="abc\n')).toEqual([{ kind: 'error', line: 1, column: 3, message: 'missing "' }]);
  });
});

describe('wildcardMatch (util.c wildcard_match)', () => {
  it('equal, or equal up to a *', () => {
    expect(wildcardMatch('lo', 'lo')).toBe(true);
    expect(wildcardMatch('eth*', 'eth0')).toBe(true);
    expect(wildcardMatch('l*', 'lo')).toBe(true);
    expect(wildcardMatch('lo*', 'lo')).toBe(false);
    expect(wildcardMatch('lo', 'lo0')).toBe(false);
  });
});

describe('dnsmasqArgs (src/readers/systemd/daemon-args.ts)', () => {
  it('knows every long option of 2.90, reports the listen-affecting ones in argv order', () => {
    const a = daemonArgs(['/usr/sbin/dnsmasq', '-k', '--trust-anchor=.,1,2,3', '--local-service', '-z', '--bind-dynamic', '-i', 'lo', '--except-interface=eth1', '--dhcp-range=10.0.0.1,10.0.0.9', '--enable-tftp', '-a', '::1']);
    expect(a?.problems).toEqual([]);
    expect(a?.overrides.map((o) => `${o.option}=${o.value}`)).toEqual([
      'local-service=',
      'bind-interfaces=',
      'bind-dynamic=',
      'interface=lo',
      'except-interface=eth1',
      'dhcp-range=10.0.0.1,10.0.0.9',
      'enable-tftp=',
      'listen-address=::1',
    ]);
    expect(daemonArgs(['dnsmasq', '--test'])?.daemonMode).toBe(false);
    expect(daemonArgs(['dnsmasq', 'junk'])?.problems[0]).toMatch(/junk found in command line/);
  });

  it("Debian's systemd-helper argv from an empty /etc/default/dnsmasq", () => {
    expect(debianHelperArgv(new RootFs(join(FIX, 'include-tree')), new Map())).toEqual(['/usr/sbin/dnsmasq', '-x', '/run/dnsmasq/dnsmasq.pid', '-u', 'dnsmasq', '--local-service']);
  });
});

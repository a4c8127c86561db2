import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { Location } from '../../../src/model/location.js';
import { findEnabledSocketUnits, parseIpPort, parseListenAddress, readSocketUnits, socketUnitsReader } from '../../../src/readers/socket-units/index.js';
import { scanInventory } from '../../../src/run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** UPDATE_GOLDEN=1 rewrites fixtures/<name>.expected.json from the reader's output. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const where = (l: Location) => `${l.file}:${l.line}`;

function summary(r: ReturnType<typeof readSocketUnits>) {
  return {
    units: r.units.map((u) => ({
      unit: u.unit,
      wantedBy: u.wantedBy,
      service: u.service ?? null,
      notStarted: u.notStarted ?? null,
      ports: u.ports.map((p) => ({ directive: p.directive, value: p.value, at: where(p.location), skipped: p.skipped ?? null })),
    })),
    plans: r.plans.map((p) => ({
      units: p.units,
      files: p.files,
      onFailure: p.onFailure,
      sockets: p.sockets.map((s) => ({
        proto: s.proto,
        family: s.family,
        address: s.address,
        port: s.port,
        v6Only: s.v6Only ?? null,
        reusePort: s.reusePort,
        device: s.device ?? null,
        listens: s.listens,
        source: where(s.source),
        directive: s.directive ? { lines: `${s.directive.startLine}-${s.directive.endLine}`, disabled: s.directive.disabled } : null,
      })),
    })),
    findings: r.findings.map((f) => ({ code: f.code, at: where(f.location), message: f.message })),
  };
}

describe.each(['boot-root'])('fixture %s', (name) => {
  it('matches its golden file', () => {
    const got = summary(readSocketUnits(new RootFs(join(FIX, name))));
    const file = join(FIX, `${name}.expected.json`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A root with unit files (path relative to the root → text) and wants links (link path → target). */
function makeRoot(files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'bindcheck-socket-units-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  for (const [p, target] of Object.entries(links)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    symlinkSync(target, join(root, p));
  }
  return root;
}

const ETC = 'etc/systemd/system';
function oneUnit(socketText: string, extra: Record<string, string> = {}, name = 'app') {
  return makeRoot(
    { [`${ETC}/${name}.socket`]: socketText, [`${ETC}/${name}.service`]: '[Service]\nExecStart=/bin/true\n', ...extra },
    { [`${ETC}/sockets.target.wants/${name}.socket`]: `/${ETC}/${name}.socket` },
  );
}
const endpoints = (root: string) =>
  readSocketUnits(new RootFs(root)).plans.flatMap((p) => p.sockets.map((s) => `${s.proto}/${s.family}/${s.address}:${s.port}`));

describe('enabled socket units', () => {
  it('only units linked from a .wants or .requires directory are started', () => {
    const root = makeRoot(
      {
        [`${ETC}/a.socket`]: '[Socket]\nListenStream=1001\n',
        [`${ETC}/b.socket`]: '[Socket]\nListenStream=1002\n',
        [`${ETC}/c.socket`]: '[Socket]\nListenStream=1003\n',
        [`${ETC}/a.service`]: '[Service]\nExecStart=/bin/true\n',
        [`${ETC}/b.service`]: '[Service]\nExecStart=/bin/true\n',
        [`${ETC}/c.service`]: '[Service]\nExecStart=/bin/true\n',
      },
      { [`${ETC}/sockets.target.wants/a.socket`]: '../a.socket', [`${ETC}/foo.service.requires/c.socket`]: '../c.socket' },
    );
    expect(findEnabledSocketUnits(new RootFs(root)).map((e) => [e.name, e.wantedBy])).toEqual([
      ['a.socket', ['sockets.target']],
      ['c.socket', ['foo.service']],
    ]);
    expect(endpoints(root)).toEqual(['tcp/inet6/:::1001', 'tcp/inet6/:::1003']);
  });

  it('a wants link in /etc to /dev/null pulls nothing in', () => {
    const root = makeRoot({ [`${ETC}/a.socket`]: '[Socket]\nListenStream=1001\n' }, { [`${ETC}/sockets.target.wants/a.socket`]: '/dev/null' });
    expect(findEnabledSocketUnits(new RootFs(root))).toEqual([]);
  });

  it('the /etc copy of a unit replaces the /usr/lib one, drop-ins add to it', () => {
    const root = makeRoot(
      {
        'usr/lib/systemd/system/a.socket': '[Socket]\nListenStream=1001\n',
        'usr/lib/systemd/system/a.service': '[Service]\nExecStart=/bin/true\n',
        [`${ETC}/a.socket`]: '[Socket]\nListenStream=2001\n',
        'run/systemd/system/a.socket.d/x.conf': '[Socket]\nListenDatagram=127.0.0.1:2002\n',
      },
      { 'usr/lib/systemd/system/sockets.target.wants/a.socket': '../a.socket' },
    );
    expect(endpoints(root)).toEqual(['tcp/inet6/:::2001', 'udp/inet/127.0.0.1:2002']);
  });
});

describe('Listen lines', () => {
  it('keep config order across ListenStream and ListenDatagram; an empty Listen*= of any kind empties the list', () => {
    const root = oneUnit('[Socket]\nListenStream=1\nListenDatagram=2\nListenNetlink=\nListenDatagram=3\nListenStream=127.0.0.1:4\n');
    expect(endpoints(root)).toEqual(['udp/inet6/:::3', 'tcp/inet/127.0.0.1:4']);
  });

  it('a drop-in ListenStream= (empty) replaces the fragment\'s ports', () => {
    const root = oneUnit('[Socket]\nListenStream=22\n', { [`${ETC}/app.socket.d/override.conf`]: '[Socket]\nListenStream=\nListenStream=2222\n' });
    expect(endpoints(root)).toEqual(['tcp/inet6/:::2222']);
  });

  it('without /proc/net/if_inet6 in a root that has /proc/net, a bare port is 0.0.0.0', () => {
    const root = oneUnit('[Socket]\nListenStream=80\n', { 'proc/net/tcp': '' });
    expect(endpoints(root)).toEqual(['tcp/inet/0.0.0.0:80']);
    const withV6 = oneUnit('[Socket]\nListenStream=80\n', { 'proc/net/tcp': '', 'proc/net/if_inet6': '' });
    expect(endpoints(withV6)).toEqual(['tcp/inet6/:::80']);
  });

  it('AF_UNIX, vsock, netlink and FIFO entries are listed as skipped', () => {
    const root = oneUnit('[Socket]\nListenStream=/run/app.sock\nListenDatagram=@abstract\nListenStream=vsock:2:1234\nListenFIFO=/run/app.fifo\nListenNetlink=kobject-uevent 1\n');
    const u = readSocketUnits(new RootFs(root)).units[0];
    expect(u?.ports.map((p) => p.skipped !== undefined)).toEqual([true, true, true, true, true]);
    expect(readSocketUnits(new RootFs(root)).plans).toEqual([]);
  });

  it('an address systemd cannot parse is a BC002 at its line and is left out', () => {
    const root = oneUnit('[Socket]\nListenStream=localhost:80\nListenStream=::1\nListenStream=8080\n');
    const r = readSocketUnits(new RootFs(root));
    expect(r.findings.map((f) => [f.code, f.location.line])).toEqual([
      ['BC002', 2],
      ['BC002', 3],
    ]);
    expect(endpoints(root)).toEqual(['tcp/inet6/:::8080']);
  });

  it('ListenSequentialPacket= with an IP address is ignored by systemd', () => {
    const root = oneUnit('[Socket]\nListenSequentialPacket=127.0.0.1:80\n');
    expect(readSocketUnits(new RootFs(root)).findings.map((f) => f.code)).toEqual(['BC002']);
  });

  it('specifiers are resolved: %i of an instance socket', () => {
    const root = makeRoot(
      { [`${ETC}/app@.socket`]: '[Socket]\nListenStream=127.0.0.1:%i\n', [`${ETC}/app@.service`]: '[Service]\nExecStart=/bin/true\n' },
      { [`${ETC}/sockets.target.wants/app@8001.socket`]: `/${ETC}/app@.socket` },
    );
    expect(endpoints(root)).toEqual(['tcp/inet/127.0.0.1:8001']);
  });
});

describe('options', () => {
  const sock = (text: string) => readSocketUnits(new RootFs(oneUnit(text))).plans[0]?.sockets ?? [];

  it('SO_REUSEADDR always; BindIPv6Only only on IPv6 sockets; the last valid value wins', () => {
    const s = sock('[Socket]\nListenStream=80\nListenStream=0.0.0.0:81\nBindIPv6Only=ipv6-only\nBindIPv6Only=bogus\n');
    expect(s.map((x) => [x.reuseAddr, x.v6Only])).toEqual([
      [true, true],
      [true, undefined],
    ]);
    expect(sock('[Socket]\nListenStream=80\nBindIPv6Only=no\n')[0]?.v6Only).toBe(false);
    expect(sock('[Socket]\nListenStream=80\n')[0]?.v6Only).toBeUndefined();
  });

  it('ReusePort, FreeBind, BindToDevice', () => {
    const s = sock('[Socket]\nListenDatagram=127.0.0.1:53\nReusePort=on\nFreeBind=true\nBindToDevice=eth0\n')[0];
    expect(s).toMatchObject({ proto: 'udp', listens: false, reusePort: true, freeBind: true, device: 'eth0' });
    expect(sock('[Socket]\nListenStream=80\nBindToDevice=eth0\nBindToDevice=*\n')[0]?.device).toBeUndefined();
  });

  it('pid 1 binds: uid 0, CAP_NET_BIND_SERVICE; a failure ends the unit', () => {
    const r = readSocketUnits(new RootFs(oneUnit('[Socket]\nListenStream=80\n')));
    expect(r.plans[0]).toMatchObject({ daemon: 'systemd-socket', units: ['app.socket'], processNames: ['systemd'], onFailure: 'exit' });
    expect(r.plans[0]?.sockets[0]).toMatchObject({ uid: 0, capNetBindService: true });
  });
});

describe('units systemd does not start', () => {
  it('Accept=no without its service: no sockets, BC001', () => {
    const root = makeRoot({ [`${ETC}/app.socket`]: '[Socket]\nListenStream=80\n' }, { [`${ETC}/sockets.target.wants/app.socket`]: '../app.socket' });
    const r = readSocketUnits(new RootFs(root));
    expect(r.plans).toEqual([]);
    expect(r.findings.map((f) => f.code)).toEqual(['BC001']);
    expect(r.findings[0]?.message).toContain('Socket service app.service not loaded, refusing.');
  });

  it('Accept=yes needs no NAME.service', () => {
    const root = makeRoot({ [`${ETC}/app.socket`]: '[Socket]\nListenStream=80\nAccept=yes\n' }, { [`${ETC}/sockets.target.wants/app.socket`]: '../app.socket' });
    expect(endpoints(root)).toEqual(['tcp/inet6/:::80']);
  });

  it('Service= names the service to look for', () => {
    const root = oneUnit('[Socket]\nListenStream=80\nService=other.service\n');
    expect(readSocketUnits(new RootFs(root)).findings[0]?.message).toContain('other.service');
  });

  it('ConditionPathExists= that fails in the root skips the unit', () => {
    expect(endpoints(oneUnit('[Unit]\nConditionPathExists=!/etc/app-off\n[Socket]\nListenStream=80\n', { 'etc/app-off': '' }))).toEqual([]);
    expect(endpoints(oneUnit('[Unit]\nConditionPathExists=!/etc/app-off\n[Socket]\nListenStream=80\n'))).toEqual(['tcp/inet6/:::80']);
  });
});

describe('parseListenAddress', () => {
  it('ports in strtoul base 0, as systemd-socket-activate showed (010 is 8)', () => {
    expect([parseIpPort('010'), parseIpPort('0x50'), parseIpPort('+80'), parseIpPort('080'), parseIpPort(' 80'), parseIpPort('65536'), parseIpPort('0')]).toEqual([
      8,
      80,
      80,
      'EINVAL',
      'EINVAL',
      'ERANGE',
      'EINVAL',
    ]);
  });

  it('never throws and returns a port in range for inet results', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), (s, v6) => {
        const r = parseListenAddress(s, v6);
        if (r.kind === 'inet') return r.port >= 1 && r.port <= 65535;
        return true;
      }),
    );
  });
});

describe('registration', () => {
  it('scan() plans every enabled socket unit and finds the pair that share a port', () => {
    const root = makeRoot(
      {
        [`${ETC}/a.socket`]: '[Socket]\nListenStream=127.0.0.1:9000\n',
        [`${ETC}/b.socket`]: '[Socket]\nListenStream=127.0.0.1:9000\n',
        [`${ETC}/a.service`]: '[Service]\nExecStart=/bin/true\n',
        [`${ETC}/b.service`]: '[Service]\nExecStart=/bin/true\n',
      },
      { [`${ETC}/sockets.target.wants/a.socket`]: '../a.socket', [`${ETC}/sockets.target.wants/b.socket`]: '../b.socket' },
    );
    const r = scanInventory({ root, live: false, readers: [socketUnitsReader] });
    expect(r.inventory.daemons.map((d) => d.units[0])).toEqual(['a.socket', 'b.socket']);
    expect(r.analysis.pairConflicts.map((c) => [c.first, c.second])).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });
});

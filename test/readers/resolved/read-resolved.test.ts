import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { SimulatedNamespace } from '../../../src/kernel/index.js';
import { daemonStarts, replayDaemon } from '../../../src/analysis/startup.js';
import { parseConfLines, parseExtraListener, parseIpPort, readResolved } from '../../../src/readers/resolved/index.js';

const base = mkdtempSync(join(tmpdir(), 'bindcheck-resolved-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A root with merged /usr (lib → usr/lib), the resolved binary, and the given files. */
function root(files: Record<string, string>, extra?: (dir: string) => void): RootFs {
  const dir = join(base, String(n++));
  mkdirSync(join(dir, 'usr/lib/systemd'), { recursive: true });
  symlinkSync('usr/lib', join(dir, 'lib'));
  writeFileSync(join(dir, 'usr/lib/systemd/systemd-resolved'), '');
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), t);
  }
  extra?.(dir);
  return new RootFs(dir);
}

const view = (fs: RootFs) =>
  readResolved(fs).plans[0]!.sockets.map((s) => `${s.name} ${s.proto}/${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`);

describe('readResolved: which sockets, in which order', () => {
  it('is absent from a root without resolved', () => {
    const dir = join(base, 'empty');
    mkdirSync(join(dir, 'etc'), { recursive: true });
    expect(readResolved(new RootFs(dir)).found).toBe(false);
  });

  it('defaults: LLMNR v4/v6 UDP+TCP first, then the stub on 127.0.0.53 and 127.0.0.54', () => {
    const fs = root({});
    expect(view(fs)).toEqual([
      'llmnr-ipv4-udp udp/0.0.0.0:5355',
      'llmnr-ipv4-tcp tcp/0.0.0.0:5355',
      'llmnr-ipv6-udp udp/[::]:5355',
      'llmnr-ipv6-tcp tcp/[::]:5355',
      'dns-stub-udp udp/127.0.0.53:53',
      'dns-stub-tcp tcp/127.0.0.53:53',
      'dns-proxy-stub-udp udp/127.0.0.54:53',
      'dns-proxy-stub-tcp tcp/127.0.0.54:53',
    ]);
    const s = readResolved(fs).plans[0]!.sockets;
    expect(s.filter((x) => x.device === 'lo').map((x) => x.address)).toEqual(['127.0.0.53', '127.0.0.53']);
    expect(s.every((x) => x.optional === true && x.reuseAddr)).toBe(true);
    expect(s.filter((x) => x.family === 'inet6').every((x) => x.v6Only === true)).toBe(true);
    expect(new Set(s.map((x) => x.group?.name))).toEqual(new Set(['LLMNR responder', 'DNS stub listener']));
  });

  it('DNSStubListener=no/udp/tcp and its boolean spellings; LLMNR=no and =resolve', () => {
    const conf = (l: string) => root({ '/etc/systemd/resolved.conf': `[Resolve]\n${l}\n` });
    expect(view(conf('DNSStubListener=no\nLLMNR=no'))).toEqual([]);
    expect(view(conf('DNSStubListener=off\nLLMNR=false'))).toEqual([]);
    expect(view(conf('DNSStubListener=udp\nLLMNR=no'))).toEqual(['dns-stub-udp udp/127.0.0.53:53', 'dns-proxy-stub-udp udp/127.0.0.54:53']);
    expect(view(conf('DNSStubListener=tcp\nLLMNR=no'))).toEqual(['dns-stub-tcp tcp/127.0.0.53:53', 'dns-proxy-stub-tcp tcp/127.0.0.54:53']);
    expect(view(conf('DNSStubListener=no\nLLMNR=resolve'))).toHaveLength(4);
  });

  it('an invalid value is ignored with a finding at its line (the earlier value stays)', () => {
    const fs = root({ '/etc/systemd/resolved.conf': '[Resolve]\nDNSStubListener=no\nDNSStubListener=UDP\nLLMNR=no\n' });
    const r = readResolved(fs);
    expect(r.stubListener.value).toBe('no');
    expect(r.findings.map((f) => `${f.code} ${f.location.line}`)).toEqual(['BC002 3']);
  });

  it('DNSStubListenerExtra: forms, default port 53, UDP before TCP, order kept, empty resets, repeats dropped', () => {
    const fs = root({
      '/etc/systemd/resolved.conf': [
        '[Resolve]',
        'DNSStubListener=no',
        'LLMNR=no',
        'DNSStubListenerExtra=127.0.0.9',
        'DNSStubListenerExtra=',
        'DNSStubListenerExtra=[::1]:5353',
        'DNSStubListenerExtra=udp:127.0.0.1:5300',
        'DNSStubListenerExtra=tcp:192.0.2.10',
        'DNSStubListenerExtra=::1',
        'DNSStubListenerExtra=udp:127.0.0.1:5300',
        'DNSStubListenerExtra=127.0.0.1:53',
        'DNSStubListenerExtra=127.0.0.1',
      ].join('\n'),
    });
    expect(view(fs)).toEqual([
      'dns-stub-udp-extra udp/[::1]:5353',
      'dns-stub-tcp-extra tcp/[::1]:5353',
      'dns-stub-udp-extra udp/127.0.0.1:5300',
      'dns-stub-tcp-extra tcp/192.0.2.10:53',
      'dns-stub-udp-extra udp/[::1]:53',
      'dns-stub-tcp-extra tcp/[::1]:53',
      // 127.0.0.1:53 and 127.0.0.1 (port 0 → 53) are different entries for resolved: both are created.
      'dns-stub-udp-extra udp/127.0.0.1:53',
      'dns-stub-tcp-extra tcp/127.0.0.1:53',
      'dns-stub-udp-extra udp/127.0.0.1:53',
      'dns-stub-tcp-extra tcp/127.0.0.1:53',
    ]);
    const r = readResolved(fs);
    expect(r.findings.map((f) => `${f.code} ${f.location.line}`)).toEqual(['BC002 10']);
    expect(r.plans[0]!.sockets.every((s) => s.freeBind === true && s.v6Only === undefined && s.group === undefined)).toBe(true);
    expect(r.plans[0]!.sockets[0]!.source).toMatchObject({ file: '/etc/systemd/resolved.conf', line: 6 });
  });

  it('drop-ins: sorted by name across directories, /etc hides /usr/lib, /lib is /usr/lib, /dev/null masks', () => {
    const fs = root(
      {
        '/etc/systemd/resolved.conf': '[Resolve]\nDNSStubListener=no\nLLMNR=no\n',
        '/usr/lib/systemd/resolved.conf.d/10-a.conf': '[Resolve]\nDNSStubListenerExtra=127.0.0.10:1\n',
        '/etc/systemd/resolved.conf.d/10-a.conf': '[Resolve]\nDNSStubListenerExtra=127.0.0.11:1\n',
        '/run/systemd/resolved.conf.d/20-b.conf': '[Resolve]\nDNSStubListenerExtra=tcp:127.0.0.12:1\n',
        '/usr/local/lib/systemd/resolved.conf.d/05-c.conf': '[Resolve]\nDNSStubListenerExtra=tcp:127.0.0.13:1\n',
        '/usr/lib/systemd/resolved.conf.d/30-masked.conf': '[Resolve]\nDNSStubListenerExtra=tcp:127.0.0.14:1\n',
        '/usr/lib/systemd/resolved.conf.d/.hidden.conf': '[Resolve]\nDNSStubListenerExtra=tcp:127.0.0.15:1\n',
        '/usr/lib/systemd/resolved.conf.d/40-x.conf.disabled': '[Resolve]\nDNSStubListenerExtra=tcp:127.0.0.16:1\n',
      },
      (dir) => symlinkSync('/dev/null', join(dir, 'etc/systemd/resolved.conf.d/30-masked.conf')),
    );
    const r = readResolved(fs);
    expect(r.files).toEqual([
      '/etc/systemd/resolved.conf',
      '/usr/local/lib/systemd/resolved.conf.d/05-c.conf',
      '/etc/systemd/resolved.conf.d/10-a.conf',
      '/run/systemd/resolved.conf.d/20-b.conf',
      '/etc/systemd/resolved.conf.d/30-masked.conf',
    ]);
    expect(r.overridden.map((o) => o.path).sort()).toEqual(['/usr/lib/systemd/resolved.conf.d/10-a.conf', '/usr/lib/systemd/resolved.conf.d/30-masked.conf']);
    expect(view(fs)).toEqual(['dns-stub-tcp-extra tcp/127.0.0.13:1', 'dns-stub-udp-extra udp/127.0.0.11:1', 'dns-stub-tcp-extra tcp/127.0.0.11:1', 'dns-stub-tcp-extra tcp/127.0.0.12:1']);
    expect(r.findings).toEqual([]);
  });

  it('a bad section header ends the parse of every file; what came before stays', () => {
    const fs = root({
      '/etc/systemd/resolved.conf': '[Resolve]\nLLMNR=no\n[Resolve\nDNSStubListener=no\n',
      '/etc/systemd/resolved.conf.d/x.conf': '[Resolve]\nDNSStubListener=no\n',
    });
    const r = readResolved(fs);
    expect(r.findings.map((f) => `${f.code} ${f.location.file}:${f.location.line}`)).toEqual(['BC002 /etc/systemd/resolved.conf:3']);
    expect(r.stoppedAt).toMatchObject({ line: 3 });
    expect(view(fs)).toHaveLength(4); // the stub: DNSStubListener=no was never read
  });

  it('a drop-in that cannot be read (a directory named *.conf) ends the parse with BC001', () => {
    const fs = root({ '/etc/systemd/resolved.conf': '[Resolve]\nLLMNR=no\n', '/etc/systemd/resolved.conf.d/b.conf': '[Resolve]\nDNSStubListener=no\n' }, (dir) =>
      mkdirSync(join(dir, 'etc/systemd/resolved.conf.d/a.conf')),
    );
    const r = readResolved(fs);
    expect(r.findings.map((f) => f.code)).toEqual(['BC001']);
    expect(view(fs)).toHaveLength(4);
  });

  it('unknown keys and sections are BC005; X- keys are silent; comments, continuations, outside-section lines', () => {
    const fs = root({
      '/etc/systemd/resolved.conf': ['# c', 'LLMNR=no', '[Resolve]', '; c', 'Foo=1', 'X-Mine=2', 'DNSStubListener=\\', '  udp', 'LLMNR=\\', '# inside', 'no', '[Other]', 'A=b', 'junk'].join('\n'),
    });
    const r = readResolved(fs);
    expect(r.findings.map((f) => `${f.code} ${f.location.line}`)).toEqual(['BC002 2', 'BC005 12', 'BC005 5']);
    expect(r.stubListener).toMatchObject({ value: 'udp', location: { line: 7 } });
    expect(r.llmnr).toMatchObject({ value: 'no', location: { line: 9 } });
  });
});

describe('parseConfLines', () => {
  it('splits on \\r\\n, \\r and NUL too (locations count \\n lines), strips a BOM, keeps the key column', () => {
    const p = parseConfLines('\ufeff[Resolve]\r\n  LLMNR = no \rDNSStubListener=udp\0Cache=no\n', '/f', ['Resolve']);
    expect(p.assignments.map((a) => `${a.key}=${a.value}@${a.location.line}:${a.location.column}`)).toEqual(['LLMNR=no@2:3', 'DNSStubListener=udp@2:1', 'Cache=no@2:1']);
  });
  it("reports a missing '=' and a missing key, and goes on", () => {
    const p = parseConfLines('[Resolve]\nLLMNR\n=no\nLLMNR=no\n', '/f', ['Resolve']);
    expect(p.problems.map((x) => `${x.location.line} ${x.fatal}`)).toEqual(['2 false', '3 false']);
    expect(p.assignments).toHaveLength(1);
  });
});

describe('parseExtraListener / parseIpPort (socket-netlink.c, parse-util.c)', () => {
  it.each([
    ['1.2.3.4', 'inet 1.2.3.4 0 udp+tcp'],
    ['udp:1.2.3.4:5353', 'inet 1.2.3.4 5353 udp'],
    ['tcp:[::1]:5353', 'inet6 ::1 5353 tcp'],
    ['fe80::1', 'inet6 fe80::1 0 udp+tcp'],
    ['127.0.0.1:0x35', 'inet 127.0.0.1 53 udp+tcp'],
  ])('%s', (v, want) => {
    const e = parseExtraListener(v);
    expect('error' in e ? e.error : `${e.family} ${e.address} ${e.port} ${e.udp && e.tcp ? 'udp+tcp' : e.udp ? 'udp' : 'tcp'}`).toBe(want);
  });
  it.each(['[::1]', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4%lo', '1.2.3.4#name', 'localhost', '1.2.3', 'UDP:1.2.3.4', '[1.2.3.4]:53', '1.2.3.4: 53'])('refuses %s', (v) => {
    expect('error' in parseExtraListener(v)).toBe(true);
  });
  it('ports: decimal, hex, octal, 0b/0o, + sign; 0 and junk refused', () => {
    expect(['53', '0x35', '065', '0b110101', '0o65', '+53'].map(parseIpPort)).toEqual([53, 53, 53, 53, 53, 53]);
    expect(['0', '', ' 53', '53x', '-1', '99999'].map(parseIpPort)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('the stub is given up whole (PlannedSocket.group), resolved runs on', () => {
  const plan = () => readResolved(root({ '/etc/systemd/resolved.conf': '[Resolve]\nLLMNR=no\nDNSStubListenerExtra=127.0.0.1:5300\n' })).plans[0]!;
  it('TCP 0.0.0.0:53 held: UDP .53 bound then closed, TCP .53 EADDRINUSE, .54 never tried, the extra is up', () => {
    const ns = new SimulatedNamespace({});
    const h = ns.socket({ proto: 'tcp', family: 'inet', reuseAddr: true });
    expect(ns.bind(h, '0.0.0.0', 53).ok).toBe(true);
    expect(ns.listen(h).ok).toBe(true);
    const p = plan();
    const out = replayDaemon(ns, p, 0, new Map());
    expect(out.map((o) => (o.ok === true ? 'ok' : o.call === 'none' ? (o.closedByGroup ? 'closed' : 'skipped') : `${o.call} ${o.errno}`))).toEqual([
      'closed',
      'bind EADDRINUSE',
      'skipped',
      'skipped',
      'ok',
      'ok',
    ]);
    expect(daemonStarts(p, out)).toBe(true);
    // The closed socket is really gone: another UDP socket can take 127.0.0.53:53 now.
    const u = ns.socket({ proto: 'udp', family: 'inet' });
    expect(ns.bind(u, '127.0.0.53', 53).ok).toBe(true);
  });
  it('with nothing held, every socket is up', () => {
    const p = plan();
    const out = replayDaemon(new SimulatedNamespace({}), p, 0, new Map());
    expect(out.every((o) => o.ok === true)).toBe(true);
  });
});

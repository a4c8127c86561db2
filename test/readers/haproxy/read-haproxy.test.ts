import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { formatLocation } from '../../../src/model/location.js';
import { lexHaproxyLine, parseBindAddress, readHaproxy, splitBindAddresses } from '../../../src/readers/haproxy/index.js';
import { daemonArgs } from '../../../src/readers/systemd/daemon-args.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
const read = (fixture: string, argv?: string[]) => readHaproxy(new RootFs(join(FIX, fixture)), argv ? { argv } : {});
const line = (s: { name: string; family: string; v6Only?: boolean; reusePort: boolean; freeBind?: boolean; device?: string; source: { file: string; line: number } }) =>
  `${s.name} ${s.family}${s.v6Only === undefined ? '' : ` v6only=${s.v6Only ? 1 : 0}`}${s.reusePort ? ' reuseport' : ''}${s.freeBind ? ' freebind' : ''}${s.device ? ` dev=${s.device}` : ''} @${s.source.line}`;

describe('readHaproxy: one file with every bind form', () => {
  const r = read('many-binds');
  const sockets = r.plans[0]?.sockets ?? [];

  it('all IPv6 listeners first (config order), then IPv4 ones (config order); unix, fd@ and disabled proxies get none', () => {
    expect(sockets.map(line)).toEqual([
      'frontend web [::]:443 inet6 v6only=0 reuseport @14',
      'frontend web [::1]:8443 inet6 v6only=1 reuseport @15',
      'frontend web [::]:8080 inet6 v6only=0 reuseport @16',
      // localhost: getaddrinfo(AF_UNSPEC) puts ::1 first; haproxy takes only the first answer.
      'frontend web [::1]:8888 inet6 v6only=0 reuseport @20',
      'frontend GLOBAL 127.0.0.1:9999 inet reuseport @3',
      'frontend web 127.0.0.1:80 inet reuseport @13',
      'frontend web 192.0.2.10:80 inet reuseport @13',
      'frontend web 0.0.0.0:8000 inet reuseport @17',
      'frontend web 0.0.0.0:8001 inet reuseport @17',
      'frontend web 0.0.0.0:8002 inet reuseport @17',
      'frontend web 10.0.0.1:81 inet reuseport freebind dev=eth0 @18',
      'proxy stats 0.0.0.0:9000 inet reuseport @24',
      'backend app 0.0.0.0:7001 inet reuseport @32',
    ]);
    expect(sockets.every((s) => s.reuseAddr && s.listens && s.proto === 'tcp' && s.uid === 0)).toBe(true);
  });

  it('each socket points at the address word of its line and can be commented out', () => {
    const s = sockets.find((x) => x.port === 81);
    expect(formatLocation(s!.source)).toBe('/etc/haproxy/haproxy.cfg:18:10');
    expect(s!.directive?.disabled).toEqual(['    # bind "10.0.0.1:81" transparent interface eth0 defer-accept accept-proxy']);
    expect(s!.derivation.join('\n')).toContain('IP_TRANSPARENT');
  });

  it('a bind in a backend is a warning, not a syntax error (haproxy binds it anyway)', () => {
    expect(r.findings.map((f) => `${f.code} ${f.location.line}`)).toEqual(['BC005 32']);
    expect(r.refusesToStart).toEqual([]);
  });
});

describe('readHaproxy: -f with a directory', () => {
  it('reads the file, then the directory\'s *.cfg files in byte order (not hidden ones, not x.cfg.cfg, not .txt)', () => {
    const r = read('conf-dir', ['/usr/sbin/haproxy', '-Ws', '-f', '/etc/haproxy/haproxy.cfg', '-f', '/etc/haproxy/conf.d']);
    expect(r.plans[0]?.files).toEqual(['/etc/haproxy/haproxy.cfg', '/etc/haproxy/conf.d/02-mail.cfg', '/etc/haproxy/conf.d/10-web.cfg']);
    // noreuseport in the first file's global section holds for every listener.
    expect(r.plans[0]?.sockets.map(line)).toEqual([
      'frontend smtp [::]:25 inet6 v6only=1 @3',
      'frontend smtp 0.0.0.0:25 inet @2',
      'frontend web 0.0.0.0:80 inet @2',
    ]);
    expect(r.findings).toEqual([]);
  });

  it('-dR on the command line switches SO_REUSEPORT off too', () => {
    const r = read('many-binds', ['/usr/sbin/haproxy', '-dR', '-f', '/etc/haproxy/haproxy.cfg']);
    expect(r.plans[0]?.sockets.some((s) => s.reusePort)).toBe(false);
    expect(daemonArgs(['haproxy', '-dR', '-f', 'x'])?.overrides.map((o) => o.option)).toEqual(['noreuseport']);
  });
});

describe('readHaproxy: disabled, enabled and constant .if blocks', () => {
  it('a proxy inherits "disabled" from defaults; "enabled" undoes it; .if 0 is skipped; noreuseport holds', () => {
    const r = read('noreuseport');
    expect(r.plans[0]?.sockets.map(line)).toEqual(['frontend back-on 0.0.0.0:81 inet @14']);
    expect(r.findings).toEqual([]);
  });
});

describe('readHaproxy: bad input is a finding with file:line, never a crash', () => {
  const r = read('errors');
  const f = r.findings.map((x) => `${x.code} ${x.location.line} ${x.message}`);

  it('names each problem in haproxy\'s own words', () => {
    const want: [string, number, string][] = [
      ['BC002', 1, "unknown keyword 'bind' out of section"],
      ['BC002', 4, "'bind' not allowed in 'defaults' section"],
      ['BC002', 6, "'bind' expects {<path>|[addr1]:port1[-end1]}"],
      ['BC002', 7, "unknown keyword 'frobnicate'"],
      ['BC002', 8, "missing port specification in '127.0.0.1'"],
      ['BC002', 9, "invalid port '99999'"],
      ['BC005', 10, 'environment variable FRONT_ADDR'],
      ['BC005', 11, 'environment variable PORT_ONLY'],
      ['BC002', 12, 'unmatched quote'],
      ['BC002', 13, "invalid address: 'nosuchhost.invalid'"],
      ['BC005', 14, 'network namespace blue'],
      ['BC002', 15, "resolves to an empty address"],
      ['BC002', 16, "dgram-type address not acceptable in 'udp@:86'"],
      ['BC002', 18, "frontend 'a' has the same name as frontend 'a'"],
      ['BC002', 21, "no SSL certificate specified for bind ':443'"],
    ];
    for (const [code, ln, text] of want) expect(f.some((x) => x.startsWith(`${code} ${ln} `) && x.includes(text)), `${code} line ${ln}: ${text}\n${f.join('\n')}`).toBe(true);
    expect(f).toHaveLength(want.length);
  });

  it('the addresses around a bad one still count: :84 and :85 of "bind :84,,:85", :87 of "bind :87,"', () => {
    expect(r.plans[0]?.sockets.map((s) => s.port)).toEqual([84, 85, 87, 88, 443]);
  });

  it('a missing -f file is BC001; no file at the default path means haproxy is not configured here', () => {
    const m = read('missing', ['haproxy', '-f', '/etc/haproxy/haproxy.cfg']);
    expect(m.found).toBe(true);
    expect(m.findings.map((x) => x.code)).toEqual(['BC001']);
    expect(read('missing').found).toBe(false);
  });
});

describe("Debian's installed haproxy.cfg", () => {
  it('has no TCP listener (its stats socket is a UNIX socket) and no finding', () => {
    const r = read('debian');
    expect(r.found).toBe(true);
    expect(r.plans[0]?.sockets).toEqual([]);
    expect(r.findings).toEqual([]);
  });
});

describe('parse_line() and str2sa_range()', () => {
  it('quotes, escapes, comments', () => {
    expect(lexHaproxyLine(`  bind "1.2.3.4:80" 'a b' c\\ d e\\#f # comment`, 1).words.map((w) => w.text)).toEqual(['bind', '1.2.3.4:80', 'a b', 'c d', 'e#f']);
    expect(lexHaproxyLine(`bind "\${A}:1" "\${B-127.0.0.1}:2"`, 1).words.map((w) => w.envRefs)).toEqual([[], ['A'], ['B']]);
    expect(lexHaproxyLine(`bind "x`, 1).error?.message).toMatch(/unmatched quote/);
    expect(lexHaproxyLine(`bind \\xZZ`, 1).error?.message).toMatch(/hexadecimal/);
  });

  it('address forms', () => {
    const v = (w: string) => {
      const t = parseBindAddress(w);
      return t.kind === 'inet' ? `${t.family} ${t.address} ${t.portLow}-${t.portHigh}` : t.kind === 'error' ? `error ${t.message}` : t.kind;
    };
    expect(v(':80')).toBe('inet 0.0.0.0 80-80');
    expect(v('*:80')).toBe('inet 0.0.0.0 80-80');
    expect(v(':::80')).toBe('inet6 :: 80-80');
    expect(v('[::]:80')).toBe('inet6 :: 80-80');
    expect(v('ipv6@:80')).toBe('inet6 :: 80-80');
    expect(v('ipv4@:::80')).toMatch(/^error invalid address/);
    expect(v('ipv6@127.0.0.1:80')).toMatch(/^error invalid address/);
    expect(v('tcp4@10.1.2.3:8000-8009')).toBe('inet 10.1.2.3 8000-8009');
    expect(v('::1:80')).toBe('inet6 ::1 80-80');
    expect(v(':80abc')).toBe('inet 0.0.0.0 80-80');
    expect(v(':0')).toMatch(/^error invalid port '0'/);
    expect(v(':9-8')).toMatch(/^error invalid port range/);
    expect(v('/run/x.sock')).toBe('unix');
    expect(v('abns@x')).toBe('unix');
    expect(v('fd@3')).toBe('fd');
    expect(v('quic4@:443')).toMatch(/^error dgram-type/);
    expect(splitBindAddresses('a,b,')).toEqual(['a', 'b']);
    expect(splitBindAddresses('a,,')).toEqual(['a', '']);
  });

  it('never throws on any line', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        lexHaproxyLine(s, 1);
        for (const w of s.split(/\s+/)) parseBindAddress(w);
      }),
    );
  });
});

describe("scan() with Debian's unit: -f $CONFIG from Environment=", () => {
  it('reads /etc/haproxy/haproxy.cfg, the file the unit names', async () => {
    const { scan } = await import('../../../src/index.js');
    const { haproxyReader } = await import('../../../src/readers/haproxy/index.js');
    const report = await scan({ root: join(FIX, 'debian'), live: false, readers: [haproxyReader] });
    const plan = report.daemons.find((d) => d.daemon === 'haproxy');
    expect(plan?.config).toBe('/etc/haproxy/haproxy.cfg');
    expect(plan?.files).toEqual(['/etc/haproxy/haproxy.cfg']);
    expect(plan?.sockets).toEqual([]);
    expect(plan?.starts).toBe(true);
    expect(report.findings.filter((f) => f.daemon === 'haproxy')).toEqual([]);
  });

  it('CONFIG and EXTRAOPTS from /etc/default/haproxy reach the reader through the unit (-f site.cfg, -dR)', async () => {
    const { scan } = await import('../../../src/index.js');
    const { haproxyReader } = await import('../../../src/readers/haproxy/index.js');
    const report = await scan({ root: join(FIX, 'default-config'), live: false, readers: [haproxyReader] });
    const plan = report.daemons.find((d) => d.daemon === 'haproxy');
    expect(plan?.files).toEqual(['/etc/haproxy/site.cfg']);
    expect(plan?.sockets.map((s) => `${s.name} reuseport=${s.reusePort}`)).toEqual(['frontend site 0.0.0.0:8080 reuseport=false']);
  });
});

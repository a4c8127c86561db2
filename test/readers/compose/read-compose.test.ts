import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { PlannedSocket } from '../../../src/model/planned.js';
import { composeCommand, composeReader, readCompose, type ComposeReadResult } from '../../../src/readers/compose/index.js';
import { READERS } from '../../../src/readers/index.js';
import { scanInventory } from '../../../src/run.js';

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'compose');
const read = (name: string): ComposeReadResult => readCompose(new RootFs(join(FIX, name)));
/** `name proto address:port v6only@file:line:col`, one per socket, in bind order. */
const row = (s: PlannedSocket): string =>
  `${s.name} ${s.proto} ${s.family === 'inet6' ? `[${s.address}]` : s.address}:${s.port}${s.v6Only ? ' v6only' : ''} reuse=${s.reuseAddr} listens=${s.listens} @${s.source.file}:${s.source.line}:${s.source.column}`;
const rows = (r: ComposeReadResult): string[][] => r.plans.map((p) => p.sockets.map(row));

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});
function root(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'bindcheck-compose-'));
  tmp.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(d, p, '..'), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

describe('compose reader: every ports form (fixtures/compose/forms)', () => {
  const r = read('forms');
  it('one plan per container, sockets in port_mapping.go order (IPv4 then [::] per binding), each at its file:line:column', () => {
    const F = '/srv/shop/compose.yaml';
    expect(rows(r)).toEqual([
      [
        `web/9000:9000/udp udp 127.0.0.1:9000 reuse=false listens=false @${F}:11:9`,
        `web/8443:443/tcp tcp [::1]:8443 v6only reuse=true listens=true @${F}:12:9`,
        `web/8091:91/tcp tcp 0.0.0.0:8091 reuse=true listens=true @${F}:18:9`,
        `web/8091:91/tcp tcp [::]:8091 v6only reuse=true listens=true @${F}:18:9`,
        `web/8090:90/tcp tcp 0.0.0.0:8090 reuse=true listens=true @${F}:18:9`,
        `web/8090:90/tcp tcp [::]:8090 v6only reuse=true listens=true @${F}:18:9`,
        `web/8080:80/tcp tcp 0.0.0.0:8080 reuse=true listens=true @${F}:10:9`,
        `web/8080:80/tcp tcp [::]:8080 v6only reuse=true listens=true @${F}:10:9`,
        // ${UNSET_PORT:-7100}: the default; ${WEB_PORT:-7000}: .env's 7001.
        `web/7100:71/tcp tcp 0.0.0.0:7100 reuse=true listens=true @${F}:14:9`,
        `web/7100:71/tcp tcp [::]:7100 v6only reuse=true listens=true @${F}:14:9`,
        `web/7001:70/tcp tcp 0.0.0.0:7001 reuse=true listens=true @${F}:13:9`,
        `web/7001:70/tcp tcp [::]:7001 v6only reuse=true listens=true @${F}:13:9`,
        // An explicit 0.0.0.0 is an IPv4 binding only (validatePortBindingIPv6 refuses a given IPv4 host IP).
        `web/6000:6000/tcp tcp 0.0.0.0:6000 reuse=true listens=true @${F}:21:9`,
        // Long syntax: located at its published value.
        `web/5353:53/udp udp 0.0.0.0:5353 reuse=false listens=false @${F}:16:20`,
        `web/5353:53/udp udp [::]:5353 v6only reuse=false listens=false @${F}:16:20`,
      ],
      [`worker/7500:7500/tcp tcp 0.0.0.0:7500 reuse=true listens=true @${F}:39:9`, `worker/7500:7500/tcp tcp [::]:7500 v6only reuse=true listens=true @${F}:39:9`],
      // The second replica asks for the same fixed port: located at `replicas: 2`.
      [`worker#2/7500:7500/tcp tcp 0.0.0.0:7500 reuse=true listens=true @${F}:37:17`, `worker#2/7500:7500/tcp tcp [::]:7500 v6only reuse=true listens=true @${F}:37:17`],
    ]);
  });
  it('plans say who binds and what a failure does', () => {
    const p = r.plans[0];
    expect(p).toMatchObject({ daemon: 'docker', config: '/srv/shop/compose.yaml', units: ['docker.service'], processNames: ['docker-proxy', 'dockerd'], onFailure: 'exit', startup: 'bind-listen-each' });
    expect(p?.files).toEqual(['/srv/shop/compose.yaml']);
    expect(r.projects.map((x) => x.name)).toEqual(['shop']);
    expect(r.sources.has('/srv/shop/.env')).toBe(true);
  });
  it('notes what cannot be predicted or is not published, findings only for bad input', () => {
    const notes = r.notes.map((n) => `${n.location.line}: ${n.message}`);
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^19: web: "127\.0\.0\.1::80" publishes container port 80\/tcp on a host port dockerd picks/),
        expect.stringMatching(/^20: web: "9999" publishes container port 9999\/tcp on a host port dockerd picks/),
        expect.stringMatching(/^22: web: "9:9\/sctp" is SCTP/),
        expect.stringMatching(/^26: service admin uses network_mode: host/),
        expect.stringMatching(/^30: service debug has profiles debug, none active/),
      ]),
    );
    expect(notes).toHaveLength(5);
    expect(r.findings).toEqual([]);
    // `expose:` publishes nothing: no plan for cache.
    expect(r.plans.some((p) => p.sockets.some((s) => s.name.startsWith('cache')))).toBe(false);
  });
});

describe('compose reader: files, overrides, units, daemon settings', () => {
  it('compose.yaml wins over docker-compose.yml; compose.override.yml merges: ports appended, duplicates collapse, !reset empties', () => {
    const r = read('override');
    expect(r.plans.map((p) => p.files)).toEqual([['/opt/app/compose.yaml', '/opt/app/compose.override.yml']]);
    expect(rows(r)[0]?.map((x) => x.split(' @')[0]?.split(' ').slice(0, 3).join(' ')).filter((_, i) => i % 2 === 0)).toEqual([
      'web/9443:943/tcp tcp 0.0.0.0:9443',
      'web/8443:443/tcp tcp 0.0.0.0:8443',
      'web/8080:80/tcp tcp 0.0.0.0:8080',
    ]);
    // "8443:443" appears in both files: one binding, at the override's line (the later entry replaces the earlier).
    expect(r.plans[0]?.sockets.find((s) => s.port === 8443)?.source).toMatchObject({ file: '/opt/app/compose.override.yml', line: 4 });
    expect(r.plans).toHaveLength(1);
  });

  it('a systemd unit running `docker compose -f FILE -p NAME up`: WorkingDirectory, Environment= over .env', () => {
    const r = read('unit');
    expect(r.projects.map((p) => [p.name, p.ref.dir, p.ref.files, p.ref.origin])).toEqual([['myapp', '/etc/myapp', ['/etc/myapp/docker-compose.yml'], 'myapp.service (ExecStart)']]);
    expect(rows(r)[0]?.[0]).toMatch(/^web\/8088:80\/tcp tcp 0\.0\.0\.0:8088 .*@\/etc\/myapp\/docker-compose\.yml:5:9$/);
  });

  it('a unit that runs docker compose up where no compose file is: BC001 at its ExecStart line', () => {
    const d = root({
      'etc/systemd/system/app.service': '[Service]\nWorkingDirectory=/srv/none\nExecStart=/usr/bin/docker-compose up\n',
      'srv/none/README': 'empty project dir\n',
    });
    const r = readCompose(new RootFs(d), { projectDirs: [] });
    expect(r.findings.map((f) => `${f.code} ${f.location.file}:${f.location.line} ${f.message}`)).toEqual([
      'BC001 /etc/systemd/system/app.service:3 app.service runs docker compose up, but no compose file (compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml) is in /srv/none',
    ]);
    expect(r.plans).toEqual([]);
  });

  it('composeCommand recognises docker compose and docker-compose command lines', () => {
    expect(composeCommand(['/usr/bin/docker', '--context', 'x', 'compose', '-f', 'a.yml', '--file=b.yml', '-pNAME', '--project-directory', '/srv', 'up', '-d'])).toEqual({
      files: ['a.yml', 'b.yml'],
      projectName: 'NAME',
      projectDirectory: '/srv',
      profiles: [],
      subcommand: 'up',
    });
    expect(composeCommand(['/usr/local/bin/docker-compose', '--env-file', '/e', 'up'])).toMatchObject({ envFile: '/e', subcommand: 'up' });
    expect(composeCommand(['/usr/bin/docker', 'run', 'x'])).toBeUndefined();
    expect(composeCommand(['/usr/sbin/nginx'])).toBeUndefined();
  });

  it('userland-proxy false and "ip": 127.0.0.1 in daemon.json: dockerd binds its placeholder on IPv4 only, no IPv6 binding without container IPv6', () => {
    const r = read('proxy-off');
    expect(r.daemon).toMatchObject({ userlandProxy: false, defaultIp: '127.0.0.1', ipv6: false });
    expect(rows(r)[0]?.map((x) => x.split(' reuse')[0])).toEqual(['web/8081:81/tcp tcp 0.0.0.0:8081', 'web/8080:80/tcp tcp 127.0.0.1:8080']);
    expect(r.plans[0]?.sockets[1]?.derivation.join('\n')).toMatch(/userland-proxy": false/);
  });

  it('dockerd flags from docker.service override the defaults; ipv6 brings the [::] binding back', () => {
    const d = root({ 'srv/a/compose.yaml': 'services:\n  w:\n    ports: ["8080:80"]\n' });
    const r = readCompose(new RootFs(d), { argv: ['/usr/bin/dockerd', '--userland-proxy=false', '--ipv6', '-H', 'fd://'] });
    expect(r.daemon).toMatchObject({ userlandProxy: false, ipv6: true });
    expect(r.plans[0]?.sockets.map((s) => s.address)).toEqual(['0.0.0.0', '::']);
  });

  it('host port ranges: the second container gets the next port of the range', () => {
    const d = root({ 'srv/a/compose.yaml': 'services:\n  w:\n    ports: ["8000-8010:80"]\n  v:\n    ports: ["8000-8010:80"]\n' });
    const r = readCompose(new RootFs(d));
    expect(r.plans.map((p) => p.sockets.map((s) => `${s.address} ${s.port}`))).toEqual([
      ['0.0.0.0 8000', ':: 8000'],
      ['0.0.0.0 8001', ':: 8001'],
    ]);
  });

  it('nothing found in a root without compose projects', () => {
    const r = read('empty');
    expect(r).toMatchObject({ found: false, plans: [], findings: [] });
  });
});

describe('compose reader: bad input is a finding with a location, never a crash', () => {
  const r = read('malformed');
  const got = r.findings.map((f) => `${f.code} ${f.severity} ${f.location.file}:${f.location.line}${f.location.column !== undefined ? `:${f.location.column}` : ''} ${f.message}`);
  it.each([
    /^BC002 error \/srv\/bad\/compose\.yaml:5:9 service web: ports entry "bad:80": Invalid hostPort: bad/,
    /^BC002 warning \/srv\/bad\/compose\.yaml:6:9 service web: unquoted 22:22 is the number 1342 to docker-compose v1/,
    /^BC002 error \/srv\/bad\/compose\.yaml:7:9 service web: ports entry \(long syntax\): target must be a port number/,
    /^BC002 error \/srv\/bad\/compose\.yaml:8:9 required variable NEED is missing a value: set NEED/,
    /^BC002 error \/srv\/bad\/compose\.yaml:9:9 service web: ports entry must be a string, a number or a mapping/,
    /^BC002 error \/srv\/bad\/compose\.yaml:13:12 service dup: ports must be a list/,
    /^BC002 error \/srv\/broken\/compose\.yaml:5:1 YAML: Missing closing "quote/,
    /^BC001 error \/srv\/notafile\/compose\.yaml:0 compose file \/srv\/notafile\/compose\.yaml: .* is not a regular file/,
  ])('%s', (re) => {
    expect(got.filter((g) => re.test(g))).toHaveLength(1);
  });
  it('no other findings, and a refused project starts no container', () => {
    expect(got).toHaveLength(8);
    expect(r.plans).toEqual([]);
    expect(r.notes.map((n) => n.message)).toContainEqual(expect.stringMatching(/^compose refuses project bad \(5 errors, the first at \/srv\/bad\/compose\.yaml:5\)/));
  });
  it('config text in findings, notes and socket names never carries a raw control character', () => {
    const d = root({ 'srv/p/compose.yaml': 'services:\n  "w\\e[31m":\n    ports: ["80\\a:80", "8080:80", "127.0.0.1::9"]\n' });
    const r = readCompose(new RootFs(d));
    const texts = [...r.findings.map((f) => f.message), ...r.notes.map((n) => n.message), ...r.plans.flatMap((p) => p.sockets.flatMap((s) => [s.name, ...s.derivation]))];
    expect(texts.length).toBeGreaterThan(0);
    expect(r.findings.map((f) => f.message)).toEqual([expect.stringMatching(/^service w\\x1b\[31m: ports entry "80\\x07:80": Invalid hostPort/)]);
    for (const t of texts) expect(t).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f]/);
  });

  it('arbitrary YAML never throws', () => {
    const texts = ['', '- a\n- b\n', 'services: 3\n', 'services:\n  x: [1]\n', 'services:\n  x:\n    ports: [{}]\n', 'services:\n  x:\n    ports:\n      - {target: 1, published: [2]}\n', 'services:\n  x: &a\n    ports: *a\n', '\u0000\u0007', 'a: b: c', 'services:\n  x:\n    deploy: {replicas: -1}\n    scale: many\n'];
    for (const t of texts) {
      const d = root({ 'srv/p/compose.yaml': t });
      expect(() => readCompose(new RootFs(d))).not.toThrow();
    }
  });
});

describe('compose reader: mutated fixtures', () => {
  it('any edit of a fixture compose file: no throw, every location inside the file, same result twice', () => {
    const seeds = ['forms/srv/shop/compose.yaml', 'override/opt/app/compose.override.yml', 'malformed/srv/bad/compose.yaml', 'two-services/opt/a/compose.yaml'].map((f) => readFileSync(join(FIX, f), 'utf8'));
    const d = root({ 'srv/p/.keep': '' });
    const file = '/srv/p/compose.yaml';
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(), fc.nat(30), fc.string({ maxLength: 12, unit: fc.constantFrom(...':-[]{}"\'#&*!|>$/ \n0189abtx'.split('')) }), (seed, at, len, ins) => {
        const i = at % (seed.length + 1);
        const text = seed.slice(0, i) + ins + seed.slice(i + len);
        writeFileSync(join(d, 'srv/p/compose.yaml'), text);
        const a = readCompose(new RootFs(d));
        const lines = text.split('\n').length;
        const locs = [...a.findings.map((f) => f.location), ...a.plans.flatMap((p) => p.sockets.map((s) => s.source)), ...a.notes.map((n) => n.location)];
        for (const l of locs) if (l.file === file) expect(l.line).toBeLessThanOrEqual(lines);
        expect(JSON.stringify(readCompose(new RootFs(d)).plans)).toBe(JSON.stringify(a.plans));
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('compose in a scan', () => {
  it('is registered as the docker reader', () => {
    expect(READERS).toContain(composeReader);
    expect(composeReader).toMatchObject({ daemon: 'docker', units: ['docker.service'] });
  });

  it('two services on one host port: BC103 at the service that loses, both orders; 127.0.0.1:8080 in another project too', () => {
    const s = scanInventory({ root: join(FIX, 'two-services'), live: false });
    const f = s.findings.filter((x) => x.code === 'BC103').map((x) => `${x.location.file}:${x.location.line} ${x.endpoint?.address}:${x.endpoint?.port}`);
    expect(f).toEqual(['/opt/a/compose.yaml:9 0.0.0.0:8080', '/opt/b/compose.yml:5 127.0.0.1:8080', '/opt/b/compose.yml:5 127.0.0.1:8080']);
    // 8081 is published once: no finding names it.
    expect(s.findings.some((x) => x.endpoint?.port === 8081)).toBe(false);
    // Same host IP, protocol and port in two containers: dockerd's allocator refuses before any bind(); a different
    // host IP (127.0.0.1:8080 against 0.0.0.0:8080) gets past it and fails in the kernel.
    const labels = (i: number) => s.findings.filter((x) => x.code === 'BC103')[i]?.evidence.map((e) => e.label).join('\n') ?? '';
    expect(labels(0)).toContain('"Bind for 0.0.0.0:8080 failed: port is already allocated"');
    expect(labels(1)).not.toContain('already allocated');
  });

  it('`scan --root`: a compose port against nginx on 80 is found, and the run exits 1', async () => {
    let out = '';
    const code = await main(['scan', '--root', join(FIX, 'nginx-conflict'), '--no-live', '--json'], { stdout: (x) => (out += x), stderr: () => {}, isTTY: false, env: {} });
    expect(code).toBe(1);
    const j = JSON.parse(out) as { findings: { code: string; location: { file: string; line: number }; message: string }[] };
    const f = j.findings.filter((x) => x.code === 'BC103');
    expect(f).toHaveLength(1);
    expect(f[0]?.location).toMatchObject({ file: '/opt/site/docker-compose.yml', line: 6 });
    expect(f[0]?.message).toMatch(/docker and nginx both want tcp\/0\.0\.0\.0:80/);
  });
});

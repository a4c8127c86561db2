import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { formatLocation } from '../../../src/model/location.js';
import { lexNginxConf, readNginx } from '../../../src/readers/nginx/index.js';
import { parseListenAddress } from '../../../src/readers/nginx/listen.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** BINDCHECK_UPDATE_GOLDEN=1 rewrites the golden files from this run. */
const UPDATE = process.env.BINDCHECK_UPDATE_GOLDEN === '1';

function golden(name: string, value: unknown): void {
  const p = join(FIX, `${name}.golden.json`);
  const text = JSON.stringify(value, null, 2) + '\n';
  if (UPDATE || !existsSync(p)) writeFileSync(p, text);
  expect(text).toBe(readFileSync(p, 'utf8'));
}

const read = (fixture: string, argv?: string[]) => readNginx(new RootFs(join(FIX, fixture)), argv ? { argv } : {});
const view = (r: ReturnType<typeof readNginx>) => ({
  files: r.plans[0]?.files,
  sockets: r.plans[0]?.sockets.map((s) => ({
    name: s.name,
    proto: s.proto,
    family: s.family,
    address: s.address,
    port: s.port,
    v6Only: s.v6Only,
    reusePort: s.reusePort,
    source: formatLocation(s.source),
    includedFrom: (s.source.includedFrom ?? []).map(formatLocation),
    derivation: s.derivation,
    optionsKey: s.optionsKey,
    directive: s.directive,
  })),
  findings: r.findings.map((f) => `${f.code} ${formatLocation(f.location)} ${f.message}`),
});

describe('nginx reader', () => {
  it('include tree: globs sorted, relative includes, sites-enabled symlink, folding, reuseport clones, stream', () => {
    const r = read('tree');
    golden('tree', view(r));
    const names = r.plans[0]!.sockets.map((s) => `${s.proto} ${s.name}`);
    // Ports in order of their first listen (10.0.0.1:80 in a-www.conf, sorted before b-api.conf); 10.0.0.1:80 has
    // no bind: folded into 0.0.0.0:80; 127.0.0.1:8080 bind comes before the 8080 wildcard; the clone comes last.
    expect(names).toEqual([
      'tcp 0.0.0.0:80',
      'tcp 0.0.0.0:443',
      'tcp [::]:443',
      'tcp 127.0.0.1:8080',
      'tcp 0.0.0.0:8080',
      'tcp [::]:80',
      'udp 0.0.0.0:5353',
      'tcp 127.0.0.1:12345',
      'tcp 0.0.0.0:8080#1',
    ]);
    expect(r.findings).toEqual([]);
  });

  it('a missing non-glob include is BC004 at the include line', () => {
    const r = read('missing');
    expect(r.findings.map((f) => `${f.code} ${formatLocation(f.location)}`)).toEqual(['BC004 /etc/nginx/nginx.conf:3:5']);
    expect(r.refusesToStart.length).toBe(1);
    expect(r.plans[0]!.sockets.map((s) => s.name)).toEqual(['0.0.0.0:80']);
  });

  it('an include loop is BC004, not a hang', () => {
    const r = read('loop');
    expect(r.findings.map((f) => `${f.code} ${formatLocation(f.location)}`)).toEqual(['BC004 /etc/nginx/loop.conf:2:1']);
    expect(r.findings[0]!.message).toContain('include loop');
  });

  it('malformed directives are BC0xx findings with locations', () => {
    const r = read('malformed');
    golden('malformed', view(r));
    expect(r.findings.map((f) => f.code)).toEqual(['BC005', 'BC002', 'BC002']);
  });

  it('-c and -g from the unit command line', () => {
    const r = read('tree', ['/usr/sbin/nginx', '-g', 'daemon on; master_process on;', '-c', '/etc/nginx/nginx.conf']);
    expect(r.plans[0]!.config).toBe('/etc/nginx/nginx.conf');
    const none = read('tree', ['/usr/sbin/nginx', '-c', '/etc/nginx/other.conf']);
    expect(none.findings.map((f) => f.code)).toEqual(['BC001']);
  });

  it('listen address forms', () => {
    expect(parseListenAddress('80')).toMatchObject({ kind: 'inet', family: 'inet', address: '0.0.0.0', port: 80, wildcard: true });
    expect(parseListenAddress('*:8080')).toMatchObject({ address: '0.0.0.0', port: 8080 });
    expect(parseListenAddress('127.0.0.1')).toMatchObject({ address: '127.0.0.1', port: 80 });
    expect(parseListenAddress('[::]:80')).toMatchObject({ family: 'inet6', address: '::', wildcard: true });
    expect(parseListenAddress('[::1]')).toMatchObject({ family: 'inet6', address: '::1', port: 80 });
    expect(parseListenAddress('localhost:80')).toMatchObject({ kind: 'host', host: 'localhost', port: 80 });
    expect(parseListenAddress('unix:/run/x.sock')).toMatchObject({ kind: 'unix' });
    expect(parseListenAddress('0')).toMatchObject({ kind: 'error' });
  });

  it('lexer: quotes, escapes, comments, ${var} braces, locations', () => {
    const l = lexNginxConf('a "b c" \'d\\\'e\' f#g; # c\nset $x ${y}z;\nblk {\n  x;\n}\n');
    expect(l.error).toBeUndefined();
    expect(l.directives.map((d) => [d.name, d.args.map((a) => a.text), d.line])).toEqual([
      ['a', ['b c', "d'e", 'f#g'], 1],
      ['set', ['$x', '${y}z'], 2],
      ['blk', [], 3],
    ]);
    expect(lexNginxConf('}').error?.message).toBe('unexpected "}"');
    expect(lexNginxConf('a {').error?.message).toBe('unexpected end of file, expecting "}"');
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', ';', '{', '}', '"', "'", '\\', '#', '\n', '$', 'listen', 'server', 'http', 'include', '*', '80', '[::]') }), (s) => {
        lexNginxConf(s);
      }),
      { numRuns: 500 },
    );
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { Location } from '../../../src/model/location.js';
import { apacheReader, lexApacheConf, parseAddrPort, readApache, splitArgs } from '../../../src/readers/apache/index.js';
import { scanInventory } from '../../../src/run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** UPDATE_GOLDEN=1 rewrites fixtures/<name>.expected.json from the reader's output. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const where = (l: Location) => `${l.file}:${l.line}${(l.includedFrom ?? []).map((i) => ` <- ${i.file}:${i.line}`).join('')}`;

function golden(name: string) {
  const r = readApache(new RootFs(join(FIX, name)));
  return {
    files: r.plans[0]?.files ?? [],
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      name: s.name,
      family: s.family,
      address: s.address,
      port: s.port,
      v6Only: s.v6Only ?? null,
      fallbackFor: s.fallbackFor ?? null,
      optionsKey: s.optionsKey ?? null,
      source: where(s.source),
      directive: s.directive ? { lines: `${s.directive.startLine}-${s.directive.endLine}`, disabled: s.directive.disabled } : null,
    })),
    findings: r.findings.map((f) => ({ code: f.code, at: where(f.location), message: f.message })),
  };
}

describe.each(['debian-tree', 'rhel', 'missing-include', 'include-loop', 'malformed'])('fixture %s', (name) => {
  it('matches its golden file', () => {
    const got = golden(name);
    const file = join(FIX, `${name}.expected.json`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});

describe('apache reader behaviour', () => {
  it("Debian tree: globs sorted, IfModule by mods-enabled LoadModule, Define, envvars, IfVersion, continuation", () => {
    const g = golden('debian-tree');
    expect(g.files).toEqual([
      '/etc/apache2/apache2.conf',
      '/etc/apache2/mods-enabled/mpm_event.load',
      '/etc/apache2/mods-enabled/ssl.load',
      '/etc/apache2/ports.conf',
      '/etc/apache2/sites-enabled/10-local.conf',
      '/etc/apache2/sites-enabled/20-a.conf',
    ]);
    // Listen 80 → dual-stack [::]:80 with 0.0.0.0:80 as its fallback (bound only if [::]:80 fails); 443 because
    // ssl_module is loaded (not gnutls); Listen 0.0.0.0:8081 is kept: no :: on 8081.
    expect(g.sockets.map((s) => `${s.address}:${s.port} ${s.optionsKey} ${s.source}`).filter((_, i) => g.sockets[i]?.fallbackFor === null)).toEqual([
      ':::80 protocol=http /etc/apache2/ports.conf:1 <- /etc/apache2/apache2.conf:6',
      ':::443 protocol=https /etc/apache2/ports.conf:4 <- /etc/apache2/apache2.conf:6',
      '127.0.0.1:8080 protocol=http /etc/apache2/sites-enabled/10-local.conf:3 <- /etc/apache2/apache2.conf:8',
      '::1:8443 protocol=https /etc/apache2/sites-enabled/10-local.conf:7 <- /etc/apache2/apache2.conf:8',
      '0.0.0.0:8081 protocol=http /etc/apache2/sites-enabled/20-a.conf:1 <- /etc/apache2/apache2.conf:8',
    ]);
    expect(g.sockets.every((s) => s.family === 'inet' || s.v6Only === false)).toBe(true);
    expect(g.sockets.find((s) => s.port === 8080)?.directive).toEqual({ lines: '3-4', disabled: ['#  Listen \\', '#    127.0.0.1:${ADMIN_PORT}'] });
    expect(g.findings).toEqual([]);
  });

  it('RHEL layout: conf.modules.d LoadModule makes <IfModule !mod_ssl.c> false', () => {
    const g = golden('rhel');
    expect(g.sockets.map((s) => `${s.address}:${s.port}${s.fallbackFor !== null ? ` (if ${s.fallbackFor} fails)` : ''}`)).toEqual([':::80', '0.0.0.0:80 (if 0 fails)', ':::443', '0.0.0.0:443 (if 2 fails)']);
    expect(g.findings).toEqual([]);
  });

  it('missing Include is BC004 (wildcard and literal), IncludeOptional stays quiet', () => {
    const g = golden('missing-include');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual(['BC004 /etc/apache2/apache2.conf:4', 'BC004 /etc/apache2/apache2.conf:5']);
    expect(g.findings[0]?.message).toContain("No matches for the wildcard '*.conf' in '/etc/apache2/extra', failing");
    expect(g.findings[1]?.message).toContain('Could not open configuration file /etc/apache2/absent.conf: No such file or directory');
  });

  it('an include loop is BC004 at the Include line, not a hang', () => {
    const g = golden('include-loop');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual(['BC004 /etc/apache2/a.conf:1 <- /etc/apache2/apache2.conf:2']);
    expect(g.sockets.map((s) => `${s.address}:${s.port}`)).toEqual([':::80', '0.0.0.0:80']);
  });

  it('malformed Listen lines, duplicates, VirtualHost context, unbalanced sections → BC0xx with locations', () => {
    const g = golden('malformed');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual([
      'BC002 /etc/apache2/apache2.conf:1',
      'BC002 /etc/apache2/apache2.conf:2',
      'BC002 /etc/apache2/apache2.conf:3',
      'BC002 /etc/apache2/apache2.conf:5',
      'BC002 /etc/apache2/apache2.conf:8',
      'BC002 /etc/apache2/apache2.conf:10',
      'BC002 /etc/apache2/apache2.conf:12',
      'BC002 /etc/apache2/apache2.conf:12',
      'BC005 /etc/apache2/apache2.conf:11',
    ]);
    expect(g.findings[3]?.message).toContain('Cannot define multiple Listeners on the same IP:port');
  });

  it('argv: -f, -d, -D, -C/-c are honoured', () => {
    const r = readApache(new RootFs(join(FIX, 'debian-tree')), {
      argv: ['/usr/sbin/apache2', '-d', '/etc/apache2', '-f', 'apache2.conf', '-D', 'NOADMIN', '-c', 'Listen 127.0.0.2:81'],
    });
    expect(r.plans[0]?.sockets.filter((s) => s.fallbackFor === undefined).map((s) => `${s.address}:${s.port}`)).toEqual([':::80', ':::443', '::1:8443', '0.0.0.0:8081', '127.0.0.2:81']);
  });

  it('parseAddrPort follows apr_parse_addr_port', () => {
    expect(parseAddrPort('80')).toEqual({ port: 80 });
    expect(parseAddrPort('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseAddrPort('[::]:80')).toEqual({ host: '::', port: 80 });
    expect(parseAddrPort('*:80')).toEqual({ host: '*', port: 80 });
    expect(parseAddrPort('99999')).toBeUndefined();
    expect(parseAddrPort('::80')).toBeUndefined();
  });

  it('lexer: continuation, comments, quotes', () => {
    expect(splitArgs(`a "b c" 'd\\'e' f`)).toEqual(['a', 'b c', "d'e", 'f']);
    const l = lexApacheConf('# c\n  Listen \\\n 80 # not a comment\n<IfModule "x">\n</IfModule>\n');
    expect(l.map((x) => [x.kind, x.name, x.args, x.startLine, x.endLine])).toEqual([
      ['directive', 'Listen', ['80', '#', 'not', 'a', 'comment'], 2, 3],
      ['section-open', 'IfModule', ['x'], 4, 4],
      ['section-close', 'IfModule', [], 5, 5],
    ]);
  });

  it('scanInventory with the reader passed explicitly', () => {
    const r = scanInventory({ root: join(FIX, 'rhel'), live: false, readers: [apacheReader] });
    const plan = r.inventory.daemons.find((d) => d.daemon === 'apache');
    expect(plan?.onFailure).toBe('exit');
    expect(plan?.units).toEqual(['apache2.service', 'httpd.service']);
    expect(plan?.processNames).toEqual(['apache2', 'httpd']);
  });

  it('a root without apache is not found', () => {
    const r = readApache(new RootFs(join(FIX, 'rhel', 'etc', 'httpd', 'conf.d')));
    expect(r.found).toBe(false);
  });

  it('random text never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('Listen 80', '<IfModule x>', '</IfModule>', 'Include *', '\\', 'Define A ${A}', 'Listen [::', '<VirtualHost>')), { maxLength: 30 }), (lines) => {
        lexApacheConf(lines.join('\n'));
        for (const l of lines) parseAddrPort(l);
      }),
      { numRuns: 300 },
    );
  });
});

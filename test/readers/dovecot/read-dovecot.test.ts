import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import type { Location } from '../../../src/model/location.js';
import { dovecotReader, expandBraces, lexDovecotConf, readDovecot } from '../../../src/readers/dovecot/index.js';
import { scanInventory } from '../../../src/run.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FIX = join(HERE, 'fixtures');
/** UPDATE_GOLDEN=1 rewrites fixtures/<name>.expected.json from the reader's output. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const where = (l: Location) => `${l.file}:${l.line}${(l.includedFrom ?? []).map((i) => ` <- ${i.file}:${i.line}`).join('')}`;

function golden(name: string) {
  const r = readDovecot(new RootFs(join(FIX, name)));
  return {
    files: r.plans[0]?.files ?? [],
    protocols: r.protocols,
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      name: s.name,
      family: s.family,
      address: s.address,
      port: s.port,
      v6Only: s.v6Only ?? null,
      reusePort: s.reusePort,
      source: where(s.source),
      directive: s.directive ? { lines: `${s.directive.startLine}-${s.directive.endLine}`, disabled: s.directive.disabled } : null,
    })),
    findings: r.findings.map((f) => ({ code: f.code, at: where(f.location), message: f.message })),
  };
}

describe.each(['include-tree', 'missing-include', 'include-loop', 'glob-order', 'malformed', 'variables'])('fixture %s', (name) => {
  it('matches its golden file', () => {
    const got = golden(name);
    const file = join(FIX, `${name}.expected.json`);
    if (UPDATE || !existsSync(file)) writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
  });
});

describe('dovecot reader behaviour', () => {
  it('include tree: Debian protocols.d, conf.d glob in order, missing !include_try is quiet', () => {
    const g = golden('include-tree');
    expect(g.protocols).toEqual(['imap', 'pop3']);
    expect(g.findings).toEqual([]);
    // pop3 port = 0 is disabled; pop3s keeps 995; imap on 127.0.0.1 only; imaps on both.
    expect(g.sockets.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual([
      'pop3-login 0.0.0.0:995',
      'pop3-login :::995',
      'imap-login 127.0.0.1:143',
      'imap-login 0.0.0.0:993',
      'imap-login :::993',
      'imap-login 192.0.2.10:10143',
    ]);
    expect(g.sockets[2]?.source).toBe('/etc/dovecot/conf.d/10-master.conf:3 <- /etc/dovecot/dovecot.conf:4');
    // A built-in listener the config never mentions points at the line that enabled its protocol.
    expect(g.sockets[0]?.source).toBe('/usr/share/dovecot/protocols.d/pop3d.protocol:1 <- /etc/dovecot/dovecot.conf:2');
    expect(g.sockets[5]?.reusePort).toBe(true);
  });

  it('a missing !include is BC004 at the include line; !include_try of nothing is quiet', () => {
    const g = golden('missing-include');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual(['BC004 /etc/dovecot/dovecot.conf:4']);
    expect(g.findings[0]?.message).toContain('No matches');
  });

  it('an include loop is BC004 where the loop closes', () => {
    const g = golden('include-loop');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual([
      'BC004 /etc/dovecot/b.conf:2 <- /etc/dovecot/dovecot.conf:2 <- /etc/dovecot/a.conf:2',
    ]);
    expect(g.findings[0]?.message).toContain('Recursive include file: /etc/dovecot/a.conf');
    expect(g.sockets.map((s) => `${s.address}:${s.port}`)).toEqual(['127.0.0.1:143', '127.0.0.1:993']);
  });

  it('glob: byte order (9-c after 20-b), no dotfiles, brace alternatives in their own order', () => {
    const g = golden('glob-order');
    expect(g.sockets.map((s) => `${s.address}:${s.port}`)).toEqual(['127.0.0.3:9090', '127.0.0.3:993']);
    expect(expandBraces('/a/{x,a}*.cnf')).toEqual(['/a/x*.cnf', '/a/a*.cnf']);
  });

  it('malformed lines are BC0xx findings with their locations', () => {
    const g = golden('malformed');
    expect(g.findings.map((f) => `${f.code} ${f.at}`)).toEqual([
      'BC002 /etc/dovecot/dovecot.conf:2',
      'BC005 /etc/dovecot/dovecot.conf:6',
      'BC002 /etc/dovecot/dovecot.conf:9',
      'BC002 /etc/dovecot/dovecot.conf:11',
      'BC002 /etc/dovecot/dovecot.conf:12',
      'BC002 /etc/dovecot/dovecot.conf:1',
      'BC002 /etc/dovecot/dovecot.conf:5',
      'BC002 /etc/dovecot/dovecot.conf:7',
    ]);
  });

  it('$variables, continuation lines, ssl = no skips ssl listeners', () => {
    const g = golden('variables');
    expect(g.protocols).toEqual(['imap', 'pop3']);
    expect(g.sockets.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual([
      'pop3-login 127.0.0.1:1110',
      'pop3-login ::1:1110',
      'imap-login 127.0.0.1:143',
      'imap-login ::1:143',
    ]);
  });

  it('duplicate port:address text is what doveconf rejects ("duplicate listener")', () => {
    const root = mkdtempSync(join(tmpdir(), 'bc-dovecot-'));
    try {
      mkdirSync(join(root, 'etc', 'dovecot'), { recursive: true });
      writeFileSync(
        join(root, 'etc', 'dovecot', 'dovecot.conf'),
        'protocols = imap\nservice imap-login {\n  inet_listener a {\n    port = 143\n  }\n}\n',
      );
      const r = readDovecot(new RootFs(root));
      expect(r.findings.map((f) => `${f.code} ${f.location.line} ${/duplicate listener: 143:/.test(f.message)}`)).toEqual(['BC002 4 true']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs through scanInventory when passed explicitly', () => {
    const r = scanInventory({ root: join(FIX, 'include-tree'), live: false, readers: [dovecotReader] });
    const plan = r.inventory.daemons.find((d) => d.daemon === 'dovecot');
    expect(plan?.sockets.length).toBe(6);
    expect(plan?.startup).toBe('bind-listen-each');
    expect(plan?.retry?.exitStatus).toBe(89);
  });

  it('a root without dovecot is not found', () => {
    expect(readDovecot(new RootFs(join(FIX, 'nonexistent'))).found).toBe(false);
  });

  it('never throws on random text (lexer and reader)', () => {
    const root = mkdtempSync(join(tmpdir(), 'bc-dovecot-fc-'));
    mkdirSync(join(root, 'etc', 'dovecot'), { recursive: true });
    const piece = fc.constantFrom('service imap-login {', 'inet_listener imap {', '}', '{', 'port = ', 'address = ', '!include ', '!include_try ', '$listen', '"', "'", '\\', '#', '\n', ' ', '=', '<', '*', '::', '*.conf', 'dovecot.conf', 'protocols = imap');
    const text = fc.oneof(fc.string(), fc.array(piece, { maxLength: 40 }).map((a) => a.join('')));
    try {
      fc.assert(
        fc.property(text, (t) => {
          lexDovecotConf(t);
          writeFileSync(join(root, 'etc', 'dovecot', 'dovecot.conf'), t);
          const r = readDovecot(new RootFs(root));
          expect(r.found).toBe(true);
        }),
        { numRuns: 300 },
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

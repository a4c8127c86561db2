import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { formatLocation } from '../../../src/model/location.js';
import { ParamEvaluator, parseMainCf, parseMasterCf, postfixReader, readPostfix, type PostfixReadResult } from '../../../src/readers/postfix/index.js';
import { SourceText } from '../../../src/readers/sendmail/source-text.js';
import { scanInventory } from '../../../src/index.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtures = path.join(here, 'fixtures');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function golden(r: PostfixReadResult): unknown {
  return {
    found: r.found,
    files: r.plans[0]?.files ?? [],
    inetInterfaces: r.inetInterfaces ?? null,
    inetProtocols: r.inetProtocols ?? null,
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      at: formatLocation(s.source),
      name: s.name,
      family: s.family,
      address: s.address,
      port: s.port,
      reuseAddr: s.reuseAddr,
      reusePort: s.reusePort,
      v6Only: s.v6Only ?? null,
      optionsKey: s.optionsKey,
      derivation: s.derivation,
    })),
    skipped: r.services.filter((s) => s.skippedReason).map((s) => ({ at: formatLocation(s.entry.location), why: s.skippedReason })),
    findings: r.findings.map((f) => ({ code: f.code, at: formatLocation(f.location), message: f.message })),
  };
}

const cases = fs.readdirSync(fixtures).filter((d) => fs.statSync(path.join(fixtures, d)).isDirectory()).sort();

describe('readPostfix fixtures (golden)', () => {
  for (const c of cases) {
    it(c, () => {
      const r = readPostfix(new RootFs(path.join(fixtures, c)));
      const file = path.join(fixtures, `${c}.expected.json`);
      const got = golden(r);
      if (UPDATE || !fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
      expect(got).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
    });
  }
});

describe('fixture expectations written in master.cf', () => {
  for (const c of cases) {
    const cf = path.join(fixtures, c, 'etc/postfix/master.cf');
    if (!fs.existsSync(cf)) continue;
    const expected = fs.readFileSync(cf, 'utf8').split('\n').flatMap((l, i) => {
      const m = /^# expect: (BC\d{3})/.exec(l);
      return m ? [`${m[1]}@${i + 2}`] : [];
    });
    if (expected.length === 0) continue;
    it(c, () => {
      const r = readPostfix(new RootFs(path.join(fixtures, c)));
      const got = r.findings.filter((f) => f.location.file === '/etc/postfix/master.cf').map((f) => `${f.code}@${f.location.line}`);
      expect([...new Set(got)].sort()).toEqual([...new Set(expected)].sort());
    });
  }
});

describe('readPostfix behaviour', () => {
  it("Debian's default: 0.0.0.0:25 then [::]:25 (V6ONLY), SO_REUSEADDR+SO_REUSEPORT, one per protocol", () => {
    const r = readPostfix(new RootFs(path.join(fixtures, 'debian-default')));
    const plan = r.plans[0]!;
    expect(plan).toMatchObject({ daemon: 'postfix', config: '/etc/postfix/main.cf', startup: 'bind-listen-each', onFailure: 'exit', processNames: ['master'] });
    expect(plan.units).toEqual(['postfix.service', 'postfix@-.service']);
    expect(plan.sockets.map((s) => `${s.family} ${s.address}:${s.port} v6only=${s.v6Only}`)).toEqual(['inet 0.0.0.0:25 v6only=undefined', 'inet6 :::25 v6only=true']);
    expect(plan.sockets.every((s) => s.reuseAddr && s.reusePort && s.listens && s.uid === 0)).toBe(true);
    const line = fs.readFileSync(path.join(fixtures, 'debian-default/etc/postfix/master.cf'), 'utf8').split('\n').findIndex((l) => l.startsWith('smtp      inet')) + 1;
    expect(formatLocation(plan.sockets[0]!.source)).toBe(`/etc/postfix/master.cf:${line}:1`);
    expect(plan.sockets[0]!.derivation.join('\n')).toMatch(/inet_interfaces = all \(main\.cf:\d+\)/);
    expect(plan.sockets[0]!.directive).toMatchObject({ startLine: line, endLine: line, disabled: [expect.stringMatching(/^#smtp +inet/)] });
  });

  it('continuation lines, comments inside them, $var and ${var} expansion, -o inet_interfaces ignored by master, duplicates dropped', () => {
    const r = readPostfix(new RootFs(path.join(fixtures, 'loopback-list')));
    expect(r.inetInterfaces).toBe('127.0.0.1, [::1] 127.0.0.1');
    expect(r.plans[0]!.sockets.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual([
      'smtp 127.0.0.1:25',
      'smtp ::1:25',
      '2525 127.0.0.1:2525',
      '2525 ::1:2525',
      '[::1]:2526 ::1:2526',
      '127.0.0.1:smtp 127.0.0.1:25',
    ]);
    expect(r.findings.map((f) => `${f.code}@${f.location.line}`)).toEqual(['BC005@8']);
    expect(r.plans[0]!.sockets[2]!.derivation.join('\n')).toMatch(/-o inet_interfaces=127\.0\.0\.2 is passed to smtpd only/);
  });

  it('-c DIR: the directory is read instead, and $config_directory expands to it', () => {
    const fsr = new RootFs(path.join(fixtures, 'multi-dir'));
    expect(readPostfix(fsr).found).toBe(false);
    const r = postfixReader.read(fsr, { configPath: '/etc/postfix-alt' }) as PostfixReadResult;
    expect(r.plans[0]!.config).toBe('/etc/postfix-alt/main.cf');
    expect(r.plans[0]!.sockets.map((s) => `${s.address}:${s.port}`)).toEqual(['127.0.0.1:587']);
    const main = parseMainCf(new SourceText('/x/main.cf', 'a = $config_directory/b\n'), []);
    expect(new ParamEvaluator(main, { config_directory: '/etc/postfix-alt' }).expand('a').value).toBe('/etc/postfix-alt/b');
  });

  it('mac_expand: ${x?y}, ${x:y}, $$, undefined names, and self-reference as a finding', () => {
    const main = parseMainCf(new SourceText('/m', 'a = 1\nb =\nc = ${a?yes} ${b:no} $$ $undefined.\nd = $d\n'), []);
    const ev = new ParamEvaluator(main, {});
    expect(ev.expand('c').value).toBe('yes no $ .');
    expect(ev.expand('d').error).toMatch(/nesting/);
  });

  it('a missing master.cf is BC001; an unrelated root is not found', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-pf-'));
    try {
      expect(readPostfix(new RootFs(dir))).toMatchObject({ found: false, plans: [], findings: [] });
      fs.mkdirSync(path.join(dir, 'etc/postfix'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'etc/postfix/main.cf'), 'inet_interfaces = all\n');
      const r = readPostfix(new RootFs(dir));
      expect(r.findings.map((f) => `${f.code} ${f.location.file}`)).toEqual(['BC001 /etc/postfix/master.cf']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scanInventory with the reader passed explicitly plans the sockets', () => {
    const inv = scanInventory({ root: path.join(fixtures, 'debian-default'), live: false, readers: [postfixReader] });
    expect(inv.inventory.daemons.map((d) => d.daemon)).toEqual(['postfix']);
  });

  it('random main.cf / master.cf text never throws', () => {
    const chars = fc.constantFrom(...'ab_=$({})[]:,# \t\n\r-o.0123456789smtpinetall'.split(''));
    const text = fc.array(chars, { maxLength: 300 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, text, (mainText, masterText) => {
        const findings: never[] = [];
        const main = parseMainCf(new SourceText('/etc/postfix/main.cf', mainText), findings);
        const ev = new ParamEvaluator(main, {});
        for (const k of main.params.keys()) ev.expand(k);
        parseMasterCf(new SourceText('/etc/postfix/master.cf', masterText), findings);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-pf-fc-'));
        try {
          fs.mkdirSync(path.join(dir, 'etc/postfix'), { recursive: true });
          fs.writeFileSync(path.join(dir, 'etc/postfix/main.cf'), mainText);
          fs.writeFileSync(path.join(dir, 'etc/postfix/master.cf'), masterText);
          readPostfix(new RootFs(dir));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 150 },
    );
  });
});

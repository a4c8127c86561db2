import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { docsPath } from '../../src/checks/types.js';
import { applyEdits } from '../../src/fixes/apply.js';
import type { Finding } from '../../src/model/finding.js';
import { FINGERPRINT_KEY, projectUriFromPackage, sarifJson, toSarif, type SarifLog } from '../../src/reporters/sarif.js';
import { scanInventory, type ScanResult } from '../../src/run.js';
import { REPO, sarifSchemaValidator } from './validators.js';

const SEED = join(REPO, 'examples', 'seed-appliance');
const CF = '/etc/mail/sendmail.cf';
const FIXTURES = ['bc101-dual-stack-covers-v4', 'bc101-ok-other-port', 'bc101-v4-and-v6-wildcards', 'bc102-duplicate', 'bc202-not-local'];
const ROOTS = [SEED, ...FIXTURES.map((f) => join(REPO, 'test/checks/fixtures', f))];

const scan = (root: string): ScanResult => scanInventory({ root, live: false });
const run0 = (log: SarifLog): Sarif.Run => log.runs[0] as Sarif.Run;
const results = (log: SarifLog): Sarif.Result[] => run0(log).results ?? [];
const fingerprint = (r: Sarif.Result): string | undefined => r.partialFingerprints?.[FINGERPRINT_KEY];

const temps: string[] = [];
function tempRoot(files: Record<string, string>, from?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bindcheck-sarif-'));
  temps.push(dir);
  if (from !== undefined) cpSync(from, dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** Apply SARIF replacements (1-based lines, UTF-16 columns; no columns = whole lines without the final newline). */
function applyReplacements(text: string, replacements: Sarif.Replacement[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const lineEnd = (l: number): number => (starts[l] !== undefined ? (starts[l] as number) - 1 : text.length);
  const spans = replacements.map((r) => {
    const g = r.deletedRegion;
    const startLine = g.startLine ?? 1;
    const endLine = g.endLine ?? startLine;
    const from = (starts[startLine - 1] as number) + (g.startColumn ?? 1) - 1;
    const to = g.endColumn !== undefined ? (starts[endLine - 1] as number) + g.endColumn - 1 : lineEnd(endLine);
    return { from, to, text: r.insertedContent?.text ?? '' };
  });
  let out = text;
  for (const s of spans.sort((a, b) => b.from - a.from)) out = out.slice(0, s.from) + s.text + out.slice(s.to);
  return out;
}

describe('toSarif', () => {
  const validate = sarifSchemaValidator();

  it.each(ROOTS.map((r) => relative(REPO, r)))('is valid against the official SARIF 2.1.0 schema: %s', (root) => {
    const log = toSarif(scan(join(REPO, root)), '0.0.0-test');
    expect(validate(log)).toEqual([]);
    expect(validate(JSON.parse(sarifJson(log)))).toEqual([]);
  });

  it('lists every check as a rule with its docs page, and results point at their rule', () => {
    const log = toSarif(scan(SEED), '1.2.3');
    const driver = run0(log).tool.driver;
    expect(driver).toMatchObject({ name: 'bindcheck', version: '1.2.3' });
    expect(driver.informationUri).toMatch(/README\.md$/);
    const rules = driver.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual(CHECKS.map((c) => c.code));
    for (const [i, c] of CHECKS.entries()) {
      const rule = rules[i] as Sarif.ReportingDescriptor;
      expect(rule).toMatchObject({ name: c.name, shortDescription: { text: c.summary } });
      expect(rule.defaultConfiguration?.level).toBe(c.severity === 'info' ? 'note' : c.severity);
      expect(rule.helpUri).toBeDefined();
      const help = new URL(rule.helpUri as string);
      expect(help.href.endsWith(docsPath(c.code))).toBe(true);
      // Without a repository in package.json the page is the one shipped in the package: it must exist.
      if (help.protocol === 'file:') expect(existsSync(fileURLToPath(help))).toBe(true);
    }
    const rs = results(log);
    expect(rs.length).toBeGreaterThan(0);
    for (const r of rs) expect(rules[r.ruleIndex ?? -1]?.id).toBe(r.ruleId);
  });

  it('resolves helpUri against the repository named in package.json', () => {
    expect(projectUriFromPackage({})).toBeUndefined();
    expect(projectUriFromPackage({ repository: 'github:acme/bindcheck' })).toBe('https://github.com/acme/bindcheck/blob/HEAD/');
    expect(projectUriFromPackage({ repository: 'acme/bindcheck' })).toBe('https://github.com/acme/bindcheck/blob/HEAD/');
    expect(projectUriFromPackage({ repository: { type: 'git', url: 'git+https://github.com/acme/tools.git', directory: 'packages/bindcheck' } })).toBe(
      'https://github.com/acme/tools/blob/HEAD/packages/bindcheck/',
    );
    expect(projectUriFromPackage({ repository: 'git@gitlab.com:acme/bindcheck.git' })).toBe('https://gitlab.com/acme/bindcheck/-/blob/HEAD/');
    expect(projectUriFromPackage({ homepage: 'https://github.com/acme/bindcheck#readme' })).toBe('https://github.com/acme/bindcheck/blob/HEAD/');
    expect(projectUriFromPackage({ homepage: 'https://bindcheck.example.org/' })).toBeUndefined();
    const log = toSarif(scan(SEED), '1.2.3', { projectUri: 'https://github.com/acme/bindcheck/blob/HEAD/' });
    expect(run0(log).tool.driver.rules?.[0]?.helpUri).toBe(`https://github.com/acme/bindcheck/blob/HEAD/docs/checks/${CHECKS[0]?.code}.md`);
  });

  it('places results ROOT-relative, with evidence as related locations and the finding facts as properties', () => {
    const result = scan(SEED);
    const log = toSarif(result, '0.0.0-test');
    expect(run0(log).originalUriBaseIds).toEqual({ ROOT: { uri: `${pathToFileURL(SEED).href}/` } });
    expect(toSarif(result, '0.0.0-test', { root: '/srv/images/appliance' }).runs[0]?.originalUriBaseIds?.ROOT?.uri).toBe('file:///srv/images/appliance/');
    const f = result.findings[0] as Finding;
    const r = results(log)[0] as Sarif.Result;
    expect(r).toMatchObject({ ruleId: 'BC101', level: 'error', message: { text: f.message } });
    expect(r.locations?.[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'etc/mail/sendmail.cf', uriBaseId: 'ROOT' },
      region: { startLine: f.location.line, startColumn: f.location.column, endColumn: f.location.endColumn },
    });
    expect(r.relatedLocations?.map((l) => l.id)).toEqual(f.evidence.map((_, i) => i + 1));
    expect(r.relatedLocations?.map((l) => l.message?.text)).toEqual(f.evidence.map((e) => e.label));
    // The last evidence item is about the whole file (line 0): no region.
    const wholeFile = f.evidence.findIndex((e) => e.location.line === 0);
    expect(wholeFile).toBeGreaterThanOrEqual(0);
    expect(r.relatedLocations?.[wholeFile]?.physicalLocation).toEqual({ artifactLocation: { uri: 'etc/mail/sendmail.cf', uriBaseId: 'ROOT' } });
    expect(r.properties).toMatchObject({ errno: 'EADDRINUSE', endpoint: { proto: 'tcp', address: '127.0.0.1', port: 25 }, daemon: 'sendmail' });
  });

  it('reports what could not be seen as tool notifications', () => {
    const log = toSarif(scanInventory({ root: SEED, live: true }), '0.0.0-test');
    const notes = run0(log).invocations?.[0]?.toolExecutionNotifications ?? [];
    expect(notes.map((n) => n.message.text)).toEqual([expect.stringMatching(/^live sockets: .*has no network tables/)]);
    expect(validate(log)).toEqual([]);
  });

  it('turns fixes into whole-line replacements that produce what applyEdits produces', () => {
    const result = scan(SEED);
    const source = result.inventory.sources.get(CF) as string;
    const f = result.findings[0] as Finding;
    const sarifFixes = results(toSarif(result, '0.0.0-test'))[0]?.fixes ?? [];
    expect(sarifFixes).toHaveLength(f.fixes.length);
    for (const [i, fix] of f.fixes.entries()) {
      const sf = sarifFixes[i] as Sarif.Fix;
      expect(sf.description?.text).toBe(fix.description);
      expect(sf.properties).toEqual({ safety: fix.safety, safetyReason: fix.safetyReason });
      expect(sf.artifactChanges.map((c) => c.artifactLocation)).toEqual([{ uri: 'etc/mail/sendmail.cf', uriBaseId: 'ROOT' }]);
      expect(applyReplacements(source, sf.artifactChanges[0]?.replacements ?? [])).toBe(applyEdits(source, fix.edits));
    }
    // Deleting lines outright (no replacement lines) must take their newline too: in the middle and at the end.
    const lines = source.split('\n').length - 1;
    for (const [startLine, endLine] of [[2, 3], [lines - 1, lines], [1, 1]] as const) {
      const edits = [{ file: CF, startLine, endLine, newLines: [] }];
      const del: ScanResult = { ...result, findings: [{ ...f, fixes: [{ description: 'delete', safety: 'unsafe', safetyReason: 'test', edits }] }] };
      const log = toSarif(del, '0.0.0-test');
      expect(validate(log)).toEqual([]);
      const reps = results(log)[0]?.fixes?.[0]?.artifactChanges[0]?.replacements ?? [];
      expect(applyReplacements(source, reps)).toBe(applyEdits(source, edits));
    }
  });

  it('fingerprints survive lines inserted above a finding and differ between findings', () => {
    const before = results(toSarif(scan(SEED), '0.0.0-test'));
    const cf = readFileSync(join(SEED, CF), 'utf8');
    const shifted = results(toSarif(scan(tempRoot({ [CF]: `\n${cf}` }, SEED)), '0.0.0-test'));
    // Only findings in the shifted file move (the seed also has BC104 in submit.cf).
    const inCf = (r: (typeof before)[number]): boolean => r.locations?.[0]?.physicalLocation?.artifactLocation?.uri === CF.replace(/^\//, '');
    expect(shifted.map((r) => r.locations?.[0]?.physicalLocation?.region?.startLine)).toEqual(
      before.map((r) => (r.locations?.[0]?.physicalLocation?.region?.startLine ?? 0) + (inCf(r) ? 1 : 0)),
    );
    expect(before.some(inCf)).toBe(true);
    expect(shifted.map(fingerprint)).toEqual(before.map(fingerprint));
    expect(before.map(fingerprint).every((x) => typeof x === 'string' && x.length > 0)).toBe(true);

    const all = ROOTS.flatMap((root) => results(toSarif(scan(root), '0.0.0-test')).map(fingerprint));
    expect(all.length).toBeGreaterThan(3);
    expect(new Set(all).size).toBe(all.length);
    // The same line with another address is another finding.
    const other = results(toSarif(scan(tempRoot({ [CF]: cf.replace('Addr=127.0.0.1', 'Addr=127.0.0.2') }, SEED)), '0.0.0-test'));
    expect(other.map((r) => r.ruleId)).toEqual(before.map((r) => r.ruleId));
    expect(other.map(fingerprint)).not.toEqual(before.map(fingerprint));
  });

  it('keeps text from configs as it is, and sarifJson writes no raw control characters', () => {
    const evil = 'sm\u001b[31mtp\u009b\u202e\u2028\u007f';
    const root = tempRoot({ [CF]: `O DaemonPortOptions=Name=MTA\nO DaemonPortOptions=Port=${evil}, Name=MTA\n` });
    const result = scan(root);
    const log = toSarif(result, '0.0.0-test');
    const messages = results(log).map((r) => r.message.text);
    expect(messages.some((m) => m?.includes(evil))).toBe(true);
    expect(messages).toEqual(result.findings.map((f) => f.message));
    const text = sarifJson(log);
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/u);
    expect(text).toContain('\\u001b[31mtp\\u009b\\u202e\\u2028\\u007f');
    expect(JSON.parse(text)).toEqual(log);
    expect(validate(JSON.parse(text))).toEqual([]);
  });

  it('renders the seed example as snapshotted', async () => {
    const log = toSarif(scan(SEED), '0.0.0-test', { projectUri: 'https://example.com/bindcheck/' });
    const text = sarifJson(log).replaceAll(pathToFileURL(SEED).href, 'file:///ROOT');
    expect(text).toContain('"uri": "file:///ROOT/"');
    await expect(text).toMatchFileSnapshot('__snapshots__/seed-appliance.sarif.json');
  });
});

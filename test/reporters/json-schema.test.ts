import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toJsonReport, type JsonReport } from '../../src/reporters/json.js';
import { scanInventory } from '../../src/run.js';
import { REPO, reportSchemaValidator } from './validators.js';

const ROOTS = [
  'examples/seed-appliance',
  'test/checks/fixtures/bc101-dual-stack-covers-v4',
  'test/checks/fixtures/bc101-ok-other-port',
  'test/checks/fixtures/bc102-duplicate',
  'test/checks/fixtures/bc202-not-local',
  'test/readers/apache/fixtures/debian-tree',
];

function report(root: string): JsonReport {
  return toJsonReport(scanInventory({ root: join(REPO, root), live: false }), '0.0.0-test');
}

describe('docs/schema/report-v1.json', () => {
  const validate = reportSchemaValidator();

  it.each(ROOTS)('accepts the JSON report of %s', (root) => {
    const r = report(root);
    expect(validate(r)).toEqual([]);
    // Round-tripped through JSON, as a consumer reads it.
    expect(validate(JSON.parse(JSON.stringify(r)))).toEqual([]);
  });

  it('carries the options that decide a bind: IP_FREEBIND, SO_BINDTODEVICE, fallbacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bindcheck-json-opts-'));
    try {
      mkdirSync(join(dir, 'etc', 'systemd'), { recursive: true });
      writeFileSync(join(dir, 'etc', 'systemd', 'resolved.conf'), '[Resolve]\nLLMNR=no\nDNSStubListenerExtra=udp:192.0.2.1\n');
      const r = toJsonReport(scanInventory({ root: dir, live: false }), '0.0.0-test');
      expect(validate(r)).toEqual([]);
      const sockets = r.daemons.find((d) => d.daemon === 'systemd-resolved')?.sockets ?? [];
      expect(sockets.find((x) => x.address === '192.0.2.1')).toMatchObject({ freeBind: true, fallbackFor: null });
      expect(sockets.find((x) => x.address === '127.0.0.53')?.device).toBe('lo');
      const apache = report('test/readers/apache/fixtures/debian-tree').daemons.find((d) => d.daemon === 'apache')?.sockets ?? [];
      expect(apache.filter((x) => x.fallbackFor !== null).map((x) => `${x.address}:${x.port} if ${apache[x.fallbackFor as number]?.address}`)).toContain('0.0.0.0:80 if ::');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the include chain of a socket read from an included file', () => {
    const r = report('test/readers/apache/fixtures/debian-tree');
    const s = r.daemons.find((d) => d.daemon === 'apache')?.sockets.find((x) => x.port === 8080);
    expect(s?.source).toMatchObject({ file: '/etc/apache2/sites-enabled/10-local.conf', line: 3, includedFrom: [{ file: '/etc/apache2/apache2.conf', line: 8 }] });
  });

  it('rejects fields the types do not name, wrong literals and missing fields', () => {
    const r = report('examples/seed-appliance');
    expect(validate({ ...r, extra: 1 })).not.toEqual([]);
    expect(validate({ ...r, schemaVersion: 2 })).not.toEqual([]);
    const [finding] = r.findings;
    expect(finding).toBeDefined();
    expect(validate({ ...r, findings: [{ ...finding, severity: 'fatal' }] })).not.toEqual([]);
    const { location: _dropped, ...noLocation } = finding as JsonReport['findings'][number];
    expect(validate({ ...r, findings: [noLocation] })).not.toEqual([]);
  });

  it('is what the types generate (scripts/gen-schema.mjs --check)', () => {
    const run = spawnSync(process.execPath, ['scripts/gen-schema.mjs', '--check'], { cwd: REPO, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('--check fails with a message when the schema differs from the types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bindcheck-schema-'));
    try {
      const stale = join(dir, 'report-v1.json');
      const schema = JSON.parse(readFileSync(join(REPO, 'docs/schema/report-v1.json'), 'utf8')) as { definitions: Record<string, unknown> };
      delete schema.definitions.JsonFix;
      writeFileSync(stale, JSON.stringify(schema, null, 2) + '\n');
      const run = spawnSync(process.execPath, ['scripts/gen-schema.mjs', '--check', '--against', stale], { cwd: REPO, encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/differs from what the types in src\/reporters\/json\.ts generate; run node scripts\/gen-schema\.mjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

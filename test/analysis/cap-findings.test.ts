import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { capRepeatedFindings } from '../../src/analysis/cap-findings.js';
import type { Finding } from '../../src/model/finding.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function finding(code: string, file: string, line: number): Finding {
  return { code, name: code === 'BC002' ? 'config-syntax-error' : 'other', severity: 'error', message: `${code} at ${file}:${line}`, location: { file, line }, evidence: [{ location: { file, line }, label: 'x' }], fixes: [] };
}

describe('capRepeatedFindings', () => {
  it('keeps the first N of each code in each file, in order, and sums up the rest at the first one left out', () => {
    const input: Finding[] = [];
    for (let l = 1; l <= 8; l++) input.push(finding('BC002', '/a', l), finding('BC002', '/b', l * 10));
    input.push(finding('BC001', '/a', 0));
    const out = capRepeatedFindings(input, 3);
    expect(out.map((f) => `${f.code} ${f.location.file}:${f.location.line}`)).toEqual([
      'BC002 /a:1', 'BC002 /b:10', 'BC002 /a:2', 'BC002 /b:20', 'BC002 /a:3', 'BC002 /b:30', 'BC002 /a:4', 'BC002 /b:40', 'BC001 /a:0',
    ]);
    expect(out[6]?.message).toBe('5 more BC002 config-syntax-error findings in /a (lines 4–8), not listed one by one: the first 3 are above, and the file looks damaged or is not what this daemon reads');
    expect(out[7]?.message).toContain('5 more BC002 config-syntax-error findings in /b (lines 40–80)');
    expect(out[6]?.evidence).toEqual([]);
    // The input's findings are not changed, and a list within the cap comes back as it was.
    expect(input[6]?.message).toBe('BC002 at /a:4');
    expect(capRepeatedFindings(input, 8)).toEqual(input);
  });
});

describe('a damaged config of hundreds of thousands of lines', () => {
  it('is a capped list of findings, not a crash (more findings than a spread can pass as arguments)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-cap-'));
    try {
      fs.mkdirSync(path.join(root, 'etc', 'haproxy'), { recursive: true });
      fs.writeFileSync(path.join(root, 'etc', 'haproxy', 'haproxy.cfg'), 'x\n'.repeat(300_000));
      const r = spawnSync(process.execPath, [path.join(repo, 'dist', 'bindcheck.cjs'), 'scan', '--root', root, '--no-live', '--format', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(1);
      const doc = JSON.parse(r.stdout) as { findings: Finding[] };
      const bad = doc.findings.filter((f) => f.code === 'BC002' && f.location.file === '/etc/haproxy/haproxy.cfg');
      expect(bad).toHaveLength(51);
      expect(bad[50]?.message).toContain('299,950 more BC002');
      expect(bad[50]?.location.line).toBe(51);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

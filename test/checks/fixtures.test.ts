import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanInventory } from '../../src/run.js';

/**
 * Each fixture is a small filesystem root. Expected findings sit in the config itself as a whole-line
 * comment `# expect: BC101` directly above the line the finding must point at; a fixture without any
 * expectation (the `-ok` look-alikes) must stay quiet.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures');

function expectations(sources: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [file, text] of sources) {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const m = /^#\s*expect:\s*(.+)$/.exec(line);
      if (!m?.[1]) return;
      for (const code of m[1].split(/[\s,]+/).filter(Boolean)) out.push(`${code} ${file}:${i + 2}`);
    });
  }
  return out.sort();
}

describe('check fixtures', () => {
  for (const name of readdirSync(FIXTURES).sort()) {
    it(name, () => {
      const r = scanInventory({ root: join(FIXTURES, name), live: false });
      expect(r.inventory.daemons.length).toBeGreaterThan(0);
      const got = r.findings.map((f) => `${f.code} ${f.location.file}:${f.location.line}`).sort();
      expect(got).toEqual(expectations(r.inventory.sources));
      if (name.includes('-ok')) expect(r.findings).toEqual([]);
      // Every finding explains itself: evidence from cause to effect, and a rule sentence.
      for (const f of r.findings) {
        expect(f.evidence.length).toBeGreaterThanOrEqual(2);
        expect(f.rule ?? '').not.toBe('');
      }
    });
  }

});

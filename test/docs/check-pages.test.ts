import { mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../src/checks/registry.js';
import { scanInventory } from '../../src/run.js';

const DOCS = join(import.meta.dirname, '..', '..', 'docs', 'checks');

/**
 * A page's runnable example is a ```bindcheck-example block: `# file: PATH` lines start a file of the example
 * root, `# expect: CODE` lines stay in the file (they are comments to the daemon too) and name the code the
 * example must produce.
 */
function exampleRoot(block: string): { root: string; expected: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'bc-docs-'));
  const expected: string[] = [];
  let file: string | undefined;
  const files = new Map<string, string[]>();
  for (const line of block.split('\n')) {
    const f = /^# file: (\S+)$/.exec(line);
    if (f?.[1]) {
      file = f[1];
      files.set(file, []);
      continue;
    }
    const e = /^# expect: (BC\d{3})$/.exec(line);
    if (e?.[1]) expected.push(e[1]);
    if (file) files.get(file)?.push(line);
  }
  for (const [path, lines] of files) {
    const host = join(root, path);
    mkdirSync(dirname(host), { recursive: true });
    writeFileSync(host, lines.join('\n') + '\n');
  }
  return { root, expected };
}

describe('docs/checks', () => {
  for (const check of CHECKS) {
    it(`${check.code} has a page whose title names the code and its name`, () => {
      const page = join(DOCS, `${check.code}.md`);
      expect(existsSync(page)).toBe(true);
      expect(readFileSync(page, 'utf8').split('\n')[0]).toBe(`# ${check.code} ${check.name}`);
    });
  }

  const pages = CHECKS.map((c) => c.code).filter((c) => existsSync(join(DOCS, `${c}.md`)));
  for (const code of pages) {
    const text = readFileSync(join(DOCS, `${code}.md`), 'utf8');
    const blocks = [...text.matchAll(/```bindcheck-example\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    blocks.forEach((block, i) => {
      it(`${code} example ${i + 1} produces ${code}`, () => {
        const { root, expected } = exampleRoot(block);
        expect(expected).toContain(code);
        const found = scanInventory({ root, live: false }).findings.map((f) => f.code);
        expect([...found].sort()).toEqual([...expected].sort());
      });
    });
  }
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { badLocations, checkInput, fuzzTargets } from './targets.js';

const DIR = join(import.meta.dirname, 'regressions');
const { targets, cleanup } = fuzzTargets();
afterAll(cleanup);

describe('fuzz reproducers (test/fuzz/regressions/TARGET/*.txt, from npm run fuzz or written by hand)', () => {
  for (const name of existsSync(DIR) ? readdirSync(DIR).sort() : []) {
    const t = targets[name];
    it(`${name} is a known target`, () => expect(t).toBeDefined());
    if (!t) continue;
    for (const file of readdirSync(join(DIR, name)).sort()) {
      it(`${name}/${file}`, () => {
        const text = readFileSync(join(DIR, name, file), 'utf8');
        expect(checkInput(t, text, true)).toBeUndefined();
      });
    }
  }

  it('the location check catches a location outside the input', () => {
    expect(badLocations({ a: [{ file: '/f', line: 3 }] }, '/f', 'one line')).toHaveLength(1);
    expect(badLocations({ a: [{ file: '/f', line: 1 }] }, '/f', 'one line')).toEqual([]);
  });
});

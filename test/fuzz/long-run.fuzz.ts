// The long fuzzing run: `npm run fuzz` (not part of `npm test`). FUZZ_RUNS cases per target (default 1,000,000),
// FUZZ_TARGETS=a,b to pick, FUZZ_SEED to repeat a run. Inputs mix random bytes, random lines and mutations of the
// repository's own fixtures. A failure is shrunk by fast-check and saved under test/fuzz/regressions/TARGET/,
// which test/fuzz/regressions.test.ts replays on every test run: commit it with the fix.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInput, fuzzTargets } from './targets.js';

const REPO = join(import.meta.dirname, '..', '..');
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ONLY = process.env.FUZZ_TARGETS?.split(',');

function corpus(dir: string, re: RegExp, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory() && name !== 'node_modules' && !name.startsWith('.')) corpus(p, re, out);
    else if (st.isFile() && re.test(p) && st.size < 200_000) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

const SEEDS: Record<string, string[]> = {
  'sendmail-cf': corpus(join(REPO, 'test'), /sendmail\.cf$/),
  'sendmail-mc': corpus(join(REPO, 'test'), /\.mc$/),
  'unit-file': corpus(join(REPO, 'test'), /\.(service|socket)$/),
  'env-file': corpus(join(REPO, 'test'), /sysconfig\//),
  syslog: corpus(join(REPO, 'test'), /(syslog|maillog|messages)(\.txt)?$/),
  strace: corpus(join(REPO, 'test'), /strace(\.txt)?$/),
  'systemctl-status': corpus(join(REPO, 'test'), /status[^/]*\.txt$/),
  'why-target': ['sendmail', '25', '[::1]:25', 'sendmail[1]: daemon MTA: cannot bind: Address already in use'],
};

function inputs(seeds: string[]): fc.Arbitrary<string> {
  const lines = seeds.flatMap((t) => t.split('\n')).filter((l) => l.length < 300).slice(0, 5000);
  const pool = lines.length > 0 ? lines : [''];
  const texts = seeds.length > 0 ? seeds : [''];
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 2000 }),
    fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom(...pool)), { maxLength: 60 }).map((ls) => ls.join('\n')),
    fc.tuple(fc.constantFrom(...texts), fc.nat(), fc.nat(64), fc.string({ unit: 'binary', maxLength: 40 })).map(([t, a, len, ins]) => {
      const i = t.length > 0 ? a % t.length : 0;
      return t.slice(0, i) + ins + t.slice(Math.min(t.length, i + len));
    }),
  );
}

const { targets, cleanup } = fuzzTargets();
afterAll(cleanup);

describe(`fuzz: ${RUNS} cases per target, seed ${SEED}`, () => {
  for (const [name, t] of Object.entries(targets)) {
    if (ONLY && !ONLY.includes(name)) continue;
    it(name, () => {
      let n = 0;
      const started = Date.now();
      const out = fc.check(
        fc.property(inputs(SEEDS[name] ?? []), (text) => {
          n++;
          const problem = checkInput(t, text, n % 100 === 0);
          if (problem) throw new Error(problem);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (out.failed) {
        const text = String(out.counterexample?.[0] ?? '');
        const dir = join(REPO, 'test', 'fuzz', 'regressions', name);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 12)}.txt`);
        writeFileSync(file, text);
        console.log(`[fuzz] ${name}: FAILED after ${out.numRuns} cases in ${secs} s: ${String(out.errorInstance)}; reproducer: ${file}`);
      } else {
        console.log(`[fuzz] ${name}: ${out.numRuns} cases, no failure, ${secs} s`);
      }
      expect(out.failed).toBe(false);
    }, 24 * 3600_000);
  }
});

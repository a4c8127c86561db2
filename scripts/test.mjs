#!/usr/bin/env node
// Runs the whole vitest suite and ends with a plain "N passed, N failed, N skipped" line that CI reads.
// Exits with vitest's own status.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'bindcheck-test-'));
const out = join(dir, 'results.json');
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary = 'no results were written';
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  summary = `${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`;
} catch {
  // vitest crashed before writing results; its status below says so.
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`\ntests: ${summary}\n`);
process.exit(r.status ?? 2);

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

describe('README', () => {
  it('its check table and every `$ bindcheck …` sample are what the code generates today (scripts/gen-docs.mjs)', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'gen-docs.mjs'), '--check'], { cwd: REPO });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
  });

  it('has a Quick start with exactly two commands', () => {
    const qs = /## Quick start\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '';
    const block = /```sh\n([\s\S]*?)```/.exec(qs)?.[1] ?? '';
    expect(block.trim().split('\n')).toHaveLength(2);
    // The first runs the file the package installs as its `bindcheck` bin, and the second the CI script.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: { bindcheck: string } };
    expect(block).toContain(`npm ci && sudo node ${pkg.bin.bindcheck} scan`);
    expect(block).toContain('sudo bash .ci/run');
  });
});

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';

const REPO = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

describe('README', () => {
  it('its check table is what scripts/gen-docs.mjs generates from the registry', () => {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'gen-docs.mjs'), '--check'], { cwd: REPO });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
  });

  it('its output sample is what bindcheck prints today', async () => {
    const m = /\$ bindcheck scan --root examples\/seed-appliance\n([\s\S]*?)\n```/.exec(README);
    expect(m?.[1]).toBeDefined();
    let out = '';
    await main(['scan', '--root', join(REPO, 'examples', 'seed-appliance'), '--no-color'], {
      stdout: (s) => (out += s),
      stderr: () => undefined,
      isTTY: false,
      env: {},
    });
    expect(out.trimEnd().replaceAll(join(REPO, 'examples/seed-appliance'), 'examples/seed-appliance')).toBe(m?.[1]);
  });

  it('has a Quick start with exactly two commands', () => {
    const qs = /## Quick start\n([\s\S]*?)\n## /.exec(README)?.[1] ?? '';
    const block = /```sh\n([\s\S]*?)```/.exec(qs)?.[1] ?? '';
    expect(block.trim().split('\n')).toHaveLength(2);
  });
});

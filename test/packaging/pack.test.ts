import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

describe('npm package', () => {
  it('packs, installs into an empty project, and runs: --version and a scan of the seed example', () => {
    const out = mkdtempSync(join(tmpdir(), 'bc-pack-'));
    execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const listing = execFileSync('tar', ['-tzf', join(out, tarball as string)]).toString().split('\n');
    // Only what users need: the build, the docs and the README; no tests, no sources' fixtures.
    expect(listing).toContain('package/dist/cli.js');
    expect(listing).toContain('package/dist/bindcheck.cjs');
    expect(listing).toContain('package/dist/bindcheck-scan.cjs');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/docs/checks/BC101.md');
    expect(listing.some((f) => f.startsWith('package/test/'))).toBe(false);

    const app = mkdtempSync(join(tmpdir(), 'bc-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(out, tarball as string)], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    const bin = join(app, 'node_modules', '.bin', 'bindcheck');
    const version = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: REPO }).toString()) as string;
    expect(execFileSync(bin, ['--version']).toString().trim()).toBe(version);
    const scan = spawnSync(bin, ['scan', '--root', join(REPO, 'examples', 'seed-appliance'), '--json']);
    expect(scan.status).toBe(1);
    expect((JSON.parse(scan.stdout.toString()) as { findings: { code: string }[] }).findings.map((f) => f.code)).toContain('BC101');
    // The library entry point with its types.
    writeFileSync(join(app, 'use.mjs'), "import { SimulatedNamespace, scan } from 'bindcheck';\nconsole.log(typeof SimulatedNamespace, typeof scan);\n");
    expect(execFileSync('node', ['use.mjs'], { cwd: app }).toString().trim()).toBe('function function');
  }, 180_000);
});

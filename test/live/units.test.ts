import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupMounts } from '../../src/live/cgroup-units.js';
import { type Holder, startHolder } from './holder.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repo, 'dist', 'bindcheck.cjs');
const linux = process.platform === 'linux';
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;

/** Every process of a holder: the holder and its children. */
function holderPids(h: Holder): number[] {
  const children = fs.readFileSync(`/proc/${h.pid}/task/${h.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [h.pid, ...children];
}

// Processes in a `*.service` cgroup get that unit by every way bindcheck reads it: the native scan reading each
// owner's /proc/PID/cgroup (few sockets), one cgroup walk while the native scan runs (200 sockets or more), and
// the JavaScript scan (BINDCHECK_NATIVE=0).
describe.runIf(linux && (isRoot || ci))('systemd unit of socket owners', () => {
  const unit = `bindcheck-test-${process.pid}.service`;
  let hierarchy = '';
  let few: Holder | undefined;
  let many: Holder | undefined;

  beforeAll(async () => {
    const mounts = cgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    hierarchy = mounts.v2 ?? mounts.systemdV1 ?? '';
    if (!hierarchy) throw new Error('no cgroup2 or name=systemd hierarchy mounted at its root');
    few = await startHolder(['spread', 40, 1, 0]);
    many = await startHolder(['spread', 300, 1, 0]);
    fs.mkdirSync(path.join(hierarchy, unit));
    for (const pid of [...holderPids(few), ...holderPids(many)]) fs.writeFileSync(path.join(hierarchy, unit, 'cgroup.procs'), String(pid));
  }, 60_000);

  afterAll(async () => {
    for (const h of [few, many]) if (h) for (const pid of holderPids(h)) fs.writeFileSync(path.join(hierarchy, 'cgroup.procs'), String(pid));
    await few?.stop();
    await many?.stop();
    if (hierarchy && fs.existsSync(path.join(hierarchy, unit))) fs.rmdirSync(path.join(hierarchy, unit));
  });

  function units(h: Holder, env: NodeJS.ProcessEnv): Record<string, number> {
    const out = execFileSync('nsenter', ['-t', String(h.pid), '-n', process.execPath, bin, 'sockets', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const doc = JSON.parse(out) as { sockets: { owners: { unit?: string }[] }[] };
    const count: Record<string, number> = {};
    for (const s of doc.sockets) for (const o of s.owners) count[o.unit ?? '(none)'] = (count[o.unit ?? '(none)'] ?? 0) + 1;
    return count;
  }

  it('is the same from the native scan (per owner and by walk) and from the JavaScript scan', () => {
    if (!few || !many) throw new Error('holders did not start');
    expect(units(few, {})).toEqual({ [unit]: 40 });
    expect(units(many, {})).toEqual({ [unit]: 300 });
    expect(units(few, { BINDCHECK_NATIVE: '0' })).toEqual({ [unit]: 40 });
    expect(units(many, { BINDCHECK_NATIVE: '0' })).toEqual({ [unit]: 300 });
  }, 60_000);
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSocketOwners, listPids } from '../../src/live/owners.js';
import { ownerScanPath } from '../../src/live/native-scan.js';
import { parseProcNet, STATE_LISTEN } from '../../src/live/proc-net.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const linux = process.platform === 'linux';
const le = os.endianness() === 'LE';
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;

// The JavaScript owner scan (no native module) shares a large host with helper threads (worker_threads, loaded
// only then). A prefork server with ~23k socket fds is large enough for them to start.
describe.runIf(linux && le && (isRoot || ci))('JavaScript owner scan with helper threads', () => {
  let holder: ChildProcess | undefined;
  let tmp = '';
  const sockets = 150;
  const workers = 150;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-helpers-'));
    const bin = path.join(tmp, 'holder');
    execFileSync('cc', ['-O2', '-o', bin, path.join(repo, 'bench', 'live-scan', 'holder.c')]);
    const h = spawn('unshare', ['-n', '--', 'sh', '-c', `ip link set lo up && exec "$0" prefork ${sockets} ${workers} 0`, bin], { stdio: ['pipe', 'pipe', 'inherit'] });
    holder = h;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('holder not ready in 30 s')), 30_000);
      h.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      h.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
  }, 40_000);

  afterAll(async () => {
    if (holder && holder.exitCode === null) {
      const gone = new Promise((r) => holder?.once('exit', r));
      holder.kill('SIGTERM');
      await gone;
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('finds every owner with helpers as it does on one thread (and as the native scan does)', () => {
    const table = parseProcNet(fs.readFileSync(`/proc/${holder?.pid}/net/tcp`), { proto: 'tcp', family: 'inet', littleEndian: true, onlyState: STATE_LISTEN });
    expect(table).toHaveLength(sockets);
    const wanted = new Set(table.map((r) => r.inode));
    const opts = { strict: false, withCmdline: true, withUnit: true, native: false };
    const pids = listPids('/proc');
    const one = findSocketOwners('/proc', pids, wanted, { ...opts, threads: 1 });
    const many = findSocketOwners('/proc', pids, wanted, { ...opts, threads: 4 });
    expect(many.fds).toBeGreaterThan(sockets * workers);
    for (const inode of wanted) expect(many.owners.get(inode)).toHaveLength(workers + 1);
    const sorted = (m: typeof one): string => JSON.stringify([...m.owners].sort((a, b) => a[0] - b[0]));
    expect(sorted(many)).toBe(sorted(one));
    expect(many.processes).toBe(pids.length);
    if (ownerScanPath() === 'native') expect(sorted(findSocketOwners('/proc', undefined, wanted, { ...opts, native: true, threads: 2 }))).toBe(sorted(one));
  }, 120_000);
});

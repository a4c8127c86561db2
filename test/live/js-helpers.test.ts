import * as fs from 'node:fs';
import * as os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSocketOwners, listPids } from '../../src/live/owners.js';
import { ownerScanPath } from '../../src/live/native-scan.js';
import { parseProcNet, STATE_LISTEN } from '../../src/live/proc-net.js';
import { type Holder, startHolder } from './holder.js';

const linux = process.platform === 'linux';
const le = os.endianness() === 'LE';
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;

// The JavaScript owner scan (no native module) shares a large host with helper threads (worker_threads, loaded
// only then). A prefork server with ~23k socket fds is large enough for them to start.
describe.runIf(linux && le && (isRoot || ci))('JavaScript owner scan with helper threads', () => {
  let holder: Holder | undefined;
  const sockets = 150;
  const workers = 150;

  beforeAll(async () => {
    holder = await startHolder(['prefork', sockets, workers, 0]);
  }, 40_000);

  afterAll(async () => {
    await holder?.stop();
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

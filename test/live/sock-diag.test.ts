import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LiveSocket } from '../../src/model/live.js';
import { nativeScanner, ownerScanPath } from '../../src/live/native-scan.js';
import { readDiagTable } from '../../src/live/sock-diag.js';
import { readLiveSockets } from '../../src/live/read-live-sockets.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const linux = process.platform === 'linux';
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;
const native = linux && ownerScanPath() === 'native';
const cli = path.join(repo, 'dist', 'cli.js');
const bin = path.join(repo, 'dist', 'bindcheck.cjs');

interface Doc {
  sockets: (LiveSocket & { ownerCount: number })[];
  unseen: unknown[];
}

/** Everything a row says except where it was read from (netlink rows cite their table with line 0). */
function rows(doc: Doc): string[] {
  return doc.sockets
    .map((s) => JSON.stringify({ ...s, source: s.source.file, owners: s.owners.map((o) => `${o.pid} ${o.comm} ${o.uid}`).sort() }))
    .sort();
}

describe('sock_diag table reader', () => {
  it('falls back (returns the reason, never throws) when the module has no diag() or netlink refuses', () => {
    const visit = (): void => {
      throw new Error('no row expected');
    };
    const old = { scan: () => { throw new Error('unused'); } } as unknown as Parameters<typeof readDiagTable>[0];
    expect(readDiagTable(old, 'tcp', 'inet', 1 << 10, visit)).toEqual({ ok: false, code: 'ENOSYS' });
    const refusing = { ...old, diag: () => { throw Object.assign(new Error('sock_diag tcp: Permission denied'), { code: 'EACCES' }); } } as unknown as Parameters<typeof readDiagTable>[0];
    expect(readDiagTable(refusing, 'tcp', 'inet6', 1 << 10, visit)).toEqual({ ok: false, code: 'EACCES' });
  });

  it('turns the dump into rows: ports, states, uid, inode and canonical address text', () => {
    const addrs = Buffer.alloc(64);
    Buffer.from([127, 0, 0, 1]).copy(addrs, 0);
    Buffer.from([10, 1, 2, 3]).copy(addrs, 16);
    // Second row, IPv6: ::ffff:127.0.0.2 → :: (a listener).
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2]).copy(addrs, 32);
    const fake = { scan: () => undefined, diag: () => ({ rows: Float64Array.from([1, 33, 777, 25, 40000, 10, 0, 778, 587, 0]), addrs }) } as unknown as Parameters<typeof readDiagTable>[0];
    const got: unknown[] = [];
    const r = readDiagTable(fake, 'tcp', 'inet', 0x1ffe, (...a) => got.push(a));
    expect(r).toEqual({ ok: true, rows: 2 });
    expect(got[0]).toEqual(['127.0.0.1', 25, '10.1.2.3', 40000, 1, 33, 777, 0]);
    const six: unknown[] = [];
    readDiagTable(fake, 'tcp', 'inet6', 0x1ffe, (...a) => six.push(a));
    expect((six[1] as unknown[]).slice(0, 4)).toEqual(['::ffff:127.0.0.2', 587, '::', 0]);
  });

  it('is not used for any root but the live one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-diag-root-'));
    try {
      fs.mkdirSync(path.join(dir, 'proc', 'net'), { recursive: true });
      const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
      fs.writeFileSync(path.join(dir, 'proc', 'net', 'tcp'), header + '   0: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n');
      const t = readLiveSockets(dir, { owners: false });
      expect(t.sockets.map((s) => [s.address, s.port, s.source])).toEqual([['127.0.0.1', 25, { file: '/proc/net/tcp', line: 2 }]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(linux && (native || ci) && (isRoot || ci))('sock_diag = /proc/net on the live kernel', () => {
  it('gives the same rows, owners and notes as the /proc files, listening and in every state', () => {
    expect(nativeScanner()?.diag).toBeTypeOf('function');
    const r = spawnSync('unshare', ['-n', '--', process.execPath, path.join(repo, 'test', 'live', 'fixtures', 'diag-vs-proc.mjs'), cli, bin], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<'diag' | 'proc' | 'diagAll' | 'procAll' | 'bin' | 'binJs', Doc>;
    // The fixture's sockets are all there: listeners of every family shape, bound and connected UDP, an
    // established pair and a TIME_WAIT.
    const all = rows(out.diagAll);
    for (const want of ['"state":"LISTEN"', '"state":"ESTABLISHED"', '"state":"TIME_WAIT"', '"state":"CLOSE"', '"address":"::ffff:127.0.0.2"']) {
      expect(all.some((x) => x.includes(want)), want).toBe(true);
    }
    expect(out.diag.sockets.length).toBe(8);
    expect(rows(out.diag)).toEqual(rows(out.proc));
    expect(all).toEqual(rows(out.procAll));
    expect(out.diag.unseen).toEqual(out.proc.unseen);
    expect(out.diagAll.unseen).toEqual(out.procAll.unseen);
    // The bin (the CommonJS bundle) finds the native module and the JavaScript scan's worker file as dist/ does.
    expect(rows(out.bin)).toEqual(all);
    expect(rows(out.binJs)).toEqual(rows(out.procAll));
    expect(out.bin.sockets.every((s) => s.source.line === 0)).toBe(true);
    expect(out.binJs.sockets.every((s) => s.source.line >= 2)).toBe(true);
    // Netlink rows cite their kernel table as a whole; the files' rows cite their line.
    expect(out.diag.sockets.every((s) => s.source.line === 0 && s.source.file.startsWith('/proc/net/'))).toBe(true);
    expect(out.proc.sockets.every((s) => s.source.line >= 2)).toBe(true);
  });
});

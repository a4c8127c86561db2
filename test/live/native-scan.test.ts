import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeScanner, ownerScanPath } from '../../src/live/native-scan.js';
import { findSocketOwners } from '../../src/live/owners.js';
import { parseProcNet, STATE_LISTEN } from '../../src/live/proc-net.js';
import { statusName, statusUid } from '../../src/live/process-info.js';
import { readLiveSockets } from '../../src/live/read-live-sockets.js';
import { type Holder, startHolder } from './holder.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const linux = process.platform === 'linux';
const le = os.endianness() === 'LE';
const isRoot = process.getuid?.() === 0;
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const haveCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
// The native module is optional for users, but CI installs a compiler (.ci/install-build-tools.sh), so there it
// must have been built by `npm ci` and every comparison below must run.
const native = linux && ownerScanPath() === 'native';

describe.runIf(linux)('native/build.mjs', () => {
  function copyNative(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-native-'));
    fs.copyFileSync(path.join(repo, 'native', 'build.mjs'), path.join(dir, 'build.mjs'));
    fs.copyFileSync(path.join(repo, 'native', 'procscan.c'), path.join(dir, 'procscan.c'));
    return dir;
  }

  it('never fails an install: without a compiler it says so, exits 0 and leaves no module', () => {
    const dir = copyNative();
    try {
      const r = spawnSync(process.execPath, [path.join(dir, 'build.mjs')], { encoding: 'utf8', env: { ...process.env, CC: path.join(dir, 'no-such-cc') } });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('not built');
      expect(r.stdout).toContain('the JavaScript scan is used');
      expect(fs.existsSync(path.join(dir, 'build', 'procscan.node'))).toBe(false);
      // A compile error is no different.
      fs.writeFileSync(path.join(dir, 'procscan.c'), 'this is not C\n');
      const broken = spawnSync(process.execPath, [path.join(dir, 'build.mjs')], { encoding: 'utf8' });
      expect(broken.status).toBe(0);
      expect(broken.stdout).toContain('not built');
      expect(fs.readdirSync(path.join(dir, 'build'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(haveCc || ci)('builds a module that loads when a compiler is there', () => {
    const dir = copyNative();
    try {
      const r = spawnSync(process.execPath, [path.join(dir, 'build.mjs')], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('built');
      expect(r.stdout).not.toContain('not built');
      const mod = spawnSync(process.execPath, ['-p', `typeof require(${JSON.stringify(path.join(dir, 'build', 'procscan.node'))}).scan`], { encoding: 'utf8' });
      expect(mod.stdout.trim()).toBe('function');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(native)('scanStart/scanJoin: the threads work while JavaScript goes on; a handle is joined once', () => {
    const mod = nativeScanner();
    if (!mod?.scanStart || !mod.scanJoin) throw new Error('module without scanStart/scanJoin');
    const handle = mod.scanStart('/proc', new Int32Array(0), new Float64Array(0), 16, 2);
    const r = mod.scanJoin(handle);
    expect(r.processes).toBeGreaterThan(0);
    expect(r.pairs.length).toBe(0);
    expect(() => mod.scanJoin?.(handle)).toThrow(/joined already/);
    expect(() => mod.scanJoin?.({})).toThrow(/scanJoin/);
  });

  it('is switched off by BINDCHECK_NATIVE=0', () => {
    expect(nativeScanner({ BINDCHECK_NATIVE: '0' })).toBeUndefined();
    expect(ownerScanPath({ BINDCHECK_NATIVE: '0' })).toBe('js');
  });

  it.runIf(ci)('is built in CI (npm ci ran native/build.mjs with a compiler present)', () => {
    expect(ownerScanPath()).toBe('native');
  });
});

describe('status parsing', () => {
  it('reads lines that end at \\n only, so a comm with U+2028 cannot plant a Uid line', () => {
    // comm "x\u2028Uid: 0 0" is 13 bytes: a process may name itself so. The kernel escapes neither U+2028 nor spaces.
    const status = 'Name:\tx\u2028Uid: 0 0\nUmask:\t0022\nUid:\t1000\t1000\t1000\t1000\n';
    expect(statusUid(status)).toBe(1000);
    expect(statusName(status)).toBe('x\u2028Uid: 0 0');
    expect(statusUid('Name:\tx\nUid:\t5\t7\t7\t7\n')).toBe(7);
    expect(statusUid('Name:\tx\n')).toBeUndefined();
  });
});

/** A captured /proc with every shape the fd walk meets: sockets shared, repeated, malformed targets, links that are not links. */
function makeCapture(dir: string): void {
  const proc = path.join(dir, 'proc');
  fs.mkdirSync(path.join(proc, 'net'), { recursive: true });
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  let tcp = header;
  for (let i = 0; i < 300; i++) {
    const addr = (0x0100007f + ((i % 50) << 24)) >>> 0;
    tcp += `${String(i).padStart(4)}: ${addr.toString(16).toUpperCase().padStart(8, '0')}:${(2000 + i).toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${5000 + i} 1 0000000000000000 100 0 0 10 0\n`;
  }
  fs.writeFileSync(path.join(proc, 'net', 'tcp'), tcp);
  fs.writeFileSync(path.join(proc, 'net', 'udp'), header + `   0: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 9001 2 0000000000000000 0\n`);
  fs.mkdirSync(path.join(proc, '1', 'ns'), { recursive: true });
  fs.symlinkSync('net:[4026531840]', path.join(proc, '1', 'ns', 'net'));
  fs.symlinkSync('1', path.join(proc, 'self'));
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
  const odd = ['socket:[0005001]', 'socket:[5002]x', 'socket:[]', 'socket:[99999999999999999999999]', 'socket:[50 3]', 'pipe:[5004]', '/dev/null', 'anon_inode:[eventpoll]', 'socket:[9001]'];
  for (let pid = 2; pid < 260; pid++) {
    const pidDir = path.join(proc, String(pid));
    const kind = pid % 23;
    fs.mkdirSync(path.join(pidDir, 'ns'), { recursive: true });
    if (kind === 3) continue; // no fd directory at all: counted as vanished
    if (kind === 5) {
      // fd/ is a symlink to another process's fd/: a captured root must not follow it.
      fs.symlinkSync('../2/fd', path.join(pidDir, 'fd'));
      continue;
    }
    fs.mkdirSync(path.join(pidDir, 'fd'));
    const nfd = 1 + rand(12);
    for (let fd = 0; fd < nfd; fd++) {
      const r = rand(10);
      const target = r < 6 ? `socket:[${5000 + rand(320)}]` : (odd[rand(odd.length)] as string);
      fs.symlinkSync(target, path.join(pidDir, 'fd', String(fd)));
    }
    if (kind === 7) fs.writeFileSync(path.join(pidDir, 'fd', '99'), 'socket:[5010]'); // a file, not a link
    if (kind === 11) fs.symlinkSync(`socket:[${5000 + (pid % 300)}]`, path.join(pidDir, 'fd', '100')); // a second fd for a socket it may hold
    if (kind !== 13) fs.symlinkSync(pid % 2 ? 'net:[4026531840]' : 'net:[4026532001]', path.join(pidDir, 'ns', 'net'));
    if (kind === 17) fs.writeFileSync(path.join(pidDir, 'comm'), `nostatus${pid}\n`);
    else if (kind === 19) fs.writeFileSync(path.join(pidDir, 'status'), `Name:\tnouid\\033\nState:\tS\n`);
    else fs.writeFileSync(path.join(pidDir, 'status'), `Name:\tw${pid}\\n\\\\\u00e9\u2028Uid: 0 0\nUmask:\t0022\nUid:\t${pid}\t${1000 + pid}\t0\t0\n`);
    fs.writeFileSync(path.join(pidDir, 'cmdline'), `/usr/bin/w${pid}\0--x\0\0`);
    fs.writeFileSync(path.join(pidDir, 'cgroup'), `0::/system.slice/w${pid % 4}.service\n`);
  }
}

describe.runIf(linux && le && (native || ci))('native scan = JavaScript scan on a captured /proc', () => {
  let root = '';
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-capture-'));
    makeCapture(root);
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('gives the same table, owners and notes, with any thread count', () => {
    expect(ownerScanPath()).toBe('native');
    const js = readLiveSockets(root, { native: false, states: 'all' });
    // The capture exercises what it should: owners found, shared sockets, a vanished pid.
    const owned = js.sockets.filter((s) => s.owners.length > 0);
    expect(owned.length).toBeGreaterThan(200);
    expect(js.sockets.some((s) => s.owners.length > 3)).toBe(true);
    expect(js.sockets.find((s) => s.inode === 5001)?.owners.length).toBeGreaterThan(0);
    const comms = new Set(js.sockets.flatMap((s) => s.owners.map((o) => o.comm)));
    expect([...comms].some((c) => c.startsWith('nostatus'))).toBe(true);
    expect(comms.has('nouid\x1b')).toBe(true);
    for (const threads of [1, 2, 5]) {
      const nat = readLiveSockets(root, { native: true, states: 'all', threads });
      expect(JSON.stringify(nat)).toBe(JSON.stringify(js));
    }
    const listening = readLiveSockets(root, { native: true, cmdline: false });
    expect(JSON.stringify(listening)).toBe(JSON.stringify(readLiveSockets(root, { native: false, cmdline: false })));
  });

  it('gives the same fd count, vanished count and pairs as the JavaScript scan', () => {
    const procDir = path.join(root, 'proc');
    const pids = fs
      .readdirSync(procDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
      .map((e) => Number(e.name));
    const wanted = new Set(Array.from({ length: 300 }, (_, i) => 5000 + i));
    const opts = { strict: true, withCmdline: true, withUnit: true };
    const js = findSocketOwners(procDir, pids, wanted, { ...opts, native: false, threads: 1 });
    const nat = findSocketOwners(procDir, pids, wanted, { ...opts, native: true, threads: 3 });
    expect(nat.fds).toBe(js.fds);
    expect(nat.vanished).toBe(js.vanished);
    expect(js.vanished).toBeGreaterThan(0);
    expect(nat.denied).toEqual(js.denied);
    expect(JSON.stringify([...nat.owners].sort((a, b) => a[0] - b[0]))).toBe(JSON.stringify([...js.owners].sort((a, b) => a[0] - b[0])));
  });
});

describe.runIf(linux && le && (native || ci) && (isRoot || ci))('native scan = JavaScript scan on the live host', () => {
  let holder: Holder | undefined;
  let holderPid = 0;
  const sockets = 60;
  const workers = 8;

  beforeAll(async () => {
    // A prefork server in its own network namespace: one parent and `workers` children holding every socket.
    holder = await startHolder(['prefork', sockets, workers, 2], 20_000);
    holderPid = holder.pid;
  }, 30_000);

  afterAll(async () => {
    await holder?.stop();
  });

  function livePids(): number[] {
    return fs
      .readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  }

  it('finds every owner of a prefork server the same way (parent + workers, every socket)', () => {
    const table = parseProcNet(fs.readFileSync(`/proc/${holderPid}/net/tcp`), { proto: 'tcp', family: 'inet', littleEndian: true, onlyState: STATE_LISTEN });
    expect(table).toHaveLength(sockets);
    const wanted = new Set(table.map((r) => r.inode));
    const opts = { strict: false, withCmdline: true, withUnit: true };
    const pids = livePids();
    const nat = findSocketOwners('/proc', pids, wanted, { ...opts, native: true, threads: 2 });
    const walked = findSocketOwners('/proc', pids, wanted, { ...opts, native: true, twins: false, threads: 1 });
    const js = findSocketOwners('/proc', pids, wanted, { ...opts, native: false, threads: 1 });
    // No pid list: the native scanner lists /proc itself, and finds the same owners.
    const listed = findSocketOwners('/proc', undefined, wanted, { ...opts, native: true, threads: 2 });
    expect(listed.processes).toBeGreaterThanOrEqual(workers + 1);
    expect(JSON.stringify([...listed.owners].sort((a, b) => a[0] - b[0]))).toBe(JSON.stringify([...js.owners].sort((a, b) => a[0] - b[0])));
    expect(nat.owners.size).toBe(sockets);
    // The workers have equal fd tables (inherited from the parent): all but the first walked on each of the two
    // threads are matched by kcmp. A kernel before 6.2 reports no fd count for /proc/PID/fd; then all are walked.
    const fdCountKnown = fs.statSync(`/proc/${holderPid}/fd`).size > 0;
    if (fdCountKnown) expect(nat.twins).toBeGreaterThanOrEqual(workers - 2);
    expect(walked.twins).toBe(0);
    expect(JSON.stringify([...walked.owners].sort((a, b) => a[0] - b[0]))).toBe(JSON.stringify([...js.owners].sort((a, b) => a[0] - b[0])));
    for (const inode of wanted) {
      const owners = nat.owners.get(inode) ?? [];
      expect(owners).toHaveLength(workers + 1);
      expect(owners.every((o) => o.comm === 'holder' && o.uid === 0 && o.cmdline.includes('prefork') && o.netns !== undefined)).toBe(true);
    }
    expect(JSON.stringify([...nat.owners].sort((a, b) => a[0] - b[0]))).toBe(JSON.stringify([...js.owners].sort((a, b) => a[0] - b[0])));
    expect(nat.denied).toEqual(js.denied);
  });

  it('gives the same whole-host table (sockets that stayed put between the reads)', () => {
    // Other processes on the host open and close sockets meanwhile: compare what two JavaScript reads agree on.
    const key = (s: { proto: string; inode: number }): string => `${s.proto} ${s.inode}`;
    const owners = (t: ReturnType<typeof readLiveSockets>): Map<string, string> => new Map(t.sockets.map((s) => [key(s), JSON.stringify(s)]));
    // The table from /proc/net each time (the netlink reader has its own test, sock-diag.test.ts): owners compared.
    const a = owners(readLiveSockets('/', { native: false, table: 'proc' }));
    const n = owners(readLiveSockets('/', { native: true, table: 'proc' }));
    const b = owners(readLiveSockets('/', { native: false, table: 'proc' }));
    // Units both ways: one cgroup walk during the native scan, and each owner's /proc/PID/cgroup read by it.
    const walked = owners(readLiveSockets('/', { native: true, table: 'proc', cgroupWalk: true }));
    const perOwner = owners(readLiveSockets('/', { native: true, table: 'proc', cgroupWalk: false }));
    const stable = [...a.keys()].filter((k) => a.get(k) === b.get(k));
    expect(stable.length).toBeGreaterThan(0);
    for (const k of stable) {
      expect(n.get(k), k).toBe(a.get(k));
      expect(walked.get(k), k).toBe(a.get(k));
      expect(perOwner.get(k), k).toBe(a.get(k));
    }
  });
});

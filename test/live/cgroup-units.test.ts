import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupMounts, combineUnits, liveCgroupUnitMap, walkCgroupTree } from '../../src/live/cgroup-units.js';
import { nativeScanner, ownerScanPath } from '../../src/live/native-scan.js';
import { readUnit, systemdUnit } from '../../src/live/process-info.js';
import { readLiveSockets } from '../../src/live/read-live-sockets.js';

const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tree = path.join(fixtures, 'cgroup-v2');

describe('walkCgroupTree', () => {
  it('maps every listed pid to the innermost unit on its path', () => {
    const map = walkCgroupTree(tree)!;
    expect(Object.fromEntries([...map].sort((a, b) => a[0] - b[0]))).toEqual({
      1: 'init.scope',
      5: '',
      100: 'nginx.service',
      101: 'nginx.service',
      200: 'ssh.service',
      300: 'user@1000.service',
      301: 'x.scope',
      // A cgroup below a unit belongs to that unit (a container's inner cgroups, a service's sub-cgroups).
      400: 'docker-ab.scope',
    });
    // pid 0 (a process outside the reader's pid namespace) has no pid to look up.
    expect(map.has(0)).toBe(false);
  });

  it('agrees with systemdUnit() on each pid’s /proc/PID/cgroup line', () => {
    const map = walkCgroupTree(tree)!;
    for (const file of listProcs(tree)) {
      const rel = path.relative(tree, path.dirname(file));
      for (const pid of fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && l !== '0')) {
        expect(map.get(Number(pid)), `pid ${pid} in /${rel}`).toBe(systemdUnit(`0::/${rel}\n`) ?? '');
      }
    }
  });

  it('gives no map when part of the tree cannot be read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-cgroup-'));
    try {
      fs.cpSync(tree, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'system.slice', 'ssh.service', 'cgroup.procs'));
      expect(walkCgroupTree(dir)).toBeUndefined();
      expect(walkCgroupTree(path.join(dir, 'missing'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe.runIf(ownerScanPath() === 'native' || ci)('walkCgroupTree in C = in JavaScript', () => {
  const same = (dir: string): void => {
    const js = walkCgroupTree(dir, { native: false });
    const c = walkCgroupTree(dir);
    expect(c === undefined ? undefined : [...c]).toEqual(js === undefined ? undefined : [...js]);
  };

  it('on the fixture tree, a tree with a part missing, and no tree', () => {
    expect(nativeScanner()?.cgroupWalk).toBeTypeOf('function');
    same(tree);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-cgroup-'));
    try {
      fs.cpSync(tree, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'system.slice', 'ssh.service', 'cgroup.procs'));
      same(dir);
      same(path.join(dir, 'missing'));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('on generated trees: units nested in units, pids listed twice (the first listing wins), odd text', () => {
    const names = ['a.service', 'b.scope', 'c.socket', 'd.slice', 'e', '.service', 'f.service.d', 'g h.service', 'é.scope'];
    let seed = 11;
    const rand = (n: number): number => (seed = (seed * 48271) % 2147483647) % n;
    for (let t = 0; t < 30; t++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-cgroup-gen-'));
      try {
        const grow = (at: string, depth: number): void => {
          const pids = Array.from({ length: rand(6) }, () => String(rand(40)));
          const junk = ['', '\n', ' ', '-', 'x', '\n\n', '99999999999999999999', '4194304', '4194303'][rand(9)] as string;
          fs.writeFileSync(path.join(at, 'cgroup.procs'), pids.join('\n') + junk + (rand(2) ? '\n' : ''));
          if (depth >= 4) return;
          for (let k = rand(4); k > 0; k--) {
            const sub = path.join(at, `${names[rand(names.length)]}${rand(3) ? '' : String(k)}`);
            if (fs.existsSync(sub)) continue;
            fs.mkdirSync(sub);
            grow(sub, depth + 1);
          }
          if (rand(5) === 0) fs.writeFileSync(path.join(at, `file-${rand(9)}.service`), '');
        };
        grow(dir, 0);
        same(dir);
      } finally {
        fs.rmSync(dir, { recursive: true });
      }
    }
  });

  it('on this host’s own hierarchies (pids that stayed put between the walks)', () => {
    const mounts = cgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    for (const dir of [mounts.v2, mounts.systemdV1]) {
      if (dir === undefined) continue;
      const a = walkCgroupTree(dir, { native: false });
      const c = walkCgroupTree(dir);
      const b = walkCgroupTree(dir, { native: false });
      expect(c === undefined).toBe(a === undefined);
      if (!a || !b || !c) continue;
      const stable = [...a.keys()].filter((pid) => b.get(pid) === a.get(pid));
      expect(stable.length).toBeGreaterThan(0);
      for (const pid of stable) expect(c.get(pid), `pid ${pid}`).toBe(a.get(pid));
    }
  });
});

describe('cgroup mounts and precedence', () => {
  it('finds the cgroup2 and name=systemd hierarchies mounted at their root', () => {
    const hybrid = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    expect(cgroupMounts(hybrid)).toEqual({ v2: '/sys/fs/cgroup/unified', systemdV1: '/sys/fs/cgroup/systemd' });
    const v2 = '30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
    expect(cgroupMounts(v2)).toEqual({ v2: '/sys/fs/cgroup' });
    // A bind mount of a subtree shows only part of the processes: it does not count.
    expect(cgroupMounts('50 24 0:26 /system.slice /mnt/cg rw - cgroup2 cgroup2 rw\n')).toEqual({});
    expect(cgroupMounts('50 24 0:26 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n')).toEqual({ v2: '/mnt/my cg' });
  });

  it('prefers the v2 unit, then v1, and defers pids it has not seen', () => {
    expect(combineUnits('a.service', 'b.service')).toBe('a.service');
    expect(combineUnits('', 'b.service')).toBe('b.service');
    expect(combineUnits('', '')).toBe('');
    expect(combineUnits(undefined, 'b.service')).toBeUndefined();
    expect(combineUnits('', undefined)).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('the cgroup walk on the live host', () => {
  // At least one socket with a known owner: this process.
  const server = net.createServer();
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('gives the same unit as /proc/PID/cgroup for every process it answers for', () => {
    const map = liveCgroupUnitMap('/proc');
    if (map === undefined) return; // no walkable hierarchy here (cgroup namespace, v1 only): the per-pid path is used
    const scratch = Buffer.alloc(64 * 1024);
    let answered = 0;
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const fromWalk = map.unitOf(Number(name));
      if (fromWalk === undefined) continue;
      const fromFile = readUnit(`/proc/${name}`, scratch);
      if (!fs.existsSync(`/proc/${name}`)) continue; // exited meanwhile
      expect(fromWalk, `pid ${name}`).toBe(fromFile ?? '');
      answered++;
    }
    expect(answered).toBeGreaterThan(0);
  });

  it('finds the same owners with the same details through the walk and through per-process reads', () => {
    const key = (r: ReturnType<typeof readLiveSockets>) =>
      new Map(r.sockets.map((s) => [`${s.proto} ${s.address} ${s.port} ${s.inode}`, s.owners.map((o) => `${o.pid} ${o.comm} ${o.uid} ${o.unit ?? ''} ${o.netns ?? ''}`)]));
    const walked = key(readLiveSockets('/', { cgroupWalk: true, threads: 1 }));
    const perPid = key(readLiveSockets('/', { cgroupWalk: false, threads: 1 }));
    // Sockets can open and close between the two reads (other processes); compare those present in both.
    let compared = 0;
    for (const [k, owners] of walked) {
      if (!perPid.has(k)) continue;
      expect(owners, k).toEqual(perPid.get(k));
      compared += owners.length;
    }
    expect(compared).toBeGreaterThan(0);
    const port = (server.address() as net.AddressInfo).port;
    const mine = [...walked].find(([k]) => k.startsWith(`tcp 127.0.0.1 ${port} `));
    expect(mine?.[1].some((o) => o.startsWith(`${process.pid} `))).toBe(true);
  });
});

function listProcs(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listProcs(p));
    else if (e.name === 'cgroup.procs') out.push(p);
  }
  return out;
}

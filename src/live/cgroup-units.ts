import * as fs from 'node:fs';
import { nativeScanner } from './native-scan.js';
import { isUnitName } from './process-info.js';

/**
 * pid → systemd unit for every process of a host, from one walk over the cgroup filesystem instead of one
 * /proc/PID/cgroup read per process: a host has tens to thousands of cgroups but can have tens of thousands of
 * socket-holding processes, and each /proc/PID/cgroup open costs tens of µs.
 *
 * The answer must equal systemdUnit(/proc/PID/cgroup) for every pid it gives, so it only answers for pids it saw
 * in a hierarchy whose whole tree it read; anything else (a pid that was not listed, a cgroup namespace that
 * hides part of the tree, an unreadable directory, a hierarchy not mounted at its root) is left to the per-pid
 * read.
 */
/** PID_MAX_LIMIT on 64-bit Linux: pid_max cannot be set above it, so every pid is below it. */
const PID_LIMIT = 4 * 1024 * 1024;

export interface CgroupUnitMap {
  /** The unit, '' when the process is in no unit, undefined when the walk cannot tell (read /proc/PID/cgroup). */
  unitOf(pid: number): string | undefined;
}

/**
 * Every pid listed in a hierarchy's cgroup.procs files, mapped to the innermost `*.service`/`*.socket`/`*.scope`
 * on its cgroup path ('' when none), like systemdUnit() picks the last unit component of the path.
 * `dir` is the hierarchy's mount point; undefined when any directory or cgroup.procs could not be read, since a
 * partial map would answer "no unit" for pids it never saw.
 */
export function walkCgroupTree(dir: string, opts: { native?: boolean } = {}): Map<number, string> | undefined {
  // The same walk in C (native/procscan.c cgroupWalk) when the native module is there: ~10x less time.
  const walk = opts.native === false ? undefined : nativeScanner()?.cgroupWalk;
  if (walk) {
    const r = walk(dir);
    if (r === null) return undefined;
    const out = new Map<number, string>();
    for (let i = 0; i < r.pids.length; i++) {
      const u = r.units[i] as number;
      out.set(r.pids[i] as number, u < 0 ? '' : (r.names[u] as string));
    }
    return out;
  }
  const out = new Map<number, string>();
  // Iterative, so a deep tree cannot overflow the stack; each entry carries the unit its path is in so far.
  const stack: { path: string; unit: string }[] = [{ path: dir, unit: '' }];
  while (stack.length > 0) {
    const { path, unit } = stack.pop() as { path: string; unit: string };
    let entries: fs.Dirent[];
    let procs: string;
    try {
      entries = fs.readdirSync(path, { withFileTypes: true });
      procs = fs.readFileSync(path + '/cgroup.procs', 'latin1');
    } catch {
      return undefined;
    }
    let v = -1;
    for (let i = 0; i < procs.length; i++) {
      const c = procs.charCodeAt(i) - 48;
      if (c >= 0 && c <= 9) v = (v < 0 ? 0 : v * 10) + c;
      else {
        // pid 0: a process outside this reader's pid namespace; it has no pid here to look up. A pid is below
        // pid_max, which is at most 2^22 (PID_MAX_LIMIT): a larger number is not one.
        if (v > 0 && v < PID_LIMIT && !out.has(v)) out.set(v, unit);
        v = -1;
      }
    }
    if (v > 0 && v < PID_LIMIT && !out.has(v)) out.set(v, unit);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      stack.push({ path: `${path}/${e.name}`, unit: isUnitName(e.name) ? e.name : unit });
    }
  }
  return out;
}

/**
 * The live host's map: the hierarchies the processes are in (from /proc/self/cgroup), found in
 * /proc/self/mountinfo mounted at their root. Pids in /proc must be the pids cgroup.procs prints (both in the
 * reader's pid namespace), so `procDir` must be the reader's own /proc. Undefined when the walk cannot help.
 */
export function liveCgroupUnitMap(procDir: string): CgroupUnitMap | undefined {
  let selfCgroup: string;
  let mountinfo: string;
  try {
    if (fs.readlinkSync(procDir + '/self') !== String(process.pid)) return undefined;
    selfCgroup = fs.readFileSync(procDir + '/self/cgroup', 'utf8');
    mountinfo = fs.readFileSync(procDir + '/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const hasV2 = /^0::/m.test(selfCgroup);
  const hasV1 = /^\d+:name=systemd:/m.test(selfCgroup);
  const mounts = cgroupMounts(mountinfo);
  const v2 = hasV2 && mounts.v2 !== undefined ? walkCgroupTree(mounts.v2) : undefined;
  const v1 = hasV1 && mounts.systemdV1 !== undefined ? walkCgroupTree(mounts.systemdV1) : undefined;
  // A hierarchy the processes are in but that could not be walked leaves the answer open for every pid.
  if ((hasV2 && v2 === undefined) || (hasV1 && v1 === undefined) || (!hasV2 && !hasV1)) return undefined;
  return { unitOf: (pid) => combineUnits(hasV2 ? v2?.get(pid) : '', hasV1 ? v1?.get(pid) : '') };
}

/**
 * systemdUnit()'s precedence: the v2 path's unit, else the name=systemd v1 path's. undefined (pid not seen) in a
 * hierarchy that matters means the per-pid file must decide.
 */
export function combineUnits(v2: string | undefined, v1: string | undefined): string | undefined {
  if (v2 === undefined) return undefined;
  if (v2 !== '') return v2;
  return v1;
}

/**
 * Mount points of the cgroup2 hierarchy and of systemd's v1 hierarchy (`name=systemd`), from mountinfo
 * (`ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS`). Only mounts of the hierarchy's
 * root (ROOT `/`) count: a mount of a subtree lists only part of the processes, under shorter paths.
 */
export function cgroupMounts(mountinfo: string): { v2?: string; systemdV1?: string } {
  const out: { v2?: string; systemdV1?: string } = {};
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    if (pre[3] !== '/' || pre[4] === undefined) continue;
    const mountPoint = unescapeMountinfo(pre[4]);
    if (post[0] === 'cgroup2' && out.v2 === undefined) out.v2 = mountPoint;
    else if (post[0] === 'cgroup' && out.systemdV1 === undefined && (post[2] ?? '').split(',').includes('name=systemd')) out.systemdV1 = mountPoint;
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo (fs/proc_namespace.c mangle()). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

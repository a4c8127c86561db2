import * as fs from 'node:fs';
import type { ProcessInfo } from '../model/live.js';
import { readSmall } from './proc-files.js';

/**
 * What bindcheck tells about a process that holds a socket. Every file may be missing: the process can exit
 * between the fd scan and these reads (a normal race), and then the fields stay empty rather than failing.
 * `pidDir` is the host path of /proc/PID inside the scanned root.
 */
export function readProcessInfo(pidDir: string, pid: number, scratch: Buffer, fallbackUid: number, withCmdline = true, withUnit = true, strict = false): ProcessInfo {
  const info: ProcessInfo = { pid, comm: '', cmdline: '', uid: fallbackUid };
  // Every /proc/PID file costs tens of µs to open on a busy host, so comm and uid both come from status
  // (Name: is comm, escaped by proc_task_name); comm is read on its own only when status is missing (a capture).
  let n = readSmall(pidDir + '/status', scratch, strict);
  const status = n > 0 ? scratch.toString('utf8', 0, n) : '';
  const name = statusName(status);
  if (name !== undefined) info.comm = name;
  else {
    n = readSmall(pidDir + '/comm', scratch, strict);
    if (n > 0) info.comm = scratch.toString('utf8', 0, scratch[n - 1] === 0x0a ? n - 1 : n);
  }
  const uid = statusUid(status);
  info.uid = uid !== undefined ? uid : dirOwner(pidDir, fallbackUid);
  if (withCmdline) {
    n = readSmall(pidDir + '/cmdline', scratch, strict);
    if (n > 0) info.cmdline = cmdlineText(scratch.subarray(0, n));
  }
  if (withUnit) {
    const unit = readUnit(pidDir, scratch, strict);
    if (unit !== undefined) info.unit = unit;
  }
  try {
    info.netns = fs.readlinkSync(pidDir + '/ns/net');
  } catch {
    // No ns/ (a capture without it, or the process is gone): leave it unknown.
  }
  return info;
}

/** argv joined by spaces, as ps shows it; the kernel separates arguments with NULs and ends with one. */
export function cmdlineText(raw: Buffer): string {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--;
  const copy = Buffer.from(raw.subarray(0, end));
  for (let i = 0; i < copy.length; i++) if (copy[i] === 0) copy[i] = 0x20;
  return copy.toString('utf8');
}

/** The effective uid from /proc/PID/status (`Uid: real effective saved fs`): the one bind() privileges follow. */
export function statusUid(status: string): number | undefined {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  return m ? Number(m[2]) : undefined;
}

/**
 * comm from the `Name:` line of /proc/PID/status. The kernel escapes it (seq_escape_str with ESCAPE_SPACE |
 * ESCAPE_SPECIAL and "\\n\\\\"), so undo `\\n`, `\\t`, `\\\\`, ... and octal `\\ooo`.
 */
export function statusName(status: string): string | undefined {
  const m = /^Name:\t(.*)$/m.exec(status);
  if (!m) return undefined;
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', e: '\x1b', '\\': '\\', '"': '"' };
  return (m[1] as string).replace(/\\([0-7]{3}|.)/g, (all, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c, 8)) : (simple[c] ?? all)));
}

/** /proc/PID is owned by the task's effective uid (root when the task is not dumpable): a fallback for status. */
function dirOwner(pidDir: string, fallback: number): number {
  try {
    return fs.statSync(pidDir).uid;
  } catch {
    return fallback;
  }
}

/** The systemd unit of one process, from /proc/PID/cgroup (see cgroup-units.ts for the whole host at once). */
export function readUnit(pidDir: string, scratch: Buffer, regularOnly = false): string | undefined {
  const n = readSmall(pidDir + '/cgroup', scratch, regularOnly);
  return n > 0 ? systemdUnit(scratch.toString('utf8', 0, n)) : undefined;
}

const UNIT_SUFFIX = /\.(service|socket|scope)$/;

/** Whether a cgroup directory name is a systemd unit that systemdUnit() would report. */
export function isUnitName(name: string): boolean {
  return UNIT_SUFFIX.test(name);
}

/**
 * The systemd unit from /proc/PID/cgroup. cgroup v2 has one line `0::/system.slice/nginx.service`; v1 has one line
 * per hierarchy, and systemd's own is `N:name=systemd:/system.slice/nginx.service`. The unit is the last
 * `*.service`/`*.socket`/`*.scope` component (`user@1000.service/app.slice/x.scope` → `x.scope`).
 */
export function systemdUnit(cgroup: string): string | undefined {
  let v2: string | undefined;
  let v1: string | undefined;
  for (const line of cgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.startsWith('0::')) v2 = path;
    else if (controllers === 'name=systemd') v1 = path;
  }
  // A hybrid host has both; systemd manages units in whichever tree it uses, and the deeper path names the unit.
  for (const path of [v2, v1]) {
    if (path === undefined) continue;
    const parts = path.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i] as string;
      if (UNIT_SUFFIX.test(p)) return p;
    }
  }
  return undefined;
}

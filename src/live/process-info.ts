import * as fs from 'node:fs';
import type { ProcessInfo } from '../model/live.js';
import { readSmall } from './proc-files.js';

/**
 * What bindcheck tells about a process that holds a socket. Every file may be missing: the process can exit
 * between the fd scan and these reads (a normal race), and then the fields stay empty rather than failing.
 * `pidDir` is the host path of /proc/PID inside the scanned root.
 */
export function readProcessInfo(pidDir: string, pid: number, scratch: Buffer, fallbackUid: number, withCmdline = true, withUnit = true, strict = false): ProcessInfo {
  // Every /proc/PID file costs tens of µs to open on a busy host, so comm and uid both come from status
  // (Name: is comm, escaped by proc_task_name); comm is read on its own only when status is missing (a capture).
  const n = readSmall(pidDir + '/status', scratch, strict);
  const status = n > 0 ? scratch.toString('utf8', 0, n) : '';
  let netns: string | undefined;
  try {
    netns = fs.readlinkSync(pidDir + '/ns/net');
  } catch {
    // No ns/ (a capture without it, or the process is gone): leave it unknown.
  }
  return completeProcessInfo(pidDir, pid, scratch, fallbackUid, statusName(status), statusUid(status), netns, withCmdline, withUnit, strict);
}

/**
 * The rest of readProcessInfo once comm and the effective uid (from status here; from /proc/PID/comm and the
 * owner of /proc/PID in the native scanner, native-scan.ts) and ns/net were read: the fallbacks for what was
 * missing, cmdline and unit. One constructor for both keeps the objects identical, key order included (it shows
 * in JSON).
 */
export function completeProcessInfo(
  pidDir: string,
  pid: number,
  scratch: Buffer,
  fallbackUid: number,
  comm: string | undefined,
  uid: number | undefined,
  netns: string | undefined,
  withCmdline: boolean,
  withUnit: boolean,
  strict: boolean,
  /** /proc/PID/cgroup when already read (the native scanner reads it on its threads). */
  cgroup?: string,
): ProcessInfo {
  const info: ProcessInfo = { pid, comm: '', cmdline: '', uid: fallbackUid };
  if (comm !== undefined) info.comm = comm;
  else {
    const n = readSmall(pidDir + '/comm', scratch, strict);
    if (n > 0) info.comm = scratch.toString('utf8', 0, scratch[n - 1] === 0x0a ? n - 1 : n);
  }
  info.uid = uid !== undefined ? uid : dirOwner(pidDir, fallbackUid);
  if (withCmdline) {
    const n = readSmall(pidDir + '/cmdline', scratch, strict);
    if (n > 0) info.cmdline = cmdlineText(scratch.subarray(0, n));
  }
  if (withUnit) {
    const unit = cgroup !== undefined ? systemdUnit(cgroup) : readUnit(pidDir, scratch, strict);
    if (unit !== undefined) info.unit = unit;
  }
  if (netns !== undefined) info.netns = netns;
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

/**
 * The first line of /proc/PID/status that starts with `key`, without it. Lines end at `\n` only: a regex with the
 * m flag would also start a line after U+2028/U+2029 or a raw CR, and comm (up to 15 bytes a process sets itself
 * with PR_SET_NAME, escaped by the kernel only for control characters and backslash) could then plant a
 * `Uid:\t0\t0` line of its own after a U+2028 and claim root.
 */
function statusLine(status: string, key: string): string | undefined {
  let i = 0;
  while (i < status.length) {
    const nl = status.indexOf('\n', i);
    const end = nl < 0 ? status.length : nl;
    if (status.startsWith(key, i)) return status.slice(i + key.length, end);
    i = end + 1;
  }
  return undefined;
}

/** The effective uid from /proc/PID/status (`Uid: real effective saved fs`): the one bind() privileges follow. */
export function statusUid(status: string): number | undefined {
  const line = statusLine(status, 'Uid:');
  const m = line === undefined ? null : /^[ \t\v\f\r]+(\d+)[ \t\v\f\r]+(\d+)/.exec(line);
  return m ? Number(m[2]) : undefined;
}

/** The `Name:` value of /proc/PID/status as the kernel wrote it (still escaped). */
function statusNameRaw(status: string): string | undefined {
  return statusLine(status, 'Name:\t');
}

/**
 * comm from the `Name:` line of /proc/PID/status. The kernel escapes it (seq_escape_str with ESCAPE_SPACE |
 * ESCAPE_SPECIAL and "\\n\\\\"), so undo `\\n`, `\\t`, `\\\\`, ... and octal `\\ooo`.
 */
export function statusName(status: string): string | undefined {
  const raw = statusNameRaw(status);
  return raw === undefined ? undefined : unescapeStatusName(raw);
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', e: '\x1b', '\\': '\\', '"': '"' };

function unescapeStatusName(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\([0-7]{3}|[^])/g, (all, c: string) => (c.length === 3 ? String.fromCharCode(parseInt(c, 8)) : (SIMPLE_ESCAPES[c] ?? all)));
}

/**
 * /proc/PID is owned by the task's effective uid, non-dumpable tasks included (task_dump_owner exempts the 0555
 * per-process directories from its dumpable rule; their fd/ and files turn root): a fallback for status.
 */
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
  // Only two lines matter, so find them instead of splitting every line (a v1 host has a dozen per process, and a
  // large host has thousands of owners).
  let v2: string | undefined;
  let v1: string | undefined;
  for (let start = 0; start < cgroup.length; ) {
    const nl = cgroup.indexOf('\n', start);
    const end = nl < 0 ? cgroup.length : nl;
    const first = cgroup.indexOf(':', start);
    const second = first < 0 || first >= end ? -1 : cgroup.indexOf(':', first + 1);
    if (second >= 0 && second < end) {
      if (first === start + 1 && cgroup.charCodeAt(start) === 0x30 && second === first + 1) v2 = cgroup.slice(second + 1, end);
      else if (second - first - 1 === 12 && cgroup.startsWith('name=systemd', first + 1)) v1 = cgroup.slice(second + 1, end);
    }
    start = end + 1;
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

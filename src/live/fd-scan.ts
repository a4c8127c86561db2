import * as fs from 'node:fs';
import type { ProcessInfo } from '../model/live.js';
import { errCode } from './proc-files.js';
import { readProcessInfo } from './process-info.js';

/**
 * The socket inode → process map, from /proc/PID/fd/* symlinks (`socket:[12345]`). This is the expensive part of
 * a socket table: the kernel spends ~4 µs per readlink of a /proc fd entry (tid_fd_revalidate + ptrace access
 * check + d_path), so a prefork server with 100 workers × 10k inherited listeners costs a million of them. Here
 * every fd of every process is read once, with nothing else per fd: the directory listing, one readlink, a prefix
 * test. The work is shared between threads through an atomic cursor over the pid list (see owners.ts). This is the
 * fallback: the native scanner (native-scan.ts, native/procscan.c) does the same walk in C and matches a forked
 * worker's whole fd table to an equal one with kcmp(2) instead of reading each link.
 */

export interface ScanJob {
  /** Host path of the root's /proc. */
  procDir: string;
  /** Pids to scan, shared between threads. */
  pids: Int32Array;
  /** Index of the next pid to take, advanced with Atomics.add. */
  cursor: Int32Array;
  /** Socket inodes whose owners are wanted. */
  wanted: Set<number>;
  /** Refuse pid/fd directories that are symlinks (any root but the live `/`, whose /proc the kernel writes). */
  strict: boolean;
  /** Read /proc/PID/cmdline of owners (the text table does not show it; skipping it saves a file per owner). */
  withCmdline: boolean;
  /** Read /proc/PID/cgroup of owners; false when the caller has the units from one cgroup walk (cgroup-units.ts). */
  withUnit: boolean;
}

export interface ScanOut {
  /** pid, inode, pid, inode, …: one pair per (process, socket), grouped by pid. */
  pairs: number[];
  /** Info of every process that holds a wanted socket. */
  infos: ProcessInfo[];
  /** Pids whose fd directory could not be read (EACCES: not root). */
  denied: number[];
  /** Pids that exited during the scan. */
  vanished: number;
  /** fd entries read. */
  fds: number;
}

export function emptyScanOut(): ScanOut {
  return { pairs: [], infos: [], denied: [], vanished: 0, fds: 0 };
}

const S = 0x73; // 's'
const PREFIX = 'socket:[';

/**
 * Take pids from the shared cursor until none are left or `fdBudget` fd entries were read (so the caller can
 * decide to start more threads once it knows the work is large). Returns true when the pid list is exhausted.
 */
export function scanPids(job: ScanJob, out: ScanOut, fdBudget: number, scratch: Buffer): boolean {
  const stopAt = out.fds + fdBudget;
  const { pids, cursor, wanted, procDir } = job;
  for (;;) {
    if (out.fds >= stopAt) return false;
    const k = Atomics.add(cursor, 0, 1);
    if (k >= pids.length) return true;
    const pid = pids[k] as number;
    const pidDir = `${procDir}/${pid}`;
    const fdDir = pidDir + '/fd';
    let names: string[];
    try {
      if (job.strict && !fs.lstatSync(fdDir).isDirectory()) continue;
      names = fs.readdirSync(fdDir);
    } catch (e) {
      const code = errCode(e);
      if (code === 'EACCES' || code === 'EPERM') out.denied.push(pid);
      else out.vanished++;
      continue;
    }
    out.fds += names.length;
    const base = fdDir + '/';
    const before = out.pairs.length;
    for (let i = 0; i < names.length; i++) {
      // As bytes: most targets are not sockets, and decoding every path as UTF-8 costs more than the test.
      let target: Buffer;
      try {
        target = fs.readlinkSync(base + names[i], 'buffer');
      } catch {
        continue; // closed since the listing, or not a link in a capture
      }
      if (target[0] !== S || target[7] !== 0x5b || target.toString('latin1', 0, 8) !== PREFIX) continue;
      const inode = parseInodeBytes(target);
      if (inode >= 0 && wanted.has(inode)) out.pairs.push(pid, inode);
    }
    if (out.pairs.length > before) out.infos.push(readProcessInfo(pidDir, pid, scratch, -1, job.withCmdline, job.withUnit, job.strict));
  }
}

/** The bytes `socket:[12345]` → 12345; -1 when malformed. */
export function parseInodeBytes(target: Buffer): number {
  const end = target.length - 1;
  if (target[end] !== 0x5d) return -1;
  let v = 0;
  for (let j = PREFIX.length; j < end; j++) {
    const d = (target[j] as number) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return end > PREFIX.length ? v : -1;
}


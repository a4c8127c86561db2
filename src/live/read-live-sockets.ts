import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RootFs } from '../fs/root-fs.js';
import type { Family, Proto } from '../model/endpoint.js';
import type { UnseenNote } from '../model/inventory.js';
import type { LiveSocket } from '../model/live.js';
import { liveCgroupUnitMap } from './cgroup-units.js';
import { nativeScanner } from './native-scan.js';
import { attachUnits, type OwnerMap, ownerCount, startSocketOwners } from './owners.js';
import { scanProcNet, STATE_CLOSE, STATE_LISTEN, TCP_STATES } from './proc-net.js';
import { MAX_PROC_TABLE_BYTES, readWhole } from './proc-files.js';
import { ALL_STATES, type DiagDump, diagInodes, dumpDiagTable, visitDiagTable } from './sock-diag.js';

export interface ReadLiveSocketsOptions {
  /** Look up the processes holding each socket (default true). Needs root to see other users' processes. */
  owners?: boolean;
  /** `listening` (default): TCP LISTEN and bound-but-unconnected UDP, like `ss -ltnu`. `all`: every row. */
  states?: 'listening' | 'all';
  /** Threads for the owner scan (default: the CPU count); 1 keeps it on the calling thread. */
  threads?: number;
  /** Read each owner's command line (default true); false leaves ProcessInfo.cmdline empty and saves a file read per owner. */
  cmdline?: boolean;
  /**
   * Units from one walk over the cgroup tree instead of each owner's /proc/PID/cgroup (live root only; the cgroup
   * tree is the host's, never a captured root's). Default: with the native scanner, when there are 200 sockets
   * or more (the walk runs while the scan's threads work); with the JavaScript scan, when owners are many and a
   * large share of all processes (see wantCgroupWalk).
   */
  cgroupWalk?: boolean;
  /**
   * Use the native fd scanner (native/procscan.c) when it was built (default true; `BINDCHECK_NATIVE=0` in the
   * environment also turns it off). false: the JavaScript scan. Both give the same table.
   */
  native?: boolean;
  /**
   * Where the live root's table comes from: `auto` (default) reads it over NETLINK_SOCK_DIAG through the native
   * module when that is built (what `ss` does; far cheaper than the /proc text on a busy host) and falls back to
   * the /proc/net file per table; `proc` always reads the files. Any other root is always read from its files.
   * Rows from netlink cite their /proc/net table with line 0: a dump has no line numbers.
   */
  table?: 'auto' | 'proc';
}

export interface LiveSocketTable {
  sockets: LiveSocket[];
  unseen: UnseenNote[];
}

const TABLES: { file: string; proto: Proto; family: Family }[] = [
  { file: 'tcp', proto: 'tcp', family: 'inet' },
  { file: 'tcp6', proto: 'tcp', family: 'inet6' },
  { file: 'udp', proto: 'udp', family: 'inet' },
  { file: 'udp6', proto: 'udp', family: 'inet6' },
];

/**
 * The socket table of the root's network namespace, from /proc/net/{tcp,tcp6,udp,udp6} under `root`.
 *
 * /proc/net is a view of the *reading process's* network namespace (it is a link to /proc/self/net), so on the live
 * host (`root` = `/`) this lists the sockets of the namespace bindcheck runs in, not the host's if bindcheck runs in
 * a container, and sockets of processes in other namespaces are absent. Owners are still found in every
 * namespace: a process in another namespace can hold a socket of ours (an inherited fd), and it is listed.
 * For any other root the files are read as captured there; nothing outside the root is opened.
 */
export function readLiveSockets(root: string, opts: ReadLiveSocketsOptions = {}): LiveSocketTable {
  const rootFs = new RootFs(root);
  const unseen: UnseenNote[] = [];
  const proc = rootFs.resolve('/proc');
  if (!proc.ok || !isDir(proc.hostPath)) {
    unseen.push({ what: 'live sockets', why: `${path.join(rootFs.root, 'proc')} does not exist, so there is no socket table to read` });
    return { sockets: [], unseen };
  }
  const listening = (opts.states ?? 'listening') === 'listening';
  const littleEndian = os.endianness() === 'LE';
  const netns = readNetns(rootFs);
  const sockets: LiveSocket[] = [];
  const live = path.resolve(root) === '/';
  // The native module, for the live root only: a netlink socket describes this process's namespace, as /proc/net.
  const diag = (opts.table ?? 'auto') === 'auto' && opts.native !== false && live ? nativeScanner() : undefined;
  // Each table's source, in table order: a netlink dump, or the /proc file's bytes; or a note why neither.
  const sources: { file: string; proto: Proto; family: Family; onlyState: number | undefined; dump?: DiagDump; buf?: Buffer }[] = [];
  for (const t of TABLES) {
    const file = `/proc/net/${t.file}`;
    const onlyState = listening ? (t.proto === 'tcp' ? STATE_LISTEN : STATE_CLOSE) : undefined;
    const { proto, family } = t;
    // A kernel without IPv6 has no tcp6 file, and the note below says so; netlink would just answer nothing.
    if (diag && (family === 'inet' || fs.existsSync(file))) {
      const dump = dumpDiagTable(diag, proto, family, onlyState !== undefined ? 1 << onlyState : ALL_STATES);
      if (!('code' in dump)) {
        sources.push({ file, proto, family, onlyState, dump });
        continue;
      }
    }
    const r = rootFs.resolve(file);
    const read = r.ok ? readWhole(r.hostPath) : { code: 'ENOENT' };
    if ('code' in read) {
      unseen.push({ what: `${t.proto}${t.family === 'inet6' ? '6' : ''} sockets`, why: whyUnread(file, read.code) });
      continue;
    }
    sources.push({ file, proto, family, onlyState, buf: read.buf });
  }
  // With every table from netlink the socket inodes are known before any row is built: the native owner scan's
  // threads start now and work while this thread builds the rows.
  const wantOwners = opts.owners ?? true;
  let early: { wanted: Set<number>; run: { finish(): OwnerMap } } | undefined;
  if (wantOwners && diag && sources.every((src) => src.dump !== undefined)) {
    const wanted = new Set<number>();
    for (const src of sources) diagInodes(src.dump as DiagDump, wanted);
    if (wanted.size > 0) early = { wanted, run: startOwnerScan(proc.hostPath, live, wanted, opts) };
  }
  for (const { file, proto, family, onlyState, dump, buf } of sources) {
    const visit = (address: string, port: number, remoteAddress: string, remotePort: number, stateCode: number, uid: number, inode: number, line: number): void => {
      const s: LiveSocket = {
        proto,
        family,
        address,
        port,
        remoteAddress,
        remotePort,
        state: TCP_STATES[stateCode] ?? 'CLOSE',
        uid,
        inode,
        owners: [],
        // Inode 0 (TIME_WAIT, a request socket) has no file, so no process can hold it: known to be ownerless.
        ownersKnown: inode === 0,
        source: { file, line },
      };
      if (netns !== undefined) s.netns = netns;
      sockets.push(s);
    };
    if (dump) visitDiagTable(dump, visit);
    else if (buf) scanProcNet(buf, { proto, family, littleEndian, ...(onlyState !== undefined ? { onlyState } : {}) }, visit);
  }
  if (wantOwners) attachOwners(proc.hostPath, live, sockets, unseen, opts, early);
  return { sockets, unseen };
}

/**
 * The owner scan for this root. On the live host the native scanner reads each owner's /proc/PID/cgroup on its
 * threads; without it, units are attached after the scan (attachOwners). A captured root's owners are read with
 * every file checked (strict).
 */
function startOwnerScan(procDir: string, live: boolean, wanted: Set<number>, opts: ReadLiveSocketsOptions): { finish(): OwnerMap } {
  const native = opts.native !== false && nativeScanner() !== undefined;
  // Live host, native scanner: with many sockets (so, likely, many owners) one walk over the cgroup tree costs
  // less than three syscalls per owner, and it runs here while the scan's threads work; with few, the scanner
  // reads each owner's /proc/PID/cgroup on its threads.
  const walkDuringScan = live && native && (opts.cgroupWalk ?? wanted.size >= WALK_MIN_SOCKETS);
  const run = startSocketOwners(procDir, undefined, wanted, {
    strict: !live,
    withCmdline: opts.cmdline ?? true,
    withUnit: !live || (native && !walkDuringScan),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.native !== undefined ? { native: opts.native } : {}),
  });
  const walked = walkDuringScan ? liveCgroupUnitMap(procDir) : undefined;
  return {
    finish: () => {
      const found = run.finish();
      // A pid the walk did not see (or no walk possible) gets its own /proc/PID/cgroup read in attachUnits.
      if (walkDuringScan) attachUnits(procDir, found.owners, walked);
      else if (live && !native) {
        // The JavaScript scan: units after it, when it is known whether the walk beats reading each owner's file.
        const walk = opts.cgroupWalk ?? wantCgroupWalk(ownerCount(found.owners), found.processes);
        attachUnits(procDir, found.owners, walk ? liveCgroupUnitMap(procDir) : undefined);
      }
      return found;
    },
  };
}

/** Sockets from which the native scan leaves units to one cgroup walk (see startOwnerScan). */
const WALK_MIN_SOCKETS = 200;

function attachOwners(procDir: string, live: boolean, sockets: LiveSocket[], unseen: UnseenNote[], opts: ReadLiveSocketsOptions, early?: { wanted: Set<number>; run: { finish(): OwnerMap } }): void {
  let run = early?.run;
  if (!run) {
    const wanted = new Set<number>();
    for (const s of sockets) if (s.inode !== 0) wanted.add(s.inode);
    if (wanted.size === 0) return;
    run = startOwnerScan(procDir, live, wanted, opts);
  }
  const found = run.finish();
  const complete = found.denied.length === 0;
  let unknown = 0;
  for (const s of sockets) {
    if (s.inode === 0) continue;
    const owners = found.owners.get(s.inode);
    if (owners) s.owners = owners;
    s.ownersKnown = complete;
    if (!complete && s.owners.length === 0) unknown++;
  }
  if (!complete) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    unseen.push({
      what: `owners of ${unknown} socket${unknown === 1 ? '' : 's'}`,
      why: `need root: /proc/PID/fd of ${found.denied.length} process${found.denied.length === 1 ? '' : 'es'} cannot be read by uid ${uid}; uid and inode are still shown`,
    });
  }
}

/**
 * The walk reads every cgroup.procs, ~5 µs per process on the host (the kernel builds and sorts each list); a
 * /proc/PID/cgroup read costs ~35 µs per owner. Walk when owners are more than a fifth of all processes.
 */
function wantCgroupWalk(owners: number, processes: number): boolean {
  return owners >= 200 && owners * 5 >= processes;
}

/** The namespace the /proc/net files describe: the reader's own, /proc/self/ns/net inside the root. */
function readNetns(rootFs: RootFs): string | undefined {
  const r = rootFs.resolve('/proc/self/ns');
  if (!r.ok) return undefined;
  try {
    return fs.readlinkSync(path.join(r.hostPath, 'net'));
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function whyUnread(file: string, code: string): string {
  if (code === 'ENOENT') return `${file} does not exist (no ${file.endsWith('6') ? 'IPv6' : 'such protocol'} in this kernel or capture)`;
  if (code === 'EACCES' || code === 'EPERM') return `${file} cannot be read: permission denied`;
  if (code === 'EFBIG') return `${file} is larger than the ${MAX_PROC_TABLE_BYTES} bytes bindcheck reads`;
  if (code === 'EINVAL' || code === 'EISDIR') return `${file} is not a regular file (not opened)`;
  return `${file} cannot be read: ${code}`;
}

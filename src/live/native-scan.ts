import { fileURLToPath } from 'node:url';
import type { ProcessInfo } from '../model/live.js';
import type { ScanOut } from './fd-scan.js';
import { completeProcessInfo, readProcessInfo } from './process-info.js';

/**
 * The optional native fd scanner (native/procscan.c, built at install time by native/build.mjs when a C compiler
 * and Node's headers are there). It does what fd-scan.ts's scanPids does, in C on several threads, and for the live
 * root it also reads each owner's comm, euid and ns/net; owners.ts uses it when it loads and falls back to the
 * JavaScript scan otherwise. `BINDCHECK_NATIVE=0` (or ReadLiveSocketsOptions.native = false) forces the
 * JavaScript scan; both give the same result (test/live/native-scan.test.ts).
 */
interface NativeResult {
  pairs: Float64Array;
  denied: Int32Array;
  vanished: number;
  fds: number;
  info: Float64Array;
  text: Buffer;
  twins: number;
  /** Pids scanned (the listed ones with FLAG_LIST). */
  processes?: number;
}

/** diag(): per socket `state, uid, inode, local port, remote port` in rows and 32 address bytes (local, remote) in addrs. */
export interface NativeDiagResult {
  rows: Float64Array;
  addrs: Buffer;
}

export interface NativeModule {
  scan(procDir: string, pids: Int32Array, wanted: Float64Array, flags: number, threads: number): NativeResult;
  /** scan() with all threads but the caller's started now; scanJoin runs the caller's share and returns the result. */
  scanStart?(procDir: string, pids: Int32Array, wanted: Float64Array, flags: number, threads: number): object;
  scanJoin?(handle: object): NativeResult;
  /** cgroup-units.ts walkCgroupTree in C: pids with an index into names (-1: no unit); null when the walk failed. */
  cgroupWalk?(dir: string): { pids: Int32Array; units: Int32Array; names: string[] } | null;
  /** The socket table over NETLINK_SOCK_DIAG (native/procscan.c diag); absent in a module built before it existed. */
  diag?(family: 4 | 6, protocol: 6 | 17, states: number): NativeDiagResult;
}

const FLAG_STRICT = 1;
const FLAG_INFO = 2;
/** Compare a process's fds with a twin's by kcmp(2) instead of reading its links (procscan.c try_twin); live root only. */
const FLAG_TWINS = 4;
/** With FLAG_INFO: C also reads /proc/PID/cgroup (for the owner's unit) on its threads. */
const FLAG_UNIT = 8;
/** C lists /proc's numeric directories itself instead of taking `pids`. */
const FLAG_LIST = 16;
const INFO_FIELDS = 8;

/** Where native/build.mjs puts the module, from dist/live/ and from src/live/ alike. */
const MODULE_URL = new URL('../../native/build/procscan.node', import.meta.url);

let loaded: NativeModule | null | undefined;

/** The native module, or undefined when it was not built, does not load, or BINDCHECK_NATIVE=0 says not to. */
export function nativeScanner(env: NodeJS.ProcessEnv = process.env): NativeModule | undefined {
  if (env.BINDCHECK_NATIVE === '0') return undefined;
  if (loaded === undefined) {
    try {
      // process.dlopen is what require() does for a .node file, without loading the module system's builtins.
      const holder: { exports: Partial<NativeModule> } = { exports: {} };
      process.dlopen(holder, fileURLToPath(MODULE_URL));
      const mod = holder.exports;
      loaded = typeof mod.scan === 'function' ? (mod as NativeModule) : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** Which scan `bindcheck sockets` uses here: for the benchmark's report and the tests. */
export function ownerScanPath(env: NodeJS.ProcessEnv = process.env): 'native' | 'js' {
  return nativeScanner(env) ? 'native' : 'js';
}

export interface NativeScanOptions {
  strict: boolean;
  withCmdline: boolean;
  withUnit: boolean;
  threads: number;
  /** Let the native scan match forked workers' fds to their parent's with kcmp (default true on the live root). */
  twins?: boolean;
}

export type NativeScanOut = Omit<ScanOut, 'pairs'> & { pairs: Float64Array; twins: number; processes: number };

/**
 * The owner scan through the native module: the same ScanOut as scanPids over every pid (`pids` undefined: C
 * lists procDir itself). comm, euid, ns/net and cgroup come from C on the live root (not strict); a captured
 * root's owners, and whatever C could not read, are read here.
 */
export function nativeScanPids(mod: NativeModule, procDir: string, pids: readonly number[] | undefined, wanted: ReadonlySet<number>, opts: NativeScanOptions): NativeScanOut {
  return nativeScanStart(mod, procDir, pids, wanted, opts).finish();
}

/**
 * nativeScanPids in two steps: the scan's threads start now, and finish() (on this thread's share of the pids,
 * then the others') gives the result, so the caller can build its rows in between.
 */
export function nativeScanStart(
  mod: NativeModule,
  procDir: string,
  pids: readonly number[] | undefined,
  wanted: ReadonlySet<number>,
  opts: NativeScanOptions,
): { finish(): NativeScanOut } {
  const sortedWanted = Float64Array.from(wanted).sort();
  // A captured root's pids are not processes: kcmp would compare whatever runs here under those numbers.
  let flags = opts.strict ? FLAG_STRICT : FLAG_INFO | (opts.twins === false ? 0 : FLAG_TWINS) | (opts.withUnit ? FLAG_UNIT : 0);
  if (pids === undefined) flags |= FLAG_LIST;
  const pidArray = Int32Array.from(pids ?? []);
  const threads = Math.max(1, opts.threads);
  const { scanStart, scanJoin } = mod;
  if (typeof scanStart === 'function' && typeof scanJoin === 'function') {
    const handle = scanStart.call(mod, procDir, pidArray, sortedWanted, flags, threads);
    return { finish: () => collect(scanJoin.call(mod, handle), procDir, pids, opts) };
  }
  const r = mod.scan(procDir, pidArray, sortedWanted, flags, threads);
  return { finish: () => collect(r, procDir, pids, opts) };
}

function collect(r: NativeResult, procDir: string, pids: readonly number[] | undefined, opts: NativeScanOptions): NativeScanOut {
  const scratch = Buffer.allocUnsafe(64 * 1024);
  const infos: ProcessInfo[] = [];
  const fromC = new Set<number>();
  const { info, text } = r;
  for (let i = 0; i < info.length; i += INFO_FIELDS) {
    const pid = info[i] as number;
    const uid = info[i + 1] as number;
    const nameEnd = info[i + 3] as number;
    const nsEnd = info[i + 5] as number;
    const cgroupEnd = info[i + 7] as number;
    const comm = nameEnd < 0 ? undefined : text.toString('utf8', info[i + 2] as number, nameEnd);
    const netns = nsEnd < 0 ? undefined : text.toString('utf8', info[i + 4] as number, nsEnd);
    const cgroup = cgroupEnd < 0 ? undefined : text.toString('utf8', info[i + 6] as number, cgroupEnd);
    infos.push(completeProcessInfo(`${procDir}/${pid}`, pid, scratch, -1, comm, uid < 0 ? undefined : uid, netns, opts.withCmdline, opts.withUnit, opts.strict, cgroup));
    fromC.add(pid);
  }
  const { pairs } = r;
  // Owners whose info C did not read (a captured root, where the files are lstat-checked first): read here, once.
  for (let i = 0; i < pairs.length; i += 2) {
    const pid = pairs[i] as number;
    if (fromC.has(pid)) continue;
    fromC.add(pid);
    infos.push(readProcessInfo(`${procDir}/${pid}`, pid, scratch, -1, opts.withCmdline, opts.withUnit, opts.strict));
  }
  return { pairs, infos, denied: Array.from(r.denied), vanished: r.vanished, fds: r.fds, twins: r.twins, processes: r.processes ?? (pids?.length ?? 0) };
}

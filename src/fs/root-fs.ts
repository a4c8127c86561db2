import * as fs from 'node:fs';
import * as path from 'node:path';

/** Largest config file bindcheck will read; larger ones become a finding. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Largest file the user names on the command line (a saved strace or log) that bindcheck reads whole. */
export const MAX_EVIDENCE_BYTES = 256 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 40;

export type ReadFailure =
  | 'not-found'
  | 'permission-denied'
  | 'not-a-file'
  | 'too-large'
  | 'symlink-loop'
  | 'io-error';

export type ReadResult =
  | { ok: true; text: string; /** path as seen inside the root after symlinks */ resolved: string }
  | { ok: false; failure: ReadFailure; message: string };

/**
 * A filesystem view confined to a root directory. Every path is interpreted as the daemon on that root
 * would see it: absolute symlink targets resolve against the root, `..` stops at the root, so nothing
 * outside the root is ever opened. `new RootFs('/')` is the live host.
 */
export class RootFs {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Host path for an in-root path, resolving every symlink component inside the root. */
  resolve(inRootPath: string): { ok: true; hostPath: string; inRoot: string } | { ok: false; failure: ReadFailure; message: string } {
    const parts = splitPath(inRootPath);
    const done: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift() as string;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = path.join(this.root, ...done, part);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(candidate);
      } catch (e) {
        // A missing component: the rest cannot resolve; report the whole path as not found.
        const rest = [...done, part, ...parts];
        return fail(e, '/' + rest.join('/'));
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) {
          return { ok: false, failure: 'symlink-loop', message: `too many levels of symbolic links at /${[...done, part].join('/')}` };
        }
        let target: string;
        try {
          target = fs.readlinkSync(candidate);
        } catch (e) {
          return fail(e, '/' + [...done, part].join('/'));
        }
        if (target.startsWith('/')) done.length = 0;
        parts.unshift(...splitPath(target));
        continue;
      }
      done.push(part);
    }
    const inRoot = '/' + done.join('/');
    return { ok: true, hostPath: path.join(this.root, ...done), inRoot };
  }

  /** Read a regular text file. FIFOs, devices and directories are refused without opening them. */
  readText(inRootPath: string, maxBytes = MAX_CONFIG_BYTES): ReadResult {
    const r = this.resolve(inRootPath);
    if (!r.ok) return r;
    let st: fs.Stats;
    try {
      st = fs.statSync(r.hostPath);
    } catch (e) {
      return fail(e, inRootPath);
    }
    if (!st.isFile()) {
      return { ok: false, failure: 'not-a-file', message: `${inRootPath} is not a regular file` };
    }
    if (st.size > maxBytes) {
      return { ok: false, failure: 'too-large', message: `${inRootPath} is ${st.size} bytes, more than the ${maxBytes} bytes bindcheck reads` };
    }
    let fd: number | undefined;
    try {
      // O_NONBLOCK: a file swapped for a FIFO between stat and open must not block us.
      fd = fs.openSync(r.hostPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      const st2 = fs.fstatSync(fd);
      if (!st2.isFile()) return { ok: false, failure: 'not-a-file', message: `${inRootPath} is not a regular file` };
      // procfs and sysfs files report size 0: read to EOF in any case, never past maxBytes + 1.
      let buf = Buffer.alloc(Math.min(Math.max(st2.size, 4096), maxBytes) + 1);
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          if (buf.length > maxBytes) break;
          const bigger = Buffer.alloc(Math.min(buf.length * 2, maxBytes + 1));
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        }
        const k = fs.readSync(fd, buf, n, buf.length - n, null);
        if (k === 0) break;
        n += k;
      }
      if (n > maxBytes) {
        return { ok: false, failure: 'too-large', message: `${inRootPath} is larger than the ${maxBytes} bytes bindcheck reads` };
      }
      return { ok: true, text: buf.subarray(0, n).toString('utf8'), resolved: r.inRoot };
    } catch (e) {
      return fail(e, inRootPath);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  exists(inRootPath: string): boolean {
    const r = this.resolve(inRootPath);
    if (!r.ok) return false;
    return fs.existsSync(r.hostPath);
  }

  isDirectory(inRootPath: string): boolean {
    const r = this.resolve(inRootPath);
    if (!r.ok) return false;
    try {
      return fs.statSync(r.hostPath).isDirectory();
    } catch {
      return false;
    }
  }

  /** Names in a directory, sorted; empty when it cannot be read. */
  list(inRootPath: string): string[] {
    const r = this.resolve(inRootPath);
    if (!r.ok) return [];
    try {
      return fs.readdirSync(r.hostPath).sort();
    } catch {
      return [];
    }
  }
}

/**
 * A file the user named (`trace --file`, `why --evidence`): the host path, any symlinks followed, but like any
 * input only a regular file no larger than `maxBytes` — a FIFO would block and /dev/zero never ends.
 */
export function readUserFile(file: string, maxBytes = MAX_EVIDENCE_BYTES): ReadResult {
  const r = new RootFs('/').readText(path.resolve(file), maxBytes);
  return r.ok ? r : { ...r, message: r.message.replace(path.resolve(file), file) };
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}

function fail(e: unknown, p: string): { ok: false; failure: ReadFailure; message: string } {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { ok: false, failure: 'not-found', message: `${p} does not exist` };
    case 'EACCES':
    case 'EPERM':
      return { ok: false, failure: 'permission-denied', message: `${p} cannot be read: permission denied` };
    case 'ELOOP':
      return { ok: false, failure: 'symlink-loop', message: `${p}: too many levels of symbolic links` };
    case 'EISDIR':
      return { ok: false, failure: 'not-a-file', message: `${p} is a directory` };
    default:
      return { ok: false, failure: 'io-error', message: `${p} cannot be read: ${code ?? String(e)}` };
  }
}

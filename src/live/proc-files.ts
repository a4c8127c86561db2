import * as fs from 'node:fs';

const O_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * Largest /proc table read: /proc/net/tcp6 of a host with a million sockets is ~170 MB. A captured root can hold
 * anything under that name (a 1 GB sparse file), and a Buffer beyond ~512 MB cannot even become a string.
 */
export const MAX_PROC_TABLE_BYTES = 256 * 1024 * 1024;

/**
 * Read a whole file whose size stat() cannot tell (procfs reports 0). Returns undefined when it cannot be read;
 * `code` says why (ENOENT, EACCES, ...; EFBIG past `maxBytes`, EINVAL for a FIFO or device). O_NOFOLLOW: callers
 * resolve symlinks inside the root first. Only regular files are opened: in a captured root, opening a device node
 * can have effects (a watchdog, a tape) and /dev/zero never ends.
 */
export function readWhole(hostPath: string, maxBytes = MAX_PROC_TABLE_BYTES): { buf: Buffer } | { code: string } {
  let fd: number;
  try {
    const st = fs.lstatSync(hostPath);
    if (!st.isFile()) return { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' };
    if (st.size > maxBytes) return { code: 'EFBIG' };
    fd = fs.openSync(hostPath, O_READ);
  } catch (e) {
    return { code: errCode(e) };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return { code: 'EINVAL' };
    let buf = Buffer.allocUnsafe(1 << 20);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) return { code: 'EFBIG' };
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, maxBytes + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const k = fs.readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
    }
    if (n > maxBytes) return { code: 'EFBIG' };
    return { buf: buf.subarray(0, n) };
  } catch (e) {
    return { code: errCode(e) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Read a small file into `scratch` (truncated at its length); returns the byte count or -1. One open, reads
 * until EOF, one close: this runs several times per owning process, so it avoids readFileSync's fstat.
 * `regularOnly` (a captured root, not the kernel's /proc): lstat first and open nothing but a regular file, so a
 * FIFO or device node planted as /proc/PID/status is never opened.
 */
export function readSmall(hostPath: string, scratch: Buffer, regularOnly = false): number {
  let fd: number;
  try {
    if (regularOnly && !fs.lstatSync(hostPath).isFile()) return -1;
    fd = fs.openSync(hostPath, O_READ);
  } catch {
    return -1;
  }
  try {
    let n = 0;
    while (n < scratch.length) {
      const k = fs.readSync(fd, scratch, n, scratch.length - n, null);
      if (k === 0) break;
      n += k;
    }
    return n;
  } catch {
    return -1;
  } finally {
    fs.closeSync(fd);
  }
}

export function errCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

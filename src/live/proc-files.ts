import * as fs from 'node:fs';

const O_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * Read a whole file whose size stat() cannot tell (procfs reports 0). Returns undefined when it cannot be read;
 * `code` says why (ENOENT, EACCES, ...). O_NOFOLLOW: callers resolve symlinks inside the root first.
 */
export function readWhole(hostPath: string): { buf: Buffer } | { code: string } {
  let fd: number;
  try {
    fd = fs.openSync(hostPath, O_READ);
  } catch (e) {
    return { code: errCode(e) };
  }
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const k = fs.readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
    }
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
 */
export function readSmall(hostPath: string, scratch: Buffer): number {
  let fd: number;
  try {
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

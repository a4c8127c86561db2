import { writeSync } from 'node:fs';

/**
 * A writer for fd 1 or 2 that writes each string at once with write(2). process.stdout would do the same for a
 * file, a pipe or a terminal on Linux, but creating it loads Node's stream modules: ~5 ms of a 60 ms
 * `bindcheck sockets`. A non-blocking descriptor whose reader is slow (EAGAIN) is waited on; a reader that went
 * away (EPIPE: `bindcheck sockets | head`) ends the output quietly, as it does for ss.
 */
export function syncWriter(fd: number): (s: string) => void {
  let closed = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return (s) => {
    if (closed || s.length === 0) return;
    const buf = Buffer.from(s, 'utf8');
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off, buf.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(pause, 0, 0, 2);
          continue;
        }
        if (code === 'EPIPE') {
          closed = true;
          return;
        }
        throw e;
      }
    }
  };
}

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const writer = path.join(repo, 'dist', 'text', 'sync-writer.js');

/** A child that writes `mb` MiB of numbered lines through syncWriter(1), then says on stderr that it finished. */
function script(mb: number): string {
  return `import { syncWriter } from ${JSON.stringify(writer)};
const out = syncWriter(1);
const line = 'x'.repeat(1023) + '\\n';
for (let i = 0; i < ${mb} * 1024; i++) out(line);
process.stderr.write('done\\n');`;
}

describe('syncWriter', () => {
  it('writes everything to a slow pipe reader, in order', () => {
    const r = spawnSync('sh', ['-c', `"$0" --input-type=module -e "$1" | (sleep 0.3; wc -c)`, process.execPath, script(4)], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(String(4 * 1024 * 1024));
    expect(r.stderr).toBe('done\n');
  });

  it('ends quietly when the reader goes away (EPIPE), as `bindcheck sockets | head` needs', () => {
    const r = spawnSync('sh', ['-c', `"$0" --input-type=module -e "$1" | head -c 10 >/dev/null`, process.execPath, script(8)], { encoding: 'utf8' });
    expect(r.stderr).toBe('done\n');
    expect(r.stdout).not.toContain('Error');
  });

  it('waits out EAGAIN on a non-blocking descriptor instead of failing', () => {
    // The child's stdout is the write end of a pipe with O_NONBLOCK set, and the reader sleeps before draining: the
    // 64 KiB pipe fills and write(2) says EAGAIN until it does.
    const py = `import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([sys.argv[1], "--input-type=module", "-e", sys.argv[2]], stdout=w)
os.close(w)
time.sleep(0.3)
n = 0
while True:
    b = os.read(r, 1 << 16)
    if not b:
        break
    n += len(b)
print(n, p.wait())`;
    const r = spawnSync('python3', ['-c', py, process.execPath, script(2)], { encoding: 'utf8' });
    expect(r.stderr).toBe('done\n');
    expect(r.stdout.trim()).toBe(`${2 * 1024 * 1024} 0`);
  });
});

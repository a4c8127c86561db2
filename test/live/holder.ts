import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Holder {
  /** The holder's pid (unshare execs it in place): /proc/PID/net/tcp is its namespace's table. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * The benchmark's socket holder (bench/live-scan/holder.c), compiled and started in its own network namespace
 * with `args` (e.g. `prefork 60 8 2`); resolves once it says ready. stop() ends it and its children.
 */
export async function startHolder(args: (string | number)[], readyWithinMs = 30_000): Promise<Holder> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-holder-'));
  const bin = path.join(tmp, 'holder');
  execFileSync('cc', ['-O2', '-o', bin, path.join(repo, 'bench', 'live-scan', 'holder.c')]);
  const h = spawn('unshare', ['-n', '--', 'sh', '-c', `ip link set lo up && exec "$0" ${args.join(' ')}`, bin], { stdio: ['pipe', 'pipe', 'inherit'] });
  const stop = async (): Promise<void> => {
    if (h.exitCode === null && h.signalCode === null) {
      const gone = new Promise((r) => h.once('exit', r));
      h.kill('SIGTERM');
      await gone;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`holder not ready in ${readyWithinMs / 1000} s`)), readyWithinMs);
      h.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      h.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: h.pid as number, stop };
}

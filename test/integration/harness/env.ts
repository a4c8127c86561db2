/**
 * Whether this machine can run real daemons as oracles: root, unshare with net+mount+pid namespaces, strace,
 * ip, ss, nsenter, python3, plus whatever binaries a suite names. Suites skip (with the reason printed) when
 * something is missing — except under CI (`process.env.CI` set), where a missing prerequisite is a failure,
 * because CI must actually run them (.ci/install-daemons.sh installs everything).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface OracleEnv {
  ok: boolean;
  reasons: string[];
  /** true when the suite must fail rather than skip. */
  required: boolean;
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

export function checkOracleEnv(binaries: string[] = [], files: string[] = []): OracleEnv {
  const reasons: string[] = [];
  if (process.platform !== 'linux') reasons.push(`platform is ${process.platform}, not linux`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) reasons.push('not running as root');
  for (const t of ['unshare', 'nsenter', 'strace', 'ip', 'ss', 'mount', 'mknod']) {
    if (!onPath(t)) reasons.push(`${t} not found`);
  }
  if (!onPath('python3')) reasons.push('python3 not found');
  for (const b of binaries) {
    try {
      accessSync(b, constants.X_OK);
    } catch {
      reasons.push(`${b} not installed (run .ci/install-daemons.sh)`);
    }
  }
  for (const f of files) {
    try {
      accessSync(f, constants.R_OK);
    } catch {
      reasons.push(`${f} missing (run .ci/install-daemons.sh)`);
    }
  }
  if (reasons.length === 0) {
    try {
      execFileSync('unshare', ['--net', '--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'true'], {
        stdio: 'pipe',
        timeout: 10_000,
      });
    } catch (e) {
      reasons.push(`unshare --net --mount --pid does not work here: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { ok: reasons.length === 0, reasons, required: Boolean(process.env.CI) };
}

/**
 * systemd-resolved specifics for the integration suite. The binary is Debian 12's, unpacked (not installed: its
 * postinst would replace /etc/resolv.conf) by .ci/install-resolved.sh into a private directory, and run with
 * LD_LIBRARY_PATH at the libsystemd-shared unpacked next to it. Inside the namespace resolved needs:
 * - a `systemd-resolve` user (it drops to it when started as root): a copy of /etc/passwd and /etc/group with one;
 * - /run/systemd to exist (it creates /run/systemd/resolve itself, non-recursively): a private /run;
 * - nothing else — without a system bus it waits for one (sd-bus "watch bind") and runs on.
 * It logs to syslog (SYSTEMD_LOG_TARGET=syslog) and so into the harness's /dev/log receiver.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const RESOLVED_ROOT = '/var/cache/bindcheck-roots/resolved';
export const RESOLVED_BINARY = `${RESOLVED_ROOT}/lib/systemd/systemd-resolved`;
export const RESOLVED_LIBDIR = `${RESOLVED_ROOT}/usr/lib/x86_64-linux-gnu/systemd`;
export const RESOLVED_SHARED_LIB = `${RESOLVED_LIBDIR}/libsystemd-shared-252.so`;
/** A uid/gid no Debian account uses. */
const RESOLVE_UID = 64991;

/** Host directories the scenario's own copies are bind-mounted over (they exist on any systemd host). */
export const RESOLVED_MOUNTS = ['/etc/systemd', '/usr/lib/systemd', '/run'] as const;

export function resolvedEnv(): Record<string, string> {
  return { LD_LIBRARY_PATH: RESOLVED_LIBDIR, SYSTEMD_LOG_TARGET: 'syslog', SYSTEMD_LOG_LEVEL: 'info' };
}

/** passwd and group with a systemd-resolve account, written into `dir`. */
export function writeAccounts(dir: string): { passwd: string; group: string } {
  mkdirSync(dir, { recursive: true });
  const strip = (t: string) => t.split('\n').filter((l) => l !== '' && !l.startsWith('systemd-resolve:')).join('\n') + '\n';
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(passwd, strip(readFileSync('/etc/passwd', 'utf8')) + `systemd-resolve:x:${RESOLVE_UID}:${RESOLVE_UID}:systemd Resolver:/:/usr/sbin/nologin\n`);
  writeFileSync(group, strip(readFileSync('/etc/group', 'utf8')) + `systemd-resolve:x:${RESOLVE_UID}:\n`);
  return { passwd, group };
}

/** The scenario root: /etc/systemd/resolved.conf (+ drop-ins), /usr/lib/systemd, /run/systemd. */
export function writeResolvedRoot(root: string, files: Record<string, string>): void {
  for (const d of ['etc/systemd', 'usr/lib/systemd', 'run/systemd']) mkdirSync(join(root, d), { recursive: true });
  // Merged /usr, as on Debian 12: /lib is a link to usr/lib.
  if (!existsSync(join(root, 'lib'))) symlinkSync('usr/lib', join(root, 'lib'));
  // The binary's presence is what tells the reader resolved is installed in this root.
  writeFileSync(join(root, 'usr/lib/systemd/systemd-resolved'), '');
  for (const [path, text] of Object.entries(files)) {
    const p = join(root, path);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
  }
}

/**
 * The start is over once resolved has said what it did with its stub (it logs nothing on success at info level,
 * so: the varlink socket it binds right after the stub and the extras, or its exit).
 */
export function resolvedStartDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || /io\.systemd\.Resolve\.Monitor"/.test(s.traceText);
}

/**
 * OpenSSH sshd specifics for the integration suite: where Debian puts it, an appliance root per scenario, a
 * throwaway host key, and when sshd's start is over.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const SSHD_BINARY = '/usr/sbin/sshd';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';
export const DEBIAN_SSHD_CONFIG = '/etc/ssh/sshd_config';
/** Inside the namespace the root's /etc/ssh is bind-mounted over the host's, so the key lives there too. */
export const HOST_KEY = '/etc/ssh/bindcheck_test_host_ed25519_key';

/** The base of every hand-written scenario: no PAM (nothing to do with sockets), the rest sshd's defaults. */
export const BASE_CONF = ['# bindcheck integration scenario', 'UsePAM no'];

/** An appliance root with etc/ssh: Debian's installed sshd_config (and sshd_config.d) or the given lines. */
export function makeRoot(root: string, conf: { lines?: string[]; debian?: boolean; files?: Record<string, string[]>; unitExecStart?: string }): void {
  const etc = join(root, 'etc', 'ssh');
  mkdirSync(join(etc, 'sshd_config.d'), { recursive: true });
  if (conf.debian) {
    cpSync(DEBIAN_SSHD_CONFIG, join(etc, 'sshd_config'));
    if (existsSync('/etc/ssh/sshd_config.d')) cpSync('/etc/ssh/sshd_config.d', join(etc, 'sshd_config.d'), { recursive: true });
  } else writeFileSync(join(etc, 'sshd_config'), [...BASE_CONF, ...(conf.lines ?? [])].join('\n') + '\n');
  for (const [rel, lines] of Object.entries(conf.files ?? {})) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, lines.join('\n') + '\n');
  }
  if (conf.unitExecStart !== undefined) {
    const dir = join(root, 'lib', 'systemd', 'system');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ssh.service'), ['[Unit]', 'Description=OpenBSD Secure Shell server', '', '[Service]', `ExecStart=${conf.unitExecStart}`, 'Type=notify', ''].join('\n'));
  }
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'bindcheck-test', '-f', join(root, HOST_KEY)], { stdio: 'pipe' });
}

/** sshd's start is over once it logged that it listens (then quietMs lets the rest bind), a fatal, or exited. */
export function sshdStartDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || s.logLines.some((l) => /Server listening on|Cannot bind any address|fatal:|Bind to port/.test(l));
}

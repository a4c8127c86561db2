/**
 * sendmail specifics for the integration suite: where Debian puts the binary, how to make a full working
 * sendmail.cf from Debian's sendmail.mc with m4, and how to swap its DaemonPortOptions lines.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Snapshot } from '../harness/namespace.js';
import { allSettled, boundNetSockets, firstAttempt, socketsFromTrace } from '../harness/strace.js';

/** Debian 12 installs the MTA as /usr/sbin/sendmail-mta → /etc/alternatives → /usr/libexec/sendmail/sendmail. */
export const SENDMAIL_CANDIDATES = ['/usr/sbin/sendmail-mta', '/usr/libexec/sendmail/sendmail', '/usr/lib/sm.bin/sendmail'];
export const CF_M4 = '/usr/share/sendmail/cf/m4/cf.m4';

export function sendmailBinary(): string | undefined {
  return SENDMAIL_CANDIDATES.find((p) => existsSync(p));
}

/**
 * Debian bookworm's /etc/mail/sendmail.mc (sendmail 8.17.1.9-2+deb12u2) minus its DAEMON_OPTIONS lines and the two
 * site includes (`/etc/mail/m4/dialup.m4`, `provider.m4`, empty stubs). Kept in the test so the base config does
 * not depend on whatever the host's /etc/mail/sendmail.mc has become.
 */
export const DEBIAN_MC_WITHOUT_DAEMONS = `divert(-1)dnl
divert(0)dnl
define(\`_USE_ETC_MAIL_')dnl
include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`bindcheck integration: Debian sendmail.mc without DAEMON_OPTIONS')
OSTYPE(\`debian')dnl
DOMAIN(\`debian-mta')dnl
undefine(\`confHOST_STATUS_DIRECTORY')dnl
FEATURE(\`no_default_msa')dnl
define(\`confPRIVACY_FLAGS',dnl
\`needmailhelo,needexpnhelo,needvrfyhelo,restrictqrun,restrictexpand,nobodyreturn,authwarnings')dnl
define(\`confCONNECTION_RATE_THROTTLE', \`15')dnl
define(\`confCONNECTION_RATE_WINDOW_SIZE',\`10m')dnl
FEATURE(\`use_cw_file')dnl
FEATURE(\`access_db', , \`skip')dnl
FEATURE(\`greet_pause', \`1000')dnl 1 seconds
FEATURE(\`delay_checks', \`friend', \`n')dnl
define(\`confBAD_RCPT_THROTTLE',\`3')dnl
FEATURE(\`conncontrol', \`nodelay', \`terminate')dnl
FEATURE(\`ratecontrol', \`nodelay', \`terminate')dnl
MAILER_DEFINITIONS
MAILER(\`local')dnl
MAILER(\`smtp')dnl
`;

/** m4 the mc into a full sendmail.cf (what sendmailconfig / /etc/mail/Makefile would do, minus the databases). */
export function buildBaseCf(mc = DEBIAN_MC_WITHOUT_DAEMONS): string {
  return execFileSync('m4', ['-'], { input: mc, encoding: 'utf8', cwd: '/usr/share/sendmail/cf' });
}

/**
 * Replace the cf's `O DaemonPortOptions=` line(s) (cf.m4 emits one, `O DaemonPortOptions=Name=MTA`, when the mc
 * has no DAEMON_OPTIONS) with `lines`, at the same place. Returns the text and the 1-based line number of each
 * inserted line.
 */
export function withDaemonPortOptions(baseCf: string, lines: string[]): { text: string; lineNumbers: number[] } {
  const src = baseCf.split('\n');
  const at = src.findIndex((l) => l.startsWith('O DaemonPortOptions='));
  if (at < 0) throw new Error('base sendmail.cf has no O DaemonPortOptions= line');
  const rest = src.filter((l, i) => i === at || !l.startsWith('O DaemonPortOptions='));
  const idx = rest.findIndex((l) => l.startsWith('O DaemonPortOptions='));
  const out = [...rest.slice(0, idx), ...lines, ...rest.slice(idx + 1)];
  return { text: out.join('\n'), lineNumbers: lines.map((_, i) => idx + 1 + i) };
}

/**
 * sendmail's first start attempt is over when every net socket it bound has a final answer (failed bind,
 * listen() result, or close) — it binds every daemon socket, then listens on each; failures are retried 5 s
 * later, so a retry also means the first attempt is over.
 */
export function sendmailFirstAttemptDone(s: Snapshot): boolean {
  const attempts = boundNetSockets(socketsFromTrace(s.trace));
  return allSettled(firstAttempt(attempts)) || firstAttempt(attempts).length < attempts.length;
}

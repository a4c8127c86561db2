/**
 * Postfix specifics for the oracle: its separate Debian root (MTAs conflict as packages; .ci/install-postfix.sh),
 * and the command that runs the real master(8) from that root, inside the harness's namespace.
 *
 * Each scenario gets its own overlay of the root (lower: the shared root, read-only; upper: a tmpfs private to the
 * scenario's mount namespace), so scenarios run concurrently without touching each other or the root. The
 * namespace's /dev (a tmpfs with the harness's syslog receiver at /dev/log) is bind-mounted into the overlay, so
 * master's syslog lines reach the receiver. `postfix check` runs first, untraced; then the real master runs in
 * the foreground (`master -d`) under the host's strace.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Snapshot } from '../harness/namespace.js';

export const POSTFIX_ROOT = process.env.BINDCHECK_POSTFIX_ROOT ?? '/var/cache/bindcheck-roots/postfix';
export const POSTFIX_MASTER = '/usr/lib/postfix/sbin/master';

export function postfixRootReady(): string[] {
  const reasons: string[] = [];
  for (const p of [POSTFIX_MASTER, '/usr/sbin/postfix', '/etc/postfix/main.cf', '/etc/postfix/master.cf', '/etc/services']) {
    if (!existsSync(POSTFIX_ROOT + p)) reasons.push(`${POSTFIX_ROOT}${p} missing (run .ci/install-postfix.sh)`);
  }
  return reasons;
}

export function debianMainCf(): string {
  return readFileSync(`${POSTFIX_ROOT}/etc/postfix/main.cf`, 'utf8');
}

export function debianMasterCf(): string {
  return readFileSync(`${POSTFIX_ROOT}/etc/postfix/master.cf`, 'utf8');
}

/** main.cf with parameters set: an existing `name =` line is replaced in place, others are appended. */
export function withParams(mainCf: string, params: Record<string, string>): string {
  const lines = mainCf.split('\n');
  const rest = { ...params };
  for (let i = 0; i < lines.length; i++) {
    const m = /^([A-Za-z0-9_]+)\s*=/.exec(lines[i] as string);
    if (m && (m[1] as string) in rest) {
      lines[i] = `${m[1]} = ${rest[m[1] as string]}`;
      delete rest[m[1] as string];
    }
  }
  let text = lines.join('\n');
  if (!text.endsWith('\n')) text += '\n';
  for (const [k, v] of Object.entries(rest)) text += `${k} = ${v}\n`;
  return text;
}

/** Debian's master.cf with its `smtp inet` line replaced by `inetLines` (line numbers of those lines returned). */
export function withInetServices(masterCf: string, inetLines: string[]): { text: string; lineNumbers: number[] } {
  const lines = masterCf.split('\n');
  const at = lines.findIndex((l) => /^smtp\s+inet\s/.test(l));
  if (at < 0) throw new Error('Debian master.cf has no smtp inet line');
  lines.splice(at, 1, ...inetLines);
  return { text: lines.join('\n'), lineNumbers: inetLines.map((_, i) => at + 1 + i) };
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell command the harness runs in the namespace (after lo, addresses, /dev and port holders are set up).
 * `dropCapNetBindService`: master runs with CAP_NET_BIND_SERVICE dropped from its bounding set (setpriv between
 * strace and chroot, so master and everything it forks keep only that set), as systemd starts it under a unit with
 * `CapabilityBoundingSet=~CAP_NET_BIND_SERVICE`. `postfix check` is run as before (the administrator's own shell).
 */
export function postfixCommand(workDir: string, configDir: string, opts: { dropCapNetBindService?: boolean } = {}): string[] {
  const W = workDir;
  const M = `${W}/m`;
  const script = [
    'set -e',
    `mkdir -p ${q(`${W}/ov`)} ${q(M)}`,
    `mount -t tmpfs tmpfs ${q(`${W}/ov`)}`,
    `mkdir -p ${q(`${W}/ov/u`)} ${q(`${W}/ov/w`)}`,
    `mount -t overlay overlay -o ${q(`lowerdir=${POSTFIX_ROOT},upperdir=${W}/ov/u,workdir=${W}/ov/w`)} ${q(M)}`,
    `mount -t proc proc ${q(`${M}/proc`)}`,
    `mount --rbind /dev ${q(`${M}/dev`)}`,
    `cp ${q(`${configDir}/main.cf`)} ${q(`${configDir}/master.cf`)} ${q(`${M}/etc/postfix/`)}`,
    `cp /etc/hosts ${q(`${M}/etc/hosts`)}`,
    'set +e',
    // `postfix check` as the administrator would run it: its verdict is part of the observation.
    `chroot ${q(M)} /usr/sbin/postfix check > ${q(`${W}/check.out`)} 2>&1; echo $? > ${q(`${W}/check.rc`)}`,
    `exec strace -f -tt -e trace=socket,bind,listen,setsockopt,close -o ${q(`${W}/trace.txt`)} ${
      opts.dropCapNetBindService ? 'setpriv --bounding-set=-net_bind_service -- ' : ''
    }chroot ${q(M)} ${POSTFIX_MASTER} -d`,
  ].join('\n');
  return ['sh', '-c', script];
}

/** master's first start is over: it exited (fatal), or it logged "daemon started" (every listener is set up). */
export function postfixFirstAttemptDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || s.logLines.some((l) => /postfix\/master\[\d+\]: daemon started/.test(l));
}

/** `postfix check`'s exit status and output, once it has run. */
export function postfixCheckResult(workDir: string): { rc: number | undefined; output: string } {
  let rc: number | undefined;
  let output = '';
  try {
    rc = Number(readFileSync(`${workDir}/check.rc`, 'utf8').trim());
  } catch {
    /* not yet */
  }
  try {
    output = readFileSync(`${workDir}/check.out`, 'utf8');
  } catch {
    /* none */
  }
  return { rc, output };
}

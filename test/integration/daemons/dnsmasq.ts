/**
 * dnsmasq specifics for the integration suite: where Debian puts it, an appliance root per scenario, and when
 * dnsmasq's start is over.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const DNSMASQ_BINARY = '/usr/sbin/dnsmasq';
/** The package `dnsmasq` installs these on the host; each scenario bind-mounts its own over them in the namespace. */
export const DEBIAN_CONF = '/etc/dnsmasq.conf';
export const DEBIAN_CONF_DIR = '/etc/dnsmasq.d';

/**
 * An appliance root: etc/dnsmasq.conf with the given lines, etc/dnsmasq.d with the given files, and a dnsmasq.service
 * whose ExecStart is the argv the suite runs (so bindcheck reads the same command line dnsmasq gets).
 */
export function makeRoot(root: string, conf: { lines: string[]; files?: Record<string, string[]>; execStart: string[] }): void {
  mkdirSync(join(root, 'etc', 'dnsmasq.d'), { recursive: true });
  writeFileSync(join(root, 'etc', 'dnsmasq.conf'), ['# bindcheck integration scenario', ...conf.lines].join('\n') + '\n');
  for (const [rel, lines] of Object.entries(conf.files ?? {})) {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, lines.join('\n') + '\n');
  }
  const dir = join(root, 'lib', 'systemd', 'system');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'dnsmasq.service'),
    ['[Unit]', 'Description=dnsmasq - A lightweight DHCP and caching DNS server', '', '[Service]', `ExecStart=${conf.execStart.join(' ')}`, ''].join('\n'),
  );
}

/** dnsmasq's start is over once it logged its sign-on ("started, version …") or exited (die() logs, then exits). */
export function dnsmasqStartDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || s.logLines.some((l) => /started, version|FAILED to start up/.test(l));
}

/**
 * Dovecot specifics for the integration suite: where Debian puts it, a minimal config each scenario extends, and
 * when the master's start is over.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const DOVECOT_BINARY = '/usr/sbin/dovecot';
export const DOVECONF_BINARY = '/usr/bin/doveconf';
export const DEBIAN_CONFIG_DIR = '/etc/dovecot';
export const DEBIAN_PROTOCOLS_DIR = '/usr/share/dovecot/protocols.d';

/**
 * The base of every hand-written scenario: no TLS (so ssl listeners are skipped and no certificate is needed),
 * syslog logging (the default; the harness's receiver at /dev/log collects it). Scenario lines follow it.
 */
export const BASE_CONF = ['# bindcheck integration scenario', 'ssl = no'];

/** A throwaway self-signed certificate where Debian's 10-ssl.conf expects one. */
export function makeThrowawayCert(dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'dovecot.key'), '-out', join(dir, 'dovecot.pem'), '-days', '2', '-subj', '/CN=bindcheck-test'],
    { stdio: 'pipe' },
  );
}

/** Copy Debian's installed /etc/dovecot and protocols.d into an appliance root (as the package installed them). */
export function copyDebianConfig(root: string): void {
  cpSync(DEBIAN_CONFIG_DIR, join(root, 'etc', 'dovecot'), { recursive: true });
  cpSync(DEBIAN_PROTOCOLS_DIR, join(root, 'usr', 'share', 'dovecot', 'protocols.d'), { recursive: true });
}

export function writeConf(root: string, lines: string[]): string {
  const dir = join(root, 'etc', 'dovecot');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'dovecot.conf');
  writeFileSync(p, [...BASE_CONF, ...lines].join('\n') + '\n');
  return p;
}

/**
 * The master's start is over once it logged "starting up" (main_init runs after services_listen() succeeded),
 * or "Failed to start listeners" / any Fatal, or the command exited.
 */
export function dovecotStartDone(s: Snapshot): boolean {
  return (
    s.commandExit !== undefined ||
    s.logLines.some((l) => /starting up|Fatal:/.test(l))
  );
}

export function dovecotInstalled(): boolean {
  return existsSync(DOVECOT_BINARY);
}

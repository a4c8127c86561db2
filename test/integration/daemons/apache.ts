/**
 * Apache httpd (Debian's apache2) specifics for the integration suite: where Debian puts it, how a scenario root
 * is made from the installed /etc/apache2, and the command that starts it as apache2.service would (envvars sourced).
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const APACHE_BINARY = '/usr/sbin/apache2';
export const DEBIAN_CONFIG_DIR = '/etc/apache2';

/** Copy Debian's installed /etc/apache2 into a root; `ports` replaces ports.conf when given. */
export function makeApacheRoot(root: string, ports?: string[]): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  cpSync(DEBIAN_CONFIG_DIR, join(root, 'etc', 'apache2'), { recursive: true });
  if (ports) writeFileSync(join(root, 'etc', 'apache2', 'ports.conf'), ports.join('\n') + '\n');
}

/**
 * `apache2 -X` (one process, foreground) with Debian's envvars sourced, as apache2ctl does. -X runs the same
 * ap_setup_listeners() as the forking MPM, in the one process strace follows.
 */
export const APACHE_COMMAND = ['sh', '-c', '. /etc/apache2/envvars && exec /usr/sbin/apache2 -X -d /etc/apache2 -f /etc/apache2/apache2.conf'];
export const APACHE_CONFIGTEST = ['sh', '-c', '. /etc/apache2/envvars && exec /usr/sbin/apache2 -t -d /etc/apache2 -f /etc/apache2/apache2.conf'];

/** Private dirs apache2 writes to (pid file, lock, logs), so nothing touches the host's. */
export const APACHE_TMPFS = ['/var/run', '/var/log/apache2'];
export const APACHE_MKDIRS = ['/var/run/apache2', '/var/run/lock/apache2'];

export function apacheInstalled(): boolean {
  return existsSync(APACHE_BINARY);
}

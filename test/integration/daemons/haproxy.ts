/**
 * haproxy specifics for the integration suite: where Debian puts it, a small haproxy.cfg each scenario fills in,
 * and when haproxy's start is over.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
export const DEBIAN_CONFIG_DIR = '/etc/haproxy';
/** Directories haproxy writes to (Debian's stats socket, pid files); each is covered by a tmpfs inside the namespace. */
export const HAPROXY_WRITABLE = ['/run'];

/**
 * Foreground, no master-worker (`-db`): protocol_bind_all() runs in this process. With `extra` = ['-Ws'] it runs as
 * Debian's unit starts it: the master binds, then forks a worker and re-executes itself keeping the sockets.
 */
export function haproxyCommand(files: string[], extra: string[] = []): string[] {
  return [HAPROXY_BINARY, ...(extra.includes('-Ws') ? [] : ['-db']), ...extra, ...files.flatMap((f) => ['-f', f])];
}

/** Copy Debian's installed /etc/haproxy into an appliance root. */
export function copyDebianConfig(root: string): void {
  cpSync(DEBIAN_CONFIG_DIR, join(root, 'etc', 'haproxy'), { recursive: true, verbatimSymlinks: true });
}

/** The `defaults` every scenario starts with (haproxy warns about missing timeouts otherwise). */
export const DEFAULTS = ['defaults', '    mode tcp', '    timeout connect 1s', '    timeout client 1s', '    timeout server 1s'];

/** Write files under the root's /etc/haproxy (`haproxy.cfg`, `conf.d/10-x.cfg`…). */
export function writeConfigs(root: string, files: Record<string, string[]>): void {
  for (const [name, lines] of Object.entries(files)) {
    const p = join(root, 'etc', 'haproxy', name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, lines.join('\n') + '\n');
  }
}

/**
 * The start is over once haproxy exited (a failed listener ends it after the whole pass), or it has listened on
 * everything (quietMs lets the pass finish). haproxy makes a single pass: no retries.
 */
export function haproxyStartDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || /listen\(\d+, \d+\)\s+= 0/.test(s.traceText);
}

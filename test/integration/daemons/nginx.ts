/**
 * nginx specifics for the integration suite: where Debian puts it, a minimal nginx.conf each scenario fills in,
 * and when the master's start is over.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../harness/namespace.js';

export const NGINX_BINARY = '/usr/sbin/nginx';
export const DEBIAN_CONFIG_DIR = '/etc/nginx';
export const DEBIAN_MODULES_AVAILABLE = '/usr/share/nginx/modules-available';
export const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';
/** Directories nginx writes to; each is covered by a tmpfs inside the namespace so the host's stay untouched. */
export const NGINX_WRITABLE = ['/var/log/nginx', '/var/lib/nginx', '/run'];

/** The argv the integration suite runs nginx with (foreground, master + workers as under systemd). */
export function nginxCommand(extraGlobal = ''): string[] {
  return [NGINX_BINARY, '-g', `daemon off; master_process on;${extraGlobal}`, '-c', '/etc/nginx/nginx.conf'];
}

/** Copy Debian's installed /etc/nginx (and the module snippets modules-enabled links to) into an appliance root. */
export function copyDebianConfig(root: string): void {
  cpSync(DEBIAN_CONFIG_DIR, join(root, 'etc', 'nginx'), { recursive: true, verbatimSymlinks: true });
  if (existsSync(DEBIAN_MODULES_AVAILABLE)) {
    cpSync(DEBIAN_MODULES_AVAILABLE, join(root, 'usr', 'share', 'nginx', 'modules-available'), { recursive: true });
  }
}

/** A small nginx.conf: `http` lines inside http {}, `stream` lines (if any) inside stream {}. */
export function writeConf(root: string, o: { http?: string[]; stream?: string[]; main?: string[] }): string {
  const dir = join(root, 'etc', 'nginx');
  mkdirSync(dir, { recursive: true });
  const lines = [
    '# bindcheck integration scenario',
    ...(o.stream ? [`load_module ${STREAM_MODULE};`] : []),
    'user www-data;',
    ...(o.main ?? ['worker_processes 1;']),
    'pid /run/nginx.pid;',
    'error_log /var/log/nginx/error.log;',
    'events {',
    '    worker_connections 64;',
    '}',
    'http {',
    '    access_log off;',
    ...(o.http ?? []).map((l) => `    ${l}`),
    '}',
    ...(o.stream ? ['stream {', ...o.stream.map((l) => `    ${l}`), '}'] : []),
  ];
  const p = join(dir, 'nginx.conf');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

/**
 * The start is over once nginx exited, or a bind() failed (the first pass of the retry loop is what bindcheck
 * predicts; the 4 retries 500 ms apart are not the point), or it has listened (quietMs lets the pass finish).
 */
export function nginxStartDone(s: Snapshot): boolean {
  return s.commandExit !== undefined || / = -1 E[A-Z]+ /.test(s.traceText.split('\n').filter((l) => l.includes('bind(')).join('\n')) || /listen\(\d+, \d+\)\s+= 0/.test(s.traceText);
}

import { canonicalAddress, tryCanonicalAddress } from '../../kernel/index.js';
import type { Family } from '../../model/endpoint.js';
import { NGINX_BEHAVIOUR } from './behaviour.js';

/** What ngx_parse_url() (src/core/ngx_inet.c, `u.listen = 1`) makes of a `listen` address. */
export type ListenTarget =
  | { kind: 'inet'; family: Family; address: string; port: number; wildcard: boolean; how: string }
  | { kind: 'host'; host: string; port: number; how: string }
  | { kind: 'unix'; path: string }
  | { kind: 'error'; message: string };

function parsePort(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** ngx_parse_url() for a `listen` argument: `80`, `*:80`, `127.0.0.1`, `[::]:80`, `localhost:8080`, `unix:/path`. */
export function parseListenAddress(url: string): ListenTarget {
  if (url.startsWith('unix:')) return { kind: 'unix', path: url.slice(5) };
  if (url.startsWith('[')) {
    // ngx_parse_inet6_url(): `[addr]` then optional `:port`.
    const close = url.indexOf(']');
    if (close < 0) return { kind: 'error', message: `invalid host in "${url}" of the "listen" directive` };
    const host = url.slice(1, close);
    const rest = url.slice(close + 1);
    let port: number = NGINX_BEHAVIOUR.defaultListenPort;
    if (rest !== '') {
      if (!rest.startsWith(':')) return { kind: 'error', message: `invalid host in "${url}" of the "listen" directive` };
      const p = parsePort(rest.slice(1));
      if (p === undefined) return { kind: 'error', message: `invalid port in "${url}" of the "listen" directive` };
      port = p;
    }
    const a = tryCanonicalAddress(host);
    if (a === undefined || !a.includes(':')) return { kind: 'error', message: `invalid IPv6 address in "${url}" of the "listen" directive` };
    return { kind: 'inet', family: 'inet6', address: a, port, wildcard: a === '::', how: `[${host}]${rest === '' ? ' (no port: 80)' : ''}` };
  }
  if (url.includes('/') || url.includes('?')) return { kind: 'error', message: `invalid host in "${url}" of the "listen" directive` };
  const colon = url.indexOf(':');
  if (colon < 0) {
    // "test value as port only": all digits → INADDR_ANY (IPv4 only).
    if (/^[0-9]+$/.test(url)) {
      const p = parsePort(url);
      if (p === undefined) return { kind: 'error', message: `invalid port in "${url}" of the "listen" directive` };
      return { kind: 'inet', family: 'inet', address: '0.0.0.0', port: p, wildcard: true, how: `port only: the IPv4 wildcard 0.0.0.0` };
    }
    return hostPart(url, NGINX_BEHAVIOUR.defaultListenPort, `${url} (no port: 80)`);
  }
  const host = url.slice(0, colon);
  const p = parsePort(url.slice(colon + 1));
  if (p === undefined) return { kind: 'error', message: `invalid port in "${url}" of the "listen" directive` };
  if (host === '') return { kind: 'error', message: `no host in "${url}" of the "listen" directive` };
  return hostPart(host, p, url);
}

function hostPart(host: string, port: number, how: string): ListenTarget {
  if (host === '*') return { kind: 'inet', family: 'inet', address: '0.0.0.0', port, wildcard: true, how: `${how}: * is the IPv4 wildcard 0.0.0.0` };
  // ngx_inet_addr(): dotted quad only.
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(host)) {
    const a = tryCanonicalAddress(host);
    if (a !== undefined && !a.includes(':')) return { kind: 'inet', family: 'inet', address: a, port, wildcard: a === '0.0.0.0', how };
  }
  return { kind: 'host', host, port, how };
}

/** RFC 6724 default precedence (glibc gai.conf defaults), which getaddrinfo() sorts by. */
export function gaiPrecedence(address: string): number {
  const a = canonicalAddress(address);
  if (!a.includes(':')) return 35; // ::ffff:0:0/96
  if (a === '::1') return 50;
  if (a.startsWith('2002:')) return 30;
  if (/^2001:0?:/.test(a) || a.startsWith('2001::')) return 5;
  if (/^f[cd]/.test(a)) return 3;
  if (/^fec/.test(a) || a.startsWith('3ffe:')) return 1;
  return 40;
}

import { tryCanonicalAddress } from '../../../kernel/index.js';
import type { Family } from '../../../model/index.js';
import { NGINX_BEHAVIOUR } from '../../../readers/nginx/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = NGINX_BEHAVIOUR.patterns;
const ERRNO_BY_NUMBER: Record<string, string> = { '98': 'EADDRINUSE', '99': 'EADDRNOTAVAIL', '13': 'EACCES', '1': 'EPERM', '97': 'EAFNOSUPPORT', '22': 'EINVAL' };

/** nginx logs ls->addr_text, ngx_sock_ntop()'s `0.0.0.0:80` / `[::]:80` (or `unix:/path`). */
function endpointOf(text: string): { address?: string; family?: Family; port?: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return {};
  const a = tryCanonicalAddress(m[1] as string);
  if (a === undefined) return {};
  return { address: a, family: a.includes(':') ? 'inet6' : 'inet', port: Number(m[2]) };
}

function errnoOf(num: string, text: string): string | undefined {
  return ERRNO_BY_NUMBER[num] ?? errnoFromText(text);
}

/**
 * nginx's own lines about its listening sockets (src/core/ngx_connection.c ngx_open_listening_sockets(), 1.22.1),
 * on stderr (`nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)`) and in error_log
 * (`2026/11/27 05:39:49 [emerg] 10#10: bind() to 0.0.0.0:80 failed (98: Address already in use)`):
 * - `bind() to ADDR failed (N: TEXT)` — one per failed bind() per pass (EADDRINUSE is retried 5 times);
 * - `listen() to ADDR, backlog N failed (N: TEXT)`;
 * - `still could not bind()` — the fifth pass failed; nginx exits with status 1.
 * The listener name is the address text nginx logs, which is how bindcheck names nginx's sockets.
 */
export const nginxRecogniser: LogRecogniser = {
  id: 'nginx',
  needles: ['] bind() to ', '] listen() to ', 'still could not bind()', ': bind() to ', ': listen() to '],
  recognise({ message }) {
    let m: RegExpExecArray | null;
    if ((m = P.bindFailed.exec(message))) {
      const r: Recognised = { kind: 'bind-failed', form: 'nginx.bind-failed', daemon: 'nginx', listenerName: m[1] as string, proto: 'tcp', ...endpointOf(m[1] as string) };
      const e = errnoOf(m[2] as string, m[3] as string);
      return e ? { ...r, errno: e } : r;
    }
    if ((m = P.listenFailed.exec(message))) {
      const r: Recognised = { kind: 'listen-failed', form: 'nginx.listen-failed', daemon: 'nginx', listenerName: m[1] as string, proto: 'tcp', ...endpointOf(m[1] as string) };
      const e = errnoOf(m[3] as string, m[4] as string);
      return e ? { ...r, errno: e } : r;
    }
    if (P.stillCouldNot.test(message)) {
      return { kind: 'gave-up', form: 'nginx.still-could-not-bind', daemon: 'nginx', exitStatus: NGINX_BEHAVIOUR.retry.exitStatus };
    }
    return null;
  },
};

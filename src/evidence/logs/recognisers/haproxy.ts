import { tryCanonicalAddress } from '../../../kernel/index.js';
import { formatEndpoint, type Family } from '../../../model/index.js';
import { HAPROXY_BEHAVIOUR } from '../../../readers/haproxy/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = HAPROXY_BEHAVIOUR.patterns;

/** addr_to_str() text: `0.0.0.0`, `::`, `2001:db8::99` (never bracketed). */
function endpointOf(addr: string, port: string): { address?: string; family?: Family; port?: number } {
  const a = tryCanonicalAddress(addr);
  if (a === undefined) return { port: Number(port) };
  return { address: a, family: a.includes(':') ? 'inet6' : 'inet', port: Number(port) };
}

/** The reader's name for the socket: `frontend web 0.0.0.0:80`, `proxy stats [::]:9000`. */
function listenerName(type: string, proxy: string, e: { address?: string; port?: number }): string | undefined {
  if (e.address === undefined || e.port === undefined) return undefined;
  return `${type} ${proxy} ${formatEndpoint({ address: e.address, port: e.port })}`;
}

/**
 * haproxy's own lines about its listeners (2.6: src/protocol.c protocol_bind_all(), src/haproxy.c main()), written
 * with ha_alert() to stderr — the journal under systemd, `haproxy[PID]: [ALERT]    (PID) : …`:
 * - `Binding [FILE:LINE] for frontend NAME: cannot bind socket (STRERROR) for [ADDR:PORT]` — one per failed bind(),
 *   every listener is tried;
 * - `Starting [FILE:LINE] for frontend NAME: cannot listen to socket for [ADDR:PORT]`;
 * - `[haproxy.main()] Some protocols failed to start their listeners! Exiting.` — exit status 1.
 * The listener name is the reader's (`frontend NAME ADDR:PORT`), so `why` ties the line to the bind line.
 */
export const haproxyRecogniser: LogRecogniser = {
  id: 'haproxy',
  needles: ['Binding [', 'Starting [', 'failed to start their listeners'],
  recognise({ message }) {
    let m: RegExpExecArray | null;
    if ((m = P.bindFailed.exec(message))) {
      const e = endpointOf(m[6] as string, m[7] as string);
      const r: Recognised = { kind: 'bind-failed', form: 'haproxy.bind-failed', daemon: 'haproxy', proto: 'tcp', ...e };
      const name = listenerName(m[3] as string, m[4] as string, e);
      if (name !== undefined) r.listenerName = name;
      const errno = errnoFromText(m[5] as string);
      return errno ? { ...r, errno } : r;
    }
    if ((m = P.listenFailed.exec(message))) {
      const e = endpointOf(m[5] as string, m[6] as string);
      const r: Recognised = { kind: 'listen-failed', form: 'haproxy.listen-failed', daemon: 'haproxy', proto: 'tcp', ...e };
      const name = listenerName(m[3] as string, m[4] as string, e);
      if (name !== undefined) r.listenerName = name;
      return r;
    }
    if (P.gaveUp.test(message)) return { kind: 'gave-up', form: 'haproxy.gave-up', daemon: 'haproxy', exitStatus: HAPROXY_BEHAVIOUR.exitStatus };
    return null;
  },
};

import { tryCanonicalAddress } from '../../../kernel/index.js';
import type { Proto } from '../../../model/index.js';
import { COMPOSE_BEHAVIOUR } from '../../../readers/compose/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = COMPOSE_BEHAVIOUR.patterns;

function endpoint(addressText: string, port: string): Pick<Recognised, 'address' | 'family' | 'port'> {
  const a = tryCanonicalAddress(addressText.replace(/^\[|\]$/g, ''));
  const out: Pick<Recognised, 'address' | 'family' | 'port'> = { port: Number(port) };
  if (a !== undefined) {
    out.address = a;
    out.family = a.includes(':') ? 'inet6' : 'inet';
  }
  return out;
}

/**
 * Docker's port-publishing failures (moby 20.10.24), as dockerd logs them and `docker compose up` / `docker run`
 * print them (`Error response from daemon: driver failed programming external connectivity on endpoint
 * shop-web-1 (3f…): …`):
 * - `Bind for 0.0.0.0:8080 failed: port is already allocated` — dockerd's own port allocator refused: another
 *   container of the same dockerd already has that host IP, protocol and port. The kernel was never asked.
 * - `Error starting userland proxy: listen tcp4 0.0.0.0:8080: bind: address already in use` — docker-proxy's bind()
 *   failed (Go's *net.OpError, sent back on its status pipe); without the userland proxy dockerd's own placeholder
 *   listener fails with the same `listen tcp4 …: bind: …` text, unwrapped.
 * The endpoint (container) name, when the line has one, becomes the listener name.
 */
export const dockerRecogniser: LogRecogniser = {
  id: 'docker',
  needles: ['port is already allocated', 'Error starting userland proxy', 'programming external connectivity'],
  recognise({ message }) {
    const msg = message.trimEnd();
    const ep = P.endpoint.exec(msg);
    const named = ep ? { listenerName: ep[1] as string } : {};
    let m: RegExpExecArray | null;
    if ((m = P.alreadyAllocated.exec(msg))) {
      return { kind: 'socket-problem', form: 'docker.port-already-allocated', daemon: 'docker', ...named, ...endpoint(m[1] as string, m[2] as string) };
    }
    if ((m = P.listenFailed.exec(msg))) {
      const r: Recognised = {
        kind: 'bind-failed',
        form: m[1] ? 'docker.userland-proxy' : 'docker.listen',
        daemon: 'docker',
        ...named,
        ...(m[2] !== 'sctp' ? { proto: m[2] as Proto } : {}),
        ...endpoint(m[4] as string, m[5] as string),
      };
      const errno = errnoFromText(m[6] as string);
      return errno ? { ...r, errno } : r;
    }
    return null;
  },
};

import { tryCanonicalAddress } from '../../../kernel/index.js';
import type { Family } from '../../../model/index.js';
import { DOVECOT_BEHAVIOUR } from '../../../readers/dovecot/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = DOVECOT_BEHAVIOUR.patterns;

/**
 * The address token dovecot logs is the config's own text (service.c keeps `l->inet_address`): `*` is 0.0.0.0,
 * `::` and `[::]` the IPv6 any address, anything else an address literal (or a host name, kept out).
 */
function endpointOf(token: string): { address?: string; family?: Family } {
  const t = token.trim();
  if (t === '*') return { address: '0.0.0.0', family: 'inet' };
  if (t === '::' || t === '[::]') return { address: '::', family: 'inet6' };
  const a = tryCanonicalAddress(t);
  if (a === undefined) return {};
  return { address: a, family: a.includes(':') ? 'inet6' : 'inet' };
}

function withErrno(r: Recognised, text: string | undefined): Recognised {
  const errno = text === undefined ? undefined : errnoFromText(text);
  return errno ? { ...r, errno } : r;
}

/**
 * Dovecot master's lines about its inet listeners (dovecot 2.3, observed on Debian 12 through syslog):
 * - service-listen.c: `service(imap-login): listen(*, 143) failed: Address already in use` — net_listen_full()
 *   failed, in bind() or listen() (the call is not named; EADDRINUSE is almost always bind());
 * - net.c: `bind(192.0.2.99, 143) failed: Cannot assign requested address` — bind() failed with an errno other
 *   than EADDRINUSE (logged just before the service line);
 * - main.c: `Fatal: Failed to start listeners` — the master exits with status 89.
 * The listener name dovecot logs is the service (`imap-login`); bindcheck names dovecot's sockets the same way.
 */
export const dovecotRecogniser: LogRecogniser = {
  id: 'dovecot',
  needles: ['service(', 'bind(', 'Failed to start listeners'],
  recognise({ message, program }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = P.listenFailed.exec(msg))) {
      const ep = endpointOf(m[2] as string);
      return withErrno(
        { kind: 'bind-error', form: 'dovecot.listen-failed', daemon: 'dovecot', listenerName: m[1] as string, proto: 'tcp', ...ep, port: Number(m[3]) },
        m[4],
      );
    }
    if (P.fatal.test(msg)) {
      return { kind: 'gave-up', form: 'dovecot.failed-to-start-listeners', daemon: 'dovecot', exitStatus: DOVECOT_BEHAVIOUR.exitStatus };
    }
    // net.c's own line has no service in it; take it only from dovecot (its master logs as "dovecot: master: …").
    if ((m = P.bindFailed.exec(msg)) && (/\bmaster: /.test(msg) || program === 'dovecot')) {
      const ep = endpointOf(m[1] as string);
      return withErrno({ kind: 'bind-failed', form: 'dovecot.bind-failed', daemon: 'dovecot', proto: 'tcp', ...ep, port: Number(m[2]) }, m[3]);
    }
    return null;
  },
};

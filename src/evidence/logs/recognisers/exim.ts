import { tryCanonicalAddress } from '../../../kernel/index.js';
import { EXIM_BEHAVIOUR } from '../../../readers/exim/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = EXIM_BEHAVIOUR.patterns;

/** exim's address text in its daemon messages: "(any IPv4)", "(any IPv6)" (daemon.c) or the address itself. */
function endpoint(addressText: string): Pick<Recognised, 'address' | 'family'> {
  if (addressText === '(any IPv4)') return { address: '0.0.0.0', family: 'inet' };
  if (addressText === '(any IPv6)') return { address: '::', family: 'inet6' };
  const a = tryCanonicalAddress(addressText);
  if (a === undefined) return {};
  return { address: a, family: a.includes(':') ? 'inet6' : 'inet' };
}

function withErrno(r: Recognised, error: string | undefined): Recognised {
  const errno = error === undefined ? undefined : errnoFromText(error);
  return errno ? { ...r, errno } : r;
}

/**
 * exim's own lines about its listening sockets (daemon.c daemon_go), as it writes them to its mainlog, its paniclog
 * (/var/log/exim4/mainlog, paniclog on Debian) and stderr:
 * - `socket bind() to port 25 for address 127.0.0.1 failed: Address already in use: waiting 30s before trying again (9 more tries)`
 * - `socket bind() to port 25 for address 127.0.0.1 failed: Address already in use: daemon abandoned` (exit 1)
 * - `listen() failed on interface (any IPv4): Address already in use` (exit 1, no retry)
 * - `IPv6 socket creation failed: …`, `Malformed IP address "…" in local_interfaces`, `TCP port "…" not found`,
 *   `invalid SMTP port: …` (all fatal before any socket).
 */
export const eximRecogniser: LogRecogniser = {
  id: 'exim',
  needles: ['socket bind() to port', 'listen() failed on interface', 'socket creation failed', 'Malformed IP address', 'TCP port "', 'invalid SMTP port'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = P.bindAbandoned.exec(msg))) {
      return withErrno({ kind: 'gave-up', form: 'exim.bind-abandoned', daemon: 'exim', proto: 'tcp', port: Number(m[1]), ...endpoint(m[2] as string), exitStatus: EXIM_BEHAVIOUR.exitStatus }, m[3]);
    }
    if ((m = P.bindRetry.exec(msg))) {
      return withErrno({ kind: 'bind-failed', form: 'exim.bind-retry', daemon: 'exim', proto: 'tcp', port: Number(m[1]), ...endpoint(m[2] as string) }, m[3]);
    }
    if ((m = P.listenFailed.exec(msg))) {
      return withErrno({ kind: 'listen-failed', form: 'exim.listen-failed', daemon: 'exim', proto: 'tcp', ...endpoint(m[1] as string), exitStatus: EXIM_BEHAVIOUR.exitStatus }, m[2]);
    }
    if ((m = P.socketCreate.exec(msg))) {
      return withErrno({ kind: 'socket-problem', form: 'exim.socket-create', daemon: 'exim', proto: 'tcp', family: m[1] === '6' ? 'inet6' : 'inet' }, m[2]);
    }
    if (P.malformedAddress.test(msg)) return { kind: 'socket-problem', form: 'exim.malformed-address', daemon: 'exim' };
    if (P.portNotFound.test(msg)) return { kind: 'socket-problem', form: 'exim.port-not-found', daemon: 'exim' };
    if (P.invalidPort.test(msg)) return { kind: 'socket-problem', form: 'exim.invalid-port', daemon: 'exim' };
    return null;
  },
};

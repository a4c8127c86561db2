import { tryCanonicalAddress } from '../../../kernel/index.js';
import { SSHD_BEHAVIOUR } from '../../../readers/sshd/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = SSHD_BEHAVIOUR.patterns;

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
 * OpenSSH sshd's lines about its listening sockets (sshd.c listen_on_addrs/server_listen, 9.x; observed on Debian 12
 * through syslog as `sshd[PID]: error: Bind to port 22 on 0.0.0.0 failed: Address already in use.`):
 * - `Bind to port P on ADDR failed: ERROR.` — bind() failed; sshd goes on with its next address;
 * - `Cannot bind any address.` — no address was bound: sshd exits with status 255;
 * - `listen on [ADDR]:P: ERROR` — listen() failed: fatal at once.
 * The address is getnameinfo(NI_NUMERICHOST) text, so always a literal.
 */
export const sshdRecogniser: LogRecogniser = {
  id: 'sshd',
  needles: ['Bind to port', 'Cannot bind any address', 'listen on ['],
  recognise({ message, program }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = P.bindFailed.exec(msg))) {
      const r: Recognised = { kind: 'bind-failed', form: 'sshd.bind-failed', daemon: 'sshd', proto: 'tcp', ...endpoint(m[2] as string, m[1] as string) };
      const errno = errnoFromText(m[3] as string);
      return errno ? { ...r, errno } : r;
    }
    if (P.noneBound.test(msg)) {
      return { kind: 'gave-up', form: 'sshd.cannot-bind-any', daemon: 'sshd', exitStatus: SSHD_BEHAVIOUR.exitStatus };
    }
    // "listen on [" is generic enough to need the program name.
    if ((m = P.listenFailed.exec(msg)) && (program === undefined || program === 'sshd')) {
      const r: Recognised = { kind: 'listen-failed', form: 'sshd.listen-failed', daemon: 'sshd', proto: 'tcp', ...endpoint(m[1] as string, m[2] as string) };
      const errno = errnoFromText(m[3] as string);
      return errno ? { ...r, errno } : r;
    }
    return null;
  },
};

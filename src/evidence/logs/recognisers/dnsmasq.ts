import { tryCanonicalAddress } from '../../../kernel/index.js';
import { DNSMASQ_BEHAVIOUR } from '../../../readers/dnsmasq/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = DNSMASQ_BEHAVIOUR.patterns;

/**
 * dnsmasq's lines about its listening sockets (network.c make_sock, dhcp.c make_fd, log.c die; 2.90, observed on
 * Debian 12 through syslog as `dnsmasq[PID]: failed to create listening socket for port 53: Address already in use`):
 * - `failed to create listening socket for port N: ERROR` — wildcard mode (0.0.0.0 or ::, UDP or TCP: the line does
 *   not say which); `… for ADDRESS: ERROR` — bind-interfaces/bind-dynamic mode, the port is not given;
 * - `failed to bind DHCP server socket: ERROR` — UDP 0.0.0.0, port 67 unless dhcp-alternate-port;
 * - `FAILED to start up` — die() always logs it last: dnsmasq exits (status 2 after a network error).
 * Both failures are fatal at startup; bind-dynamic logs nothing for an address that is not (yet) local.
 */
export const dnsmasqRecogniser: LogRecogniser = {
  id: 'dnsmasq',
  needles: ['failed to create listening socket', 'failed to bind DHCP server socket', 'FAILED to start up'],
  recognise({ message, program }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = P.listenFailed.exec(msg))) {
      const r: Recognised = { kind: 'bind-failed', form: 'dnsmasq.listen-socket', daemon: 'dnsmasq' };
      if (m[1] !== undefined) r.port = Number(m[1]);
      else {
        const a = tryCanonicalAddress(m[2] as string);
        if (a !== undefined) {
          r.address = a;
          r.family = a.includes(':') ? 'inet6' : 'inet';
        }
      }
      const errno = errnoFromText(m[3] as string);
      return errno ? { ...r, errno } : r;
    }
    if ((m = P.dhcpBindFailed.exec(msg))) {
      const r: Recognised = { kind: 'bind-failed', form: 'dnsmasq.dhcp-socket', daemon: 'dnsmasq', proto: 'udp', family: 'inet', address: '0.0.0.0' };
      const errno = errnoFromText(m[1] as string);
      return errno ? { ...r, errno } : r;
    }
    // "FAILED to start up" is generic enough to need the program name when there is one.
    if (P.failedToStart.test(msg) && (program === undefined || program === 'dnsmasq' || program.startsWith('dnsmasq-'))) {
      return { kind: 'gave-up', form: 'dnsmasq.failed-to-start', daemon: 'dnsmasq' };
    }
    return null;
  },
};

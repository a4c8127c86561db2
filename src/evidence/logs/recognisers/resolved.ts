import type { Proto } from '../../../model/index.js';
import { tryCanonicalAddress } from '../../../kernel/index.js';
import { RESOLVED_BEHAVIOUR } from '../../../readers/resolved/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const DAEMON = 'systemd-resolved';

/**
 * "Another process is already listening on TCP socket 127.0.0.53:53." + "Turning off local DNS stub support." (the
 * main stub; the two sentences are one message with a newline, which syslog daemons write as `#012` or `\n`), and
 * "Another process is already listening on UDP socket [::1]:5353: Address already in use" (an extra listener).
 */
const IN_USE = /Another process is already listening on (UDP|TCP) socket (\[[^\]]*\]|[^\s:]+)(?::(\d+))?(?::\s*(.+?))?\.?(?:\s*(?:#012|\\n)?\s*Turning off local DNS stub support\.?)?$/;
/** "Failed to listen on UDP socket 127.0.0.53:53: Operation not permitted." (+ the same second sentence). */
const FAILED = /Failed to listen on (UDP|TCP) socket (\[[^\]]*\]|[^\s:]+)(?::(\d+))?:\s*(.+?)\.?(?:\s*(?:#012|\\n)?\s*Turning off local DNS stub support\.?)?$/;
const LLMNR_OFF = /Another LLMNR responder prohibits binding the socket to the same port\. Turning off LLMNR support\./;

function endpoint(proto: string, addr: string, port: string | undefined): Pick<Recognised, 'proto' | 'address' | 'family' | 'port'> {
  const a = tryCanonicalAddress(addr.replace(/^\[|\]$/g, ''));
  const out: Pick<Recognised, 'proto' | 'address' | 'family' | 'port'> = { proto: proto.toLowerCase() as Proto };
  // in_addr_port_to_string() leaves the port out when the line gave none: resolved then binds 53.
  out.port = port !== undefined ? Number(port) : RESOLVED_BEHAVIOUR.extraDefaultPort;
  if (a !== undefined) {
    out.address = a;
    out.family = a.includes(':') ? 'inet6' : 'inet';
  }
  return out;
}

/**
 * systemd-resolved's lines about listeners it could not create (resolved-dns-stub.c, resolved-llmnr.c, v252). Each
 * is a `listener-disabled` event: resolved logs a warning and runs on without the listener — for the main stub
 * without any of its four sockets, for LLMNR without all of its.
 */
export const resolvedRecogniser: LogRecogniser = {
  id: 'systemd-resolved',
  needles: ['Another process is already listening on', 'Failed to listen on UDP socket', 'Failed to listen on TCP socket', 'Another LLMNR responder prohibits'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = IN_USE.exec(msg))) {
      // The main stub's line ends in "." and names no error; an extra listener's ends in ": Address already in use".
      const stub = m[4] === undefined;
      return { kind: 'listener-disabled', form: stub ? 'resolved.stub-in-use' : 'resolved.extra-in-use', daemon: DAEMON, ...endpoint(m[1] as string, m[2] as string, m[3]), errno: 'EADDRINUSE' };
    }
    if ((m = FAILED.exec(msg))) {
      const stub = /Turning off local DNS stub support/.test(msg);
      const r: Recognised = { kind: 'listener-disabled', form: stub ? 'resolved.stub-failed' : 'resolved.extra-failed', daemon: DAEMON, ...endpoint(m[1] as string, m[2] as string, m[3]) };
      const errno = errnoFromText(m[4] as string);
      return errno ? { ...r, errno } : r;
    }
    if (LLMNR_OFF.test(msg)) {
      return { kind: 'listener-disabled', form: 'resolved.llmnr-off', daemon: DAEMON, port: RESOLVED_BEHAVIOUR.llmnrPort, errno: 'EADDRINUSE' };
    }
    return null;
  },
};

import { errnoFromText, familyOf } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

/** util/inet_listen.c: `msg_fatal("bind %s port %s: %m", hostaddr, port)` — the address is printed without brackets. */
const BIND = /fatal: bind (\S+) port (\d+): (.+)$/;
/** util/inet_listen.c: `msg_fatal("listen: %m")` — no address in the text. */
const LISTEN = /fatal: listen: (.+)$/;
/** global/own_inet_addr.c: inet_interfaces names an address no interface has; master exits before any bind(). */
const NO_LOCAL = /fatal: parameter inet_interfaces: no local interface found for (\S+)/;
/** own_inet_addr.c: a host name in inet_interfaces that does not resolve. */
const HOST_NOT_FOUND = /fatal: config variable inet_interfaces: host not found: (\S+)/;
/** master_ent.c: a host:port service whose host does not resolve. */
const BAD_HOST = /fatal: .*bad hostname or network address: (\S+)/;

const isPostfix = (program: string | undefined) => program === undefined || program.startsWith('postfix');

/**
 * postfix master(8)'s fatal lines about its inet listeners. syslog tag `postfix/master` (Debian: `postfix/master`;
 * with `syslog_name` changed, `NAME/master`) — a bare message without a header is accepted too.
 */
export const postfixRecogniser: LogRecogniser = {
  id: 'postfix',
  needles: ['fatal: bind ', 'fatal: listen: ', 'no local interface found for', 'inet_interfaces: host not found', 'bad hostname or network address'],
  recognise({ message, program }) {
    if (!isPostfix(program) && !(program ?? '').endsWith('/master')) return null;
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = BIND.exec(msg))) {
      const address = m[1] as string;
      const r: Recognised = { kind: 'bind-failed', form: 'postfix.bind', daemon: 'postfix', proto: 'tcp', family: familyOf(address), address, port: Number(m[2]) };
      const errno = errnoFromText(m[3] as string);
      return errno ? { ...r, errno } : r;
    }
    if ((m = NO_LOCAL.exec(msg))) {
      const address = m[1] as string;
      return { kind: 'bind-failed', form: 'postfix.no-local-interface', daemon: 'postfix', proto: 'tcp', family: familyOf(address), address, errno: 'EADDRNOTAVAIL' };
    }
    if ((m = LISTEN.exec(msg))) {
      const r: Recognised = { kind: 'listen-failed', form: 'postfix.listen', daemon: 'postfix', proto: 'tcp' };
      const errno = errnoFromText(m[1] as string);
      return errno ? { ...r, errno } : r;
    }
    if ((m = HOST_NOT_FOUND.exec(msg)) || (m = BAD_HOST.exec(msg))) {
      return { kind: 'socket-problem', form: 'postfix.bad-host', daemon: 'postfix' };
    }
    return null;
  },
};

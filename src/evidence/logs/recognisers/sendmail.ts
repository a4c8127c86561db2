import { SENDMAIL_BEHAVIOUR } from '../../../readers/sendmail/behaviour.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

const P = SENDMAIL_BEHAVIOUR.patterns;

/**
 * daemon.c `refuseconnections()`: `sm_syslog(LOG_INFO, NOQID, "rejecting connections on daemon %s: load average: %d", …)`.
 * Not a bind failure (the socket is bound, then closed without listen()), but it explains "nothing listens".
 */
const REJECTING = /rejecting connections on daemon (.+?): load average: (\d+)/;

/**
 * sendmail's own lines about its daemon sockets (daemon.c opendaemonsocket), from the templates in
 * {@link SENDMAIL_BEHAVIOUR}: `cannot bind`, `cannot listen`, `can't create server SMTP socket`,
 * `problem creating SMTP socket`, `optional socket disabled`, `server SMTP socket wedged: exiting`.
 */
export const sendmailRecogniser: LogRecogniser = {
  id: 'sendmail',
  needles: ['opendaemonsocket', 'SMTP socket', 'rejecting connections on daemon'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    const withErrno = (r: Recognised, error: string | undefined): Recognised => {
      const errno = error === undefined ? undefined : errnoFromText(error);
      return errno ? { ...r, errno } : r;
    };
    if ((m = P.cannotBind.exec(msg))) {
      return withErrno({ kind: 'bind-failed', form: 'sendmail.cannot-bind', daemon: 'sendmail', listenerName: m[1] as string }, m[2]);
    }
    if ((m = P.cannotListen.exec(msg))) {
      return withErrno({ kind: 'listen-failed', form: 'sendmail.cannot-listen', daemon: 'sendmail', listenerName: m[1] as string }, m[2]);
    }
    if ((m = P.cannotCreate.exec(msg))) {
      return withErrno({ kind: 'socket-problem', form: 'sendmail.cannot-create', daemon: 'sendmail', listenerName: m[1] as string }, m[2]);
    }
    if ((m = P.wedged.exec(msg))) {
      return { kind: 'gave-up', form: 'sendmail.wedged', daemon: 'sendmail', listenerName: m[1] as string };
    }
    if ((m = P.optionalDisabled.exec(msg))) {
      return { kind: 'listener-disabled', form: 'sendmail.optional-disabled', daemon: 'sendmail', listenerName: m[1] as string };
    }
    if ((m = P.problemCreating.exec(msg))) {
      return { kind: 'socket-problem', form: 'sendmail.problem-creating', daemon: 'sendmail', listenerName: m[1] as string };
    }
    if ((m = REJECTING.exec(msg))) {
      return { kind: 'refusing-connections', form: 'sendmail.rejecting', daemon: 'sendmail', listenerName: m[1] as string };
    }
    return null;
  },
};

/**
 * How sendmail opens its daemon sockets and what it does when that fails, as read from its source
 * (sendmail 8.17.1 / 8.18.0.2, sendmail/daemon.c, conf.c, err.c). The lead uses these to match log evidence.
 * See docs/daemons/sendmail.md for the walk-through with citations.
 */
export const SENDMAIL_BEHAVIOUR = {
  /** daemon.c `#define MAXOPENTRIES 10`; the loop `do { … } while (ntries++ < MAXOPENTRIES && transienterror(e))`
   *  makes 1 + 10 = 11 attempts for a non-optional daemon. */
  maxOpenTries: 10,
  /** Attempts in total for a non-optional daemon before "wedged: exiting" (first try + MAXOPENTRIES retries). */
  attempts: 11,
  /** Retries after the first attempt. */
  retries: 10,
  /** daemon.c opendaemonsocket: `if (ntries > 0) (void) sleep(5);` before every retry. */
  intervalSeconds: 5,
  /** Seconds from the first failure to the exit of a non-optional daemon: 10 sleeps of 5 s. */
  giveUpAfterSeconds: 50,
  /** An optional daemon (M=O) is disabled once `ntries >= MAXOPENTRIES - 1`: 10 attempts, 9 sleeps (45 s). */
  optionalAttempts: 10,
  optionalGiveUpAfterSeconds: 45,
  /** err.c syserr: a message starting with '!' panics: `exit(EX_OSERR)`; sysexits.h EX_OSERR = 71. */
  exitStatus: 71,
  exitStatusName: 'EX_OSERR',
  /** The .cf cannot be opened: readcf.c `finis(false, true, EX_OSFILE)`, EX_OSFILE = 72. */
  configUnreadableExitStatus: 72,
  /** sendmail never sets IPV6_V6ONLY, SO_REUSEPORT, SO_BINDTODEVICE or IP_FREEBIND (grep of the whole source). */
  setsockopt: ['SO_REUSEADDR', 'SO_KEEPALIVE'] as const,
  /** daemon.c setdaemonoptions: DEF_LISTENQUEUE. */
  defaultListenQueue: 10,
  /** conf.h MAXDAEMONS default; Debian's binary is built with MAXDAEMONS=64 (`sendmail -d0.1 -bt`). */
  maxDaemons: 10,
  maxDaemonsDebian: 64,
  /**
   * errno values for which the loop retries (conf.c transienterror). Anything else ends it at once:
   * EACCES (port < 1024 without root) exits immediately, EADDRINUSE and EADDRNOTAVAIL retry 10 times.
   */
  transientErrnos: [
    'EIO', 'ENXIO', 'EAGAIN', 'ENOMEM', 'ENODEV', 'ENFILE', 'EMFILE', 'ENOSPC', 'ETIMEDOUT', 'ESTALE',
    'ENETDOWN', 'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'ESHUTDOWN',
    'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EDQUOT', 'EUSERS', 'EDEADLK', 'EISCONN', 'EINPROGRESS',
    'EALREADY', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ETXTBSY', 'ENOSR', 'ENOLCK',
  ] as const,
  /**
   * syslog texts. `{name}` is the daemon's Name= (or DaemonN), `{error}` strerror(errno). SYSERR lines are logged by
   * err.c syserr as `SYSERR(<user>): <text>: <strerror>`; with no envelope id syslog prefixes `NOQUEUE: `.
   */
  messages: {
    cannotBind: 'NOQUEUE: SYSERR(root): opendaemonsocket: daemon {name}: cannot bind: {error}',
    cannotListen: 'NOQUEUE: SYSERR(root): opendaemonsocket: daemon {name}: cannot listen: {error}',
    cannotCreate: "NOQUEUE: SYSERR(root): opendaemonsocket: daemon {name}: can't create server SMTP socket: {error}",
    problemCreating: 'daemon {name}: problem creating SMTP socket',
    optionalDisabled: 'NOQUEUE: SYSERR(root): opendaemonsocket: daemon {name}: optional socket disabled',
    wedged: 'NOQUEUE: SYSERR(root): opendaemonsocket: daemon {name}: server SMTP socket wedged: exiting',
  },
  /** Regular expressions for the same lines; group 1 is the daemon name, group 2 (where present) the error text. */
  patterns: {
    cannotBind: /opendaemonsocket: daemon (.+?): cannot bind(?:: (.+))?$/,
    cannotListen: /opendaemonsocket: daemon (.+?): cannot listen(?:: (.+))?$/,
    cannotCreate: /opendaemonsocket: daemon (.+?): can't create server SMTP socket(?:: (.+))?$/,
    problemCreating: /daemon (.+?): problem creating SMTP socket/,
    optionalDisabled: /opendaemonsocket: daemon (.+?): optional socket disabled/,
    wedged: /opendaemonsocket: daemon (.+?): server SMTP socket wedged: exiting/,
  },
  /**
   * The order of log lines for a non-optional daemon whose listen() fails on the first pass and whose every
   * re-bind fails (the founding story): one listen failure, then ten bind failures 5 s apart, then exit 71.
   */
  sequenceListenThenBindFailures: [
    'cannotListen', 'problemCreating',
    ...Array.from({ length: 10 }, () => ['cannotBind', 'problemCreating'] as const).flat(),
    'wedged',
  ] as const,
} as const;

export type SendmailMessageKey = keyof typeof SENDMAIL_BEHAVIOUR.messages;

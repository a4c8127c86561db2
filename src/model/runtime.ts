import type { Family, Proto } from './endpoint.js';
import type { Location } from './location.js';

/** What a log line says happened to a socket. */
export type LogEventKind =
  /** bind() failed (sendmail "cannot bind", "Address already in use" from bind). */
  | 'bind-failed'
  /** listen() failed (sendmail "cannot listen"). */
  | 'listen-failed'
  /** A daemon-level note that a listener could not be set up ("problem creating SMTP socket"). */
  | 'socket-problem'
  /** The daemon gave up on the listener and exits ("server SMTP socket wedged: exiting"). */
  | 'gave-up'
  /** An optional listener was switched off and the daemon carries on. */
  | 'listener-disabled'
  /** A generic bind error whose call is not named (EADDRINUSE thrown by a runtime, errno 98). */
  | 'bind-error'
  /** A service manager line about the unit (systemd "Main process exited, code=exited, status=71"). */
  | 'unit-exited';

/** One recognised log line, or a run of identical ones collapsed (a retry loop). */
export interface LogEvent {
  kind: LogEventKind;
  /** Timestamp as written in the log (syslog "Aug 30 14:55:52", ISO, or journal microseconds as ISO). */
  time?: string;
  /** When collapsed: the last occurrence's time. */
  lastTime?: string;
  /** How many lines this event stands for (a retry loop collapses into one event). */
  count: number;
  host?: string;
  /** syslog tag / journal SYSLOG_IDENTIFIER (`sendmail`, `systemd`). */
  program?: string;
  pid?: number;
  /** The daemon bindcheck recognised the message as, when it did (`sendmail`). */
  daemon?: string;
  /** The daemon's own name for the listener (sendmail `daemon MTA` → `MTA`). */
  listenerName?: string;
  /** systemd unit the line is about (from the journal's _SYSTEMD_UNIT or the message). */
  unit?: string;
  proto?: Proto;
  family?: Family;
  address?: string;
  port?: number;
  /** errno name (`EADDRINUSE`), from the message text or number. */
  errno?: string;
  /** Process exit status, for unit-exited. */
  exitStatus?: number;
  /** The log text (the message part), raw: reporters escape it. */
  message: string;
  /** Where the (first) line is: a log file and line, or `journal` with the cursor in `file`. */
  source: Location;
}

/** One socket as a strace shows it, rebuilt from socket/setsockopt/bind/listen/close calls. */
export interface TracedSocket {
  pid: number;
  fd: number;
  proto: Proto;
  family: Family;
  reuseAddr: boolean;
  reusePort: boolean;
  v6Only?: boolean;
  address?: string;
  port?: number;
  /** Results in order: bind and listen calls with their return. */
  calls: TracedCall[];
  /** The trace line of the socket() call. */
  source: Location;
}

export interface TracedCall {
  call: 'bind' | 'listen';
  ok: boolean;
  errno?: string;
  time?: string;
  source: Location;
}

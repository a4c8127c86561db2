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
  | 'unit-exited'
  /** The service manager marked the unit failed (systemd "Failed with result 'exit-code'", "entered failed state"). */
  | 'unit-failed'
  /** The daemon bound its listener but refuses connections for now (sendmail "rejecting connections … load average"). */
  | 'refusing-connections';

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
  /** IP_FREEBIND / IPV6_FREEBIND / IP_TRANSPARENT set. */
  freeBind?: boolean;
  /** SO_BINDTODEVICE. */
  device?: string;
  /**
   * Flags the trace cannot show (setsockopt was not traced, or the socket predates the trace): reuseAddr,
   * reusePort and v6Only above are then defaults, not observations.
   */
  unknownOptions?: ('reuseAddr' | 'reusePort' | 'v6Only')[];
  /** `preexisting`: the socket was created before tracing started (or by an untraced fork); only its fd was seen. */
  origin?: 'socket' | 'preexisting';
  address?: string;
  port?: number;
  /** Results in order: bind and listen calls with their return. */
  calls: TracedCall[];
  /** The trace line of the socket() call (for a preexisting socket: its first use). */
  source: Location;
  /** Where the last descriptor of the socket was closed (close(), dup2() over it, or process exit). */
  closedAt?: Location;
}

export interface TracedCall {
  call: 'bind' | 'listen';
  ok: boolean;
  errno?: string;
  time?: string;
  source: Location;
  /** The process that made the call (a forked child may bind a socket its parent created). */
  pid?: number;
  /** The descriptor the call used. */
  fd?: number;
  /** bind(): the address and port asked for, as printed by strace. */
  address?: string;
  port?: number;
}

/** What is known of a daemon's systemd unit: its file, the command it runs, and (live or saved) its state. */
export interface UnitFacts {
  unit: string;
  /** Daemon bindcheck reads for this unit, when known. */
  daemon?: string;
  /** The unit file that defines it. */
  fragment?: Location;
  masked?: boolean;
  /** ExecStart after Environment/EnvironmentFile expansion. */
  execStart?: { argv: string[]; source: Location };
  /** The config file the daemon reads given its command line, when the command line says. */
  configPath?: string;
  state?: UnitState;
}

export interface UnitState {
  activeState?: string;
  subState?: string;
  result?: string;
  /** Main process exit status and what it means (`71`, `EX_OSERR: system error`). */
  exitStatus?: number;
  exitMeaning?: string;
  mainPid?: number;
  /** `systemctl show` on the live host, or the file a saved `systemctl status` text came from. */
  source: Location;
}

/** A failed bind()/listen() seen in a strace, with the earlier socket that held the address. */
export interface TraceFailure {
  socket: TracedSocket;
  call: TracedCall;
  holder?: TracedSocket;
  /** The holder is not in the trace (another process, or created before tracing began). */
  heldOutside?: boolean;
  /** The kernel rule, from the model. */
  reason: string;
}

/** Runtime evidence gathered for `why`: logs, units, traces, each with provenance. */
export interface RuntimeEvidence {
  logEvents: LogEvent[];
  units: UnitFacts[];
  traceFailures: TraceFailure[];
  /** Where the model and a trace disagree (never silently dropped). */
  traceDisagreements: { message: string; source: Location }[];
}

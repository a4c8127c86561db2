import type { Family, Proto } from './endpoint.js';
import type { Location } from './location.js';

/**
 * A socket a daemon will create from its configuration, with every option the daemon itself sets on it,
 * in the order the daemon creates it.
 */
export interface PlannedSocket {
  /** Daemon identifier, e.g. `sendmail`. */
  daemon: string;
  /** The daemon's own name for this listener (sendmail `Name=MTA`), or a generated one. */
  name: string;
  /**
   * The name the daemon gives this listener when the config names none (sendmail `Daemon<index>`). A log that
   * uses it while the config sets another name was written by a different version of the config.
   */
  defaultName?: string;
  proto: Proto;
  family: Family;
  /** Canonical address text: `0.0.0.0`, `127.0.0.1`, `::`, `::1`. */
  address: string;
  port: number;
  /** IPV6_V6ONLY as the daemon sets it; `undefined` = left at the net.ipv6.bindv6only default. */
  v6Only?: boolean;
  reuseAddr: boolean;
  reusePort: boolean;
  freeBind?: boolean;
  /** SO_BINDTODEVICE interface name. */
  device?: string;
  /** uid the daemon binds as (0 for root). */
  uid: number;
  /** Whether the binding process holds CAP_NET_BIND_SERVICE; undefined: uid 0 does, others do not. */
  capNetBindService?: boolean;
  /** Whether the daemon calls listen() (TCP servers) — UDP sockets are only bound. */
  listens: boolean;
  /** The config line that asked for this socket (the line to edit). */
  source: Location;
  /** Human explanation of how the config produced this socket (defaults applied, port names resolved). */
  derivation: string[];
  /** The whole directive that asked for this socket and how to switch it off, for fixes. */
  directive?: DirectiveExtent;
  /**
   * The daemon's options for this listener apart from its address and name, normalised by the reader
   * (sendmail: Modifiers, Family, Port, InputMailFilters…). Two sockets with the same key serve clients alike.
   */
  optionsKey?: string;
  /** The daemon carries on without this socket when it cannot be created (sendmail `Modifiers=O`). */
  optional?: boolean;
  /**
   * The daemon binds this wildcard socket but answers only traffic sent to these destination addresses and drops the
   * rest (dnsmasq's listen-address without bind-interfaces); `source` is the config line that restricts it.
   */
  acceptsOnly?: { addresses: string[]; source: Location };
  /**
   * Index (in the plan's sockets) of an earlier socket this one stands in for: the daemon creates this socket only
   * when that one failed, and that failure is then only a warning (httpd: `0.0.0.0:80` after a failed dual-stack
   * `[::]:80`). When the earlier socket is created, this one never is.
   */
  fallbackFor?: number;
  /**
   * A set of sockets the daemon gives up together (systemd-resolved's DNS stub on 127.0.0.53 and 127.0.0.54, its
   * LLMNR responder): when one of them fails with an errno in `errnos`, the daemon closes those of the set it has
   * already opened, never creates the rest of the set, and runs on without any of them.
   */
  group?: { name: string; errnos: readonly string[] };
}

/** The full extent of a config directive (continuation lines included) and its disabled form. */
export interface DirectiveExtent {
  file: string;
  startLine: number;
  endLine: number;
  /** The directive's lines as they are. */
  lines: string[];
  /** The same lines commented out in the daemon's own comment syntax. */
  disabled: string[];
}

/** How a daemon goes from config to sockets at startup: the order of bind() and listen() calls. */
export type StartupOrder =
  /** Each socket is bound and listened on before the next is created. */
  | 'bind-listen-each'
  /** All sockets are bound first, then listen() is called on each in order (sendmail). */
  | 'bind-all-then-listen';

/** What a daemon does when a socket cannot be created: see DaemonPlan.onFailure. */
export type FailurePolicy = 'exit' | 'continue' | 'exit-after-all';

/** The errors bind() and listen() report (the kernel model's errno set). */
export type FailureErrno = 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EACCES' | 'EINVAL';

/** The daemon's policy after a socket failed with `errno` (its default when the errno is unknown). */
export function failurePolicy(plan: Pick<DaemonPlan, 'onFailure' | 'onFailureByErrno'>, errno: string | undefined): FailurePolicy {
  const byErrno = plan.onFailureByErrno;
  if (byErrno && errno !== undefined && Object.hasOwn(byErrno, errno)) return byErrno[errno as FailureErrno] ?? plan.onFailure;
  return plan.onFailure;
}

/** What a reader learned about one daemon instance. */
export interface DaemonPlan {
  /** Daemon identifier, e.g. `sendmail`. */
  daemon: string;
  /** Main config file, as the daemon sees it. */
  config: string;
  /** Every file read, in order. */
  files: string[];
  sockets: PlannedSocket[];
  startup: StartupOrder;
  /** systemd unit names this daemon runs as, when known (`sendmail.service`). */
  units: string[];
  /** Process names (comm) this daemon runs as, used to recognise its own live sockets. */
  processNames: string[];
  /**
   * What the daemon does when a non-optional socket cannot be created on its first attempt:
   * `exit` — it gives up (possibly after retries) and later sockets are never created;
   * `continue` — it carries on with the next socket and keeps running without the failed one;
   * `exit-after-all` — it still tries every remaining socket, then exits (dovecot: "Failed to start listeners").
   */
  onFailure: FailurePolicy;
  /**
   * The daemon's policy for particular errors where it differs from `onFailure` (nginx goes on to its other sockets
   * after EADDRINUSE and retries the pass, but returns at once on any other bind() error).
   */
  onFailureByErrno?: Partial<Record<FailureErrno, FailurePolicy>>;
  /**
   * Set when the daemon binds none of its listen configuration itself but is handed sockets another unit created
   * (systemd socket activation: Debian's sshd with ssh.socket enabled). Its `sockets` are then empty; the creating
   * unit's plan holds them.
   */
  inheritsSockets?: {
    /** The unit that creates the sockets (`ssh.socket`). */
    from: string;
    /** Where that unit asks for them (its first Listen line), or the unit file. */
    source: Location;
    /** What it listens on, as text (`tcp/[::]:22`). */
    endpoints: string[];
    /** The daemon's own listen lines that have no effect because of it (sshd_config `Port`, `ListenAddress`). */
    ignored: Location[];
  };
  /** Retries of a failed socket before giving up, and their interval, when the daemon retries. */
  retry?: {
    attempts: number;
    intervalSeconds: number;
    exitStatus?: number;
    /** The errors the daemon retries; any other ends it at once (sendmail's transienterror). Undefined: all. */
    errnos?: string[];
  };
}

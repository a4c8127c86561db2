import type { Family, Proto } from '../model/endpoint.js';

/** A flag read from the live system may be unknown: /proc/net/* does not show SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY. */
export type Tristate = boolean | 'unknown';

/** The errno values bind()/listen() can produce in this model. */
export type BindErrno = 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EACCES' | 'EINVAL' | 'EAFNOSUPPORT' | 'EOPNOTSUPP';

/** Per-network-namespace settings (sysctls) that decide verdicts. */
export interface NamespaceConfig {
  /** Extra local addresses beyond 127.0.0.0/8 and ::1 (any family; `::ffff:` forms are not needed). */
  localAddresses?: string[];
  /** net.ipv4.ip_unprivileged_port_start (default 1024); ports below need CAP_NET_BIND_SERVICE (uid 0 here). */
  unprivilegedPortStart?: number;
  /** net.ipv4.ip_nonlocal_bind (default false); also governs v4-mapped binds on IPv6 sockets. */
  nonLocalBind?: boolean;
  /** net.ipv6.ip_nonlocal_bind (default false). */
  ipv6NonLocalBind?: boolean;
  /** net.ipv6.bindv6only (default false): the IPV6_V6ONLY default of new AF_INET6 sockets. */
  bindV6Only?: boolean;
}

/** Options of a socket created through {@link SimulatedNamespace.socket}; every flag is known. */
export interface SocketOptions {
  proto: Proto;
  family: Family;
  reuseAddr?: boolean;
  reusePort?: boolean;
  /** IPV6_V6ONLY; defaults to the namespace's bindV6Only. Ignored for `inet`. */
  v6Only?: boolean;
  /** The uid that creates and binds the socket (default 0). */
  uid?: number;
  /**
   * Whether the binder holds CAP_NET_BIND_SERVICE (in its user namespace). Default: uid 0 does, others do not.
   * A root daemon whose systemd unit drops it (CapabilityBoundingSet=~CAP_NET_BIND_SERVICE) does not; a non-root
   * one given it (AmbientCapabilities=CAP_NET_BIND_SERVICE) does.
   */
  capNetBindService?: boolean;
  /** IP_FREEBIND / IPV6_FREEBIND. */
  freeBind?: boolean;
  /** SO_BINDTODEVICE interface name. */
  device?: string;
  label?: string;
}

/** The states a simulated socket can be in. `time-wait` and `established` only arise through adopt(). */
export type SimSocketState = 'unbound' | 'bound' | 'listening' | 'time-wait' | 'established' | 'closed';

/** Options as the model holds them (defaults filled in; flags of adopted sockets may be unknown). */
export interface ResolvedOptions {
  proto: Proto;
  family: Family;
  reuseAddr: Tristate;
  reusePort: Tristate;
  /** IPV6_V6ONLY as set on the socket (not forced by binding a specific address); false for `inet`. */
  v6Only: Tristate;
  uid: number;
  capNetBindService: boolean;
  freeBind: boolean;
  device?: string;
}

/** A socket seen on the live system (a /proc/net row), whose options were never observed. */
export interface AdoptSpec {
  proto: Proto;
  family: Family;
  /** Canonical or parseable local address. */
  address: string;
  port: number;
  /** `bound` = TCP state CLOSE with a port (or UDP unconnected); `established` = connected (incl. accepted children). */
  state: 'bound' | 'listening' | 'time-wait' | 'established';
  uid?: number;
  reuseAddr?: Tristate;
  reusePort?: Tristate;
  v6Only?: Tristate;
  device?: string;
  label?: string;
}

/** A verdict the model is sure of. */
export interface BindOk {
  ok: true;
}

export interface BindFailure {
  ok: false;
  errno: BindErrno;
  /** The socket already holding the address, for EADDRINUSE. */
  conflictsWith?: SimSocketView;
  /** One sentence naming the kernel rule. */
  reason: string;
}

/**
 * The verdict depends on flags of adopted sockets that /proc cannot show. `errno` is what happens if the unknowns
 * go the unfavourable way; `dependsOn` names each unknown that can change the verdict (`"sshd#3 SO_REUSEADDR"`).
 */
export interface BindUnknown {
  ok: 'unknown';
  errno: BindErrno;
  conflictsWith?: SimSocketView;
  reason: string;
  dependsOn: string[];
}

export type BindResult = BindOk | BindFailure | BindUnknown;

/** Read-only view of a simulated socket. */
export interface SimSocketView {
  readonly id: number;
  readonly label: string;
  readonly options: Readonly<ResolvedOptions>;
  readonly state: SimSocketState;
  /** Canonical bound address, once bound (or adopted). */
  readonly address: string | undefined;
  readonly port: number | undefined;
  /** Whether the socket came from adopt() (seen live) rather than socket(). */
  readonly adopted: boolean;
}

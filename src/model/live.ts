import type { Family, Proto } from './endpoint.js';
import type { Location } from './location.js';

/** Linux TCP states as numbered in include/net/tcp_states.h. */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV';

export interface ProcessInfo {
  pid: number;
  /** /proc/PID/comm */
  comm: string;
  /** /proc/PID/cmdline, NULs replaced by spaces. */
  cmdline: string;
  uid: number;
  /** systemd unit from /proc/PID/cgroup, when the process is in one. */
  unit?: string;
  /** The process's network namespace (`net:[4026531840]`, readlink /proc/PID/ns/net), when known. */
  netns?: string;
}

/** One row of /proc/net/{tcp,tcp6,udp,udp6}. */
export interface LiveSocket {
  proto: Proto;
  family: Family;
  /** Canonical local address text. */
  address: string;
  port: number;
  remoteAddress: string;
  remotePort: number;
  /** For UDP the kernel reports CLOSE for unconnected (bound) sockets and ESTABLISHED for connected ones. */
  state: TcpState;
  uid: number;
  inode: number;
  /** Processes holding a descriptor for this socket; empty when unknown (not root) or none (TIME_WAIT). */
  owners: ProcessInfo[];
  /** Whether owners were looked up and could be seen. */
  ownersKnown: boolean;
  /** Network namespace inode (`net:[4026531840]`), when known. */
  netns?: string;
  /** The /proc row this came from. */
  source: Location;
}

/** Host facts that decide verdicts, each marked with whether it was read or assumed. */
export interface HostFacts {
  localAddresses: Fact<string[]>;
  bindV6Only: Fact<boolean>;
  unprivilegedPortStart: Fact<number>;
  ipNonlocalBind: Fact<boolean>;
  ipv6NonlocalBind: Fact<boolean>;
  /** Whether the host has IPv6 at all (/proc/net/if_inet6 present). */
  ipv6: Fact<boolean>;
}

export interface Fact<T> {
  value: T;
  /** `read` from the root, or `assumed` Linux default because the root lacked it. */
  origin: 'read' | 'assumed';
  source: string;
}

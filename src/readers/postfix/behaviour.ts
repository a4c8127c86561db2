/**
 * How postfix's master(8) creates its inet listeners and what it does when that fails, from the source
 * (postfix 3.7 / 3.12: master/master_conf.c, master_ent.c, master_listen.c, util/inet_listen.c,
 * global/own_inet_addr.c) and observed under strace (Debian 12, postfix 3.7.11). See docs/daemons/postfix.md.
 */
export const POSTFIX_BEHAVIOUR = {
  /** util/inet_listen.c: every listener gets SO_REUSEADDR and (Linux, postfix ≥ 3.6) SO_REUSEPORT; AF_INET6 also IPV6_V6ONLY=1. */
  setsockopt: ['IPV6_V6ONLY (inet6 only)', 'SO_REUSEADDR', 'SO_REUSEPORT'] as const,
  /** inet_listen(): socket, setsockopt, bind, listen — per address, each service in master.cf order. */
  startup: 'bind-listen-each' as const,
  /** msg_fatal("bind %s port %s: %m") → exit(1); no retry. The sockets bound before die with the process. */
  exitStatus: 1,
  /** listen() backlog: max(maxproc, default_process_limit = 100) (master_listen.c). */
  defaultBacklog: 100,
  messages: {
    bindFailed: 'fatal: bind {address} port {port}: {error}',
    listenFailed: 'fatal: listen: {error}',
    noLocalInterface: 'fatal: parameter inet_interfaces: no local interface found for {address}',
    hostNotFound: 'fatal: config variable inet_interfaces: host not found: {host}',
    duplicate: 'warning: duplicate master.cf entry for service "{service}" ({name}) -- using the last entry',
  },
} as const;

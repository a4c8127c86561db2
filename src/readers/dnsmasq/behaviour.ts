/**
 * How dnsmasq turns its options into listening sockets and what it does when one cannot be created, as read from its
 * source (dnsmasq v2.90, Debian 12's 2.90-4~deb12u2: src/option.c read_opts/one_file/read_file/one_opt,
 * src/network.c iface_allowed/iface_check/make_sock/create_listeners/create_wildcard_listeners/
 * create_bound_listeners, src/dhcp.c make_fd, src/dnsmasq.c main, src/log.c die) and checked against the real
 * Debian 12 binary under strace (test/integration/dnsmasq.test.ts). docs/daemons/dnsmasq.md walks through it.
 */
export const DNSMASQ_BEHAVIOUR = {
  /** config.h CONFFILE: read when no -C is given; a missing one is fine (one_file LOPT_CONF_OPT). */
  configPath: '/etc/dnsmasq.conf',
  /** dns-protocol.h NAMESERVER_PORT; `port=0` switches DNS off. */
  dnsPort: 53,
  /** dhcp-protocol.h DHCP_SERVER_PORT, and the server port `dhcp-alternate-port` uses without a value (1067). */
  dhcpServerPort: 67,
  dhcpAlternatePort: 1067,
  /** tftp.c TFTP_PORT. */
  tftpPort: 69,
  /** config.h TCP_BACKLOG: listen(fd, 32). */
  tcpBacklog: 32,
  /** dnsmasq.h exit codes die() uses. */
  exit: { badConf: 1, badNet: 2, file: 3 },
  /**
   * Debian's dnsmasq.service runs /usr/share/dnsmasq/systemd-helper exec, which execs dnsmasq with
   * `-x /run/dnsmasq/dnsmasq.pid -u dnsmasq [-i/-I from DNSMASQ_INTERFACE/DNSMASQ_EXCEPT] [-7 $CONFIG_DIR]
   * $DNSMASQ_OPTS --local-service` after sourcing /etc/default/dnsmasq (init-system-common).
   */
  debianHelper: '/usr/share/dnsmasq/systemd-helper',
  debianDefaults: '/etc/default/dnsmasq',
  messages: {
    /** network.c make_sock(): `port N` in wildcard mode, the address in bind-interfaces/bind-dynamic mode. */
    listenFailed: 'failed to create listening socket for {what}: {error}',
    dhcpBindFailed: 'failed to bind DHCP server socket: {error}',
    unknownInterface: 'unknown interface {name}',
    bothBindModes: 'cannot set --bind-interfaces and --bind-dynamic',
    failed: 'FAILED to start up',
  },
  patterns: {
    listenFailed: /(?:^|: )failed to create listening socket for (?:port (\d+)|(\S+)): (.+)$/,
    dhcpBindFailed: /(?:^|: )failed to bind DHCP server socket: (.+)$/,
    failedToStart: /(?:^|: )FAILED to start up$/,
  },
} as const;

/**
 * How haproxy (2.6.12, Debian 12) turns `bind` lines into sockets and what it does when one cannot be created, as
 * read from its source (v2.6: src/cfgparse.c str2listener, src/tools.c str2sa_range, src/protocol.c
 * protocol_bind_all, src/sock_inet.c sock_inet_bind_receiver, src/proto_tcp.c tcp_bind_listener, src/haproxy.c)
 * and checked against the real binary under strace (test/integration/haproxy.test.ts). See docs/daemons/haproxy.md.
 */
export const HAPROXY_BEHAVIOUR = {
  /** Debian's unit: `ExecStart=/usr/sbin/haproxy -Ws -f $CONFIG …` with CONFIG=/etc/haproxy/haproxy.cfg. */
  configPath: '/etc/haproxy/haproxy.cfg',
  /**
   * Sections (cfgparse.c cfg_register_section): a line whose first word is one of these opens a section.
   * Only frontend, listen and backend (and global's `stats socket`) create TCP listeners bindcheck models.
   */
  sections: ['global', 'defaults', 'frontend', 'listen', 'backend', 'peers', 'resolvers', 'userlist', 'mailers', 'program', 'http-errors', 'ring', 'log-forward', 'cache', 'fcgi-app', 'traces', 'crt-store'],
  /**
   * protocol_bind_all() walks the registered protocols, then each protocol's receivers in the order the parser
   * added them: every IPv6 TCP listener (config order) before every IPv4 one, UNIX sockets last (measured:
   * the tcpv6 protocol registers first in this build).
   */
  protocolOrder: ['inet6', 'inet'] as const,
  /**
   * sock_inet_bind_receiver(): SO_REUSEADDR always; SO_REUSEPORT unless `noreuseport` (global) or `-dR`;
   * IPV6_V6ONLY set explicitly on every IPv6 socket: 1 with `v6only` (or when net.ipv6.bindv6only=1 and no
   * `v4v6`), 0 otherwise; `transparent` sets IP_TRANSPARENT / IPV6_TRANSPARENT; `interface` SO_BINDTODEVICE.
   */
  reuseAddr: true,
  /**
   * A failed bind() is ERR_RETRYABLE|ERR_ALERT: protocol_bind_all() reports it ("Binding [FILE:LINE] for
   * frontend X: cannot bind socket (…) for [ADDR:PORT]") and goes on with the next listener; afterwards
   * main() says "Some protocols failed to start their listeners! Exiting." and exits 1.
   */
  exitStatus: 1,
  messages: {
    bindFailed: 'Binding [{file}:{line}] for {type} {proxy}: cannot bind socket ({error}) for [{addr}:{port}]',
    gaveUp: '[{argv0}.main()] Some protocols failed to start their listeners! Exiting.',
  },
  patterns: {
    /**
     * protocol_bind_all()'s ha_alert() (stderr; the journal under systemd):
     * `[ALERT]    (PID) : Binding [FILE:LINE] for frontend NAME: cannot bind socket (Address already in use) for [0.0.0.0:80]`.
     * IPv6 addresses are not bracketed (`[::1:80]`): the port is after the last colon.
     */
    bindFailed: /Binding \[(.+?):(\d+)\] for (\S+) (\S+): (?:.*, )?cannot (?:bind socket|create receiving socket) \(([^)]*)\) for \[([^\]]*):(\d+)\]/,
    /** tcp_bind_listener(): `Starting [FILE:LINE] for frontend NAME: cannot listen to socket for [ADDR:PORT]` (no errno). */
    listenFailed: /Starting \[(.+?):(\d+)\] for (\S+) (\S+): (?:.*, )?cannot listen to socket for \[([^\]]*):(\d+)\]/,
    gaveUp: /\.main\(\)\] Some protocols failed to start their listeners! Exiting\./,
  },
} as const;

/** `bind` keywords of 2.6 (bind_kw_list registrations) and how many values each takes. */
export const BIND_KEYWORDS: Record<string, number> = {
  // src/listener.c
  'accept-netscaler-cip': 1, 'accept-proxy': 0, backlog: 1, id: 1, maxconn: 1, name: 1, nice: 1, process: 1, proto: 1, shards: 1, thread: 1,
  // src/cfgparse-tcp.c
  'defer-accept': 0, interface: 1, mss: 1, 'tcp-ut': 1, tfo: 0, transparent: 0, v4v6: 0, v6only: 0, namespace: 1,
  // src/cfgparse-unix.c
  gid: 1, group: 1, mode: 1, uid: 1, user: 1,
  // src/cli.c
  level: 1, 'expose-fd': 1, 'severity-output': 1,
  // src/cfgparse-ssl.c
  'allow-0rtt': 0, alpn: 1, 'ca-file': 1, 'ca-verify-file': 1, 'ca-ignore-err': 1, 'ca-sign-file': 1, 'ca-sign-pass': 1, ciphers: 1, ciphersuites: 1,
  'crl-file': 1, crt: 1, 'crt-ignore-err': 1, 'crt-list': 1, curves: 1, ecdhe: 1, 'force-sslv3': 0, 'force-tlsv10': 0, 'force-tlsv11': 0,
  'force-tlsv12': 0, 'force-tlsv13': 0, 'generate-certificates': 0, 'no-ca-names': 0, 'no-sslv3': 0, 'no-tlsv10': 0, 'no-tlsv11': 0,
  'no-tlsv12': 0, 'no-tlsv13': 0, 'no-tls-tickets': 0, ssl: 0, 'ssl-min-ver': 1, 'ssl-max-ver': 1, 'strict-sni': 0, 'tls-ticket-keys': 1,
  verify: 1, npn: 1, 'prefer-client-ciphers': 0,
};

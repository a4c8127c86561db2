/**
 * How systemd-resolved turns resolved.conf into sockets and what it does when one cannot be created, as read from
 * systemd v252's source (src/resolve/resolved-dns-stub.c, resolved-llmnr.c, resolved-link.c, resolved-manager.c,
 * resolved-conf.c, resolved-gperf.gperf; src/shared/conf-parser.c, src/basic/conf-files.c,
 * src/shared/socket-netlink.c) and checked against Debian 12's binary under strace
 * (test/integration/resolved.test.ts). docs/daemons/resolved.md walks through it.
 */
export const RESOLVED_BEHAVIOUR = {
  /** PKGSYSCONFDIR "/resolved.conf": the one main file (config_parse_many_nulstr). */
  mainConfig: '/etc/systemd/resolved.conf',
  /**
   * CONF_PATHS_NULSTR("systemd/resolved.conf.d") as Debian 12 builds it (split-usr: /lib too). A drop-in's file name
   * found in an earlier directory hides the same name in later ones; all drop-ins are read after the main file,
   * sorted by file name (conf-files.c base_cmp, strcmp), so a later one overrides an earlier one.
   */
  dropinDirs: [
    '/etc/systemd/resolved.conf.d',
    '/run/systemd/resolved.conf.d',
    '/usr/local/lib/systemd/resolved.conf.d',
    '/usr/lib/systemd/resolved.conf.d',
    '/lib/systemd/resolved.conf.d',
  ],
  /** config_parse(): LONG_LINE_MAX; a longer line ends the parse of every file (-ENOBUFS). */
  longLineMax: 1024 * 1024,
  /** resolved-dns-stub.c manager_dns_stub_start(): INADDR_DNS_STUB and INADDR_DNS_PROXY_STUB, port 53. */
  stubAddress: '127.0.0.53',
  proxyStubAddress: '127.0.0.54',
  stubPort: 53,
  /** dns_stub_listener_extra_port(): an extra listener without a port gets 53. */
  extraDefaultPort: 53,
  /** LLMNR_PORT (resolved-llmnr.c). */
  llmnrPort: 5355,
  /**
   * manager_dns_stub_start(): -EADDRINUSE or -EPERM from any of the four stub sockets turns the whole stub off
   * (manager_dns_stub_stop closes those already open; the rest are never created) and resolved runs on.
   */
  stubGiveUpErrnos: ['EADDRINUSE', 'EPERM'],
  /** manager_llmnr_start(): -EADDRINUSE from any LLMNR socket turns LLMNR off (all four closed). */
  llmnrGiveUpErrnos: ['EADDRINUSE'],
  /** The log texts, as resolved writes them (log_warning_errno / log_warning). */
  messages: {
    stubInUse: 'Another process is already listening on {proto} socket {address}:53.\nTurning off local DNS stub support.',
    stubFailed: 'Failed to listen on {proto} socket {address}:53: {error}.\nTurning off local DNS stub support.',
    extraInUse: 'Another process is already listening on {proto} socket {address}: {error}',
    extraFailed: 'Failed to listen on {proto} socket {address}: {error}',
    llmnrOff: 'Another LLMNR responder prohibits binding the socket to the same port. Turning off LLMNR support.',
    noCapability: 'Missing CAP_NET_BIND_SERVICE capability, not creating stub listener on port 53.',
  },
} as const;

/** resolved-gperf.gperf of v252: every key of the [Resolve] section (case-sensitive, gperf exact match). */
export const RESOLVED_KEYS: readonly string[] = [
  'DNS',
  'FallbackDNS',
  'Domains',
  'LLMNR',
  'MulticastDNS',
  'DNSSEC',
  'DNSOverTLS',
  'Cache',
  'DNSStubListener',
  'ReadEtcHosts',
  'ResolveUnicastSingleLabel',
  'DNSStubListenerExtra',
  'CacheFromLocalhost',
];

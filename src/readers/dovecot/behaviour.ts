/**
 * How Dovecot's master process creates its inet listeners and what it does when that fails, as read from its
 * source (dovecot 2.3.19.1: src/master/service.c, service-listen.c, main.c, master-settings.c, src/lib/net.c,
 * src/config/config-parser.c) and checked against the real Debian 12 binary under strace
 * (test/integration/dovecot.test.ts). See docs/daemons/dovecot.md for the walk-through.
 */
export const DOVECOT_BEHAVIOUR = {
  /** Debian's (and upstream's) main config file. */
  configPath: '/etc/dovecot/dovecot.conf',
  /**
   * master-settings.c `.listen = "*, ::"`: the addresses every inet_listener without `address` uses. `*` is
   * 0.0.0.0 and `::` (or `[::]`) the IPv6 any address (service.c resolve_ip); anything else goes through
   * net_gethostbyname().
   */
  defaultListen: '*, ::',
  /**
   * The `protocols` value when the config never sets it. master-settings.c says "imap pop3 lmtp", but the config
   * process hands the master an empty value: Debian's 2.3.19.1 with no `protocols` line logs
   * "starting up without any protocols" and opens no login listener (observed).
   */
  defaultProtocols: '',
  /** master-settings.c `.ssl = "yes"`; only `ssl = no` makes service.c skip `ssl = yes` listeners. */
  defaultSsl: 'yes',
  /**
   * lib/net.c net_listen_full(): socket(); SO_REUSEADDR=1; SO_KEEPALIVE=1; SO_REUSEPORT=1 when the listener has
   * `reuse_port = yes`; IPV6_V6ONLY=1 on every AF_INET6 socket ("bind only to IPv6 if possible"); bind(); listen().
   */
  setsockopt: ['SO_REUSEADDR', 'SO_KEEPALIVE', 'SO_REUSEPORT (reuse_port = yes)', 'IPV6_V6ONLY (inet6)'] as const,
  /**
   * main.c: `if (services_listen(services) <= 0) i_fatal("Failed to start listeners")`. services_listen() tries
   * every listener of every service first (service-listen.c keeps the lowest return value), so a failed bind does
   * not stop the later ones; then the master exits with FATAL_DEFAULT (lib/failures.h) and none stay open.
   */
  exitStatus: 89,
  /** Dovecot does not retry a failed listener at startup. */
  retries: 0,
  /**
   * Log texts. `{service}` is the service name, `{address}` the address token as written in the config (`*`,
   * `::`, `127.0.0.1`), `{port}` the configured port, `{error}` strerror(errno).
   * service-listen.c service_inet_listener_listen: `service_error(service, "listen(%s, %u) failed: %m", …)`;
   * net.c net_listen_full, for a bind() errno other than EADDRINUSE: `i_error("bind(%s, %u) failed: %m", …)`.
   */
  messages: {
    listenFailed: 'service({service}): listen({address}, {port}) failed: {error}',
    bindFailed: 'bind({address}, {port}) failed: {error}',
    listenCallFailed: 'listen() failed: {error}',
    fatal: 'Failed to start listeners',
  },
  patterns: {
    listenFailed: /service\(([^)]+)\): listen\((.+), (\d+)\) failed: (.+)$/,
    bindFailed: /(?:^|: )bind\((.*), (\d+)\) failed: (.+)$/,
    fatal: /Fatal: Failed to start listeners/,
  },
} as const;

export interface DefaultListener {
  name: string;
  port: number;
  ssl: boolean;
}

export interface KnownService {
  /** The protocol that must be in `protocols` for the master to start the service ('' = always). */
  protocol: string;
  /** Built-in inet listeners, in their built-in order (imap-login-settings.c and friends). */
  listeners: DefaultListener[];
  /** The Debian package that installs the service's binary, when not dovecot-core. */
  package?: string;
  /** An in-root path whose presence shows the binary (and its settings module) is installed. */
  requires?: string;
}

/**
 * Dovecot 2.3's built-in services that have a protocol or inet listeners (`doveconf -a`). Services of a
 * protocol that is not enabled are skipped (service.c service_want).
 */
export const KNOWN_SERVICES: Record<string, KnownService> = {
  'imap-login': {
    protocol: 'imap',
    listeners: [
      { name: 'imap', port: 143, ssl: false },
      { name: 'imaps', port: 993, ssl: true },
    ],
    package: 'dovecot-imapd',
  },
  'pop3-login': {
    protocol: 'pop3',
    listeners: [
      { name: 'pop3', port: 110, ssl: false },
      { name: 'pop3s', port: 995, ssl: true },
    ],
    package: 'dovecot-pop3d',
  },
  'submission-login': { protocol: 'submission', listeners: [{ name: 'submission', port: 587, ssl: false }], package: 'dovecot-submissiond' },
  // pigeonhole's managesieve-login-settings.c; its settings exist only when the plugin is installed.
  'managesieve-login': {
    protocol: 'sieve',
    listeners: [{ name: 'sieve', port: 4190, ssl: false }],
    package: 'dovecot-managesieved',
    requires: '/usr/lib/dovecot/managesieve-login',
  },
  managesieve: { protocol: 'sieve', listeners: [], package: 'dovecot-managesieved', requires: '/usr/lib/dovecot/managesieve' },
  imap: { protocol: 'imap', listeners: [] },
  'imap-hibernate': { protocol: 'imap', listeners: [] },
  'imap-urlauth': { protocol: 'imap', listeners: [] },
  'imap-urlauth-login': { protocol: 'imap', listeners: [] },
  'imap-urlauth-worker': { protocol: 'imap', listeners: [] },
  pop3: { protocol: 'pop3', listeners: [] },
  submission: { protocol: 'submission', listeners: [] },
  lmtp: { protocol: 'lmtp', listeners: [] },
  // director-settings.c: one unnamed inet_listener with port 0 (disabled until configured).
  director: { protocol: '', listeners: [{ name: '', port: 0, ssl: false }] },
  doveadm: { protocol: '', listeners: [] },
};

/** Services without a protocol that Dovecot always has (so `service NAME {}` needs no executable). */
export const BUILTIN_SERVICES = [
  'aggregator', 'anvil', 'auth', 'auth-worker', 'config', 'dict', 'dict-async', 'director', 'dns-client', 'doveadm',
  'health-check', 'indexer', 'indexer-worker', 'ipc', 'log', 'old-stats', 'replicator', 'stats', 'tcpwrap',
] as const;

/** Settings an `inet_listener` block accepts (master-settings.c inet_listener_setting_defines). */
export const INET_LISTENER_KEYS = ['name', 'address', 'port', 'ssl', 'reuse_port', 'haproxy'] as const;

/** Section names the config parser treats as filters (config-filter.c), not as settings sections. */
export const FILTER_SECTIONS = ['protocol', 'local', 'remote', 'local_name'] as const;

/**
 * How exim's daemon opens its listening sockets and what it does when that fails, as read from its source
 * (exim 4.96, Debian 12's 4.96-15: src/daemon.c daemon_go, src/host.c, src/ip.c, src/globals.c, src/log.c) and
 * checked against the real daemon under strace (test/integration/exim.test.ts). docs/daemons/exim.md walks through it.
 */
export const EXIM_BEHAVIOUR = {
  /** globals.c (HAVE_IPV6): `local_interfaces = US"<; ::0 ; 0.0.0.0"`. */
  defaultLocalInterfaces: '<; ::0 ; 0.0.0.0',
  /** globals.c: `daemon_smtp_port = US"smtp"`. */
  defaultSmtpPorts: 'smtp',
  /** globals.c: `daemon_startup_retries = 9`, `daemon_startup_sleep = 30`. */
  startupRetries: 9,
  startupSleepSeconds: 30,
  /** globals.c `smtp_connect_backlog = 20`: the listen() backlog. */
  listenBacklog: 20,
  /** log.c: LOG_PANIC_DIE ends in `exim_exit(EXIT_FAILURE)`: status 1 (observed). */
  exitStatus: 1,
  /**
   * daemon.c: only the exact texts `0.0.0.0` and `::0` are wildcards (`Ustrcmp(ipa->address, "::0")`); `::` or
   * `0::0` bind the same address but are not treated as wildcards (no IPV6_V6ONLY, no pairing).
   */
  wildcardV4Text: '0.0.0.0',
  wildcardV6Text: '::0',
  /** Options exim sets on every listening socket (daemon.c), before bind(). IPV6_V6ONLY on the `::0` socket only. */
  setsockopt: ['SO_REUSEADDR', 'TCP_NODELAY'] as const,
  /** log texts; `{port}`, `{address}` ("(any IPv4)", "(any IPv6)" or the address), `{error}` strerror(errno). */
  messages: {
    bindRetry: 'socket bind() to port {port} for address {address} failed: {error}: waiting {sleep} before trying again ({n} more tries)',
    bindAbandoned: 'socket bind() to port {port} for address {address} failed: {error}: daemon abandoned',
    listenFailed: 'listen() failed on interface {address}: {error}',
    malformedAddress: 'Malformed IP address "{item}" in local_interfaces',
    noPort: 'TCP port "{name}" not found',
    invalidPort: 'invalid SMTP port: {item}',
  },
  patterns: {
    /** Group 1 port, 2 address text, 3 error, 4 wait time, 5 tries left. */
    bindRetry: /socket bind\(\) to port (\d+) for address (.+?) failed: (.+?): waiting (\S+) before trying again \((\d+) more tr(?:y|ies)\)/,
    /** Group 1 port, 2 address text, 3 error. */
    bindAbandoned: /socket bind\(\) to port (\d+) for address (.+?) failed: (.+?): daemon abandoned/,
    /** Group 1 address text, 2 error. */
    listenFailed: /listen\(\) failed on interface (.+?): (.+?)$/,
    socketCreate: /IPv([46]) socket creation failed: (.+?)$/,
    malformedAddress: /Malformed IP address "(.*)" in (local_interfaces|-oX data)/,
    portNotFound: /TCP port "(.*)" not found/,
    invalidPort: /invalid SMTP port: (.*)$/,
  },
} as const;

/** The address text exim logs for an interface (daemon.c: "(any IPv6)" / "(any IPv4)" for the wildcards). */
export function eximLogAddress(addressText: string, wildcard: boolean): string {
  if (!wildcard) return addressText;
  return addressText.includes(':') ? '(any IPv6)' : '(any IPv4)';
}

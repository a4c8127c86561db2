/**
 * How Apache httpd 2.4 turns `Listen` lines into sockets, as read from its source (branch 2.4.x: server/listen.c
 * ap_set_listener, alloc_listener, find_listeners, open_listeners, make_sock; server/main.c; server/mpm/event/event.c)
 * and checked against Debian 12's apache2 (2.4.x, APR 1.7, "IPv4-mapped addresses enabled") under strace
 * (test/integration/apache.test.ts). See docs/daemons/apache.md.
 */
export const APACHE_BEHAVIOUR = {
  debian: { config: '/etc/apache2/apache2.conf', serverRoot: '/etc/apache2', envvars: '/etc/apache2/envvars' },
  rhel: { config: '/etc/httpd/conf/httpd.conf', serverRoot: '/etc/httpd' },
  /** `<IfVersion>` is evaluated against this version (bindcheck does not run the binary). */
  assumedVersion: '2.4.62',
  /** `apache2 -l` on Debian 12: modules compiled in, always present for `<IfModule>`. */
  builtinModules: ['core.c', 'mod_so.c', 'mod_watchdog.c', 'http_core.c', 'mod_log_config.c', 'mod_logio.c', 'mod_version.c', 'mod_unixd.c'],
  /** server/config.c AP_MAX_INCLUDE_DEPTH. */
  maxIncludeDepth: 128,
  /** main.c destroy_and_exit_process(process, 1) after "Unable to open logs" (AH00015). No retries. */
  exitStatus: 1,
  messages: {
    bindFailed: '({errno}){strerror}: AH00072: make_sock: could not bind to address {address}:{port}',
    listenFailed: '({errno}){strerror}: AH00073: make_sock: unable to listen for connections on address {address}:{port}',
    noListeners: 'AH00451: no listening sockets available, shutting down',
    unableToOpenLogs: 'AH00015: Unable to open logs',
    duplicate: 'Cannot define multiple Listeners on the same IP:port',
  },
} as const;

/**
 * How nginx (1.22.1, Debian 12) turns `listen` directives into sockets and what it does when one cannot be
 * created, as read from its source and checked against the real binary under strace (test/integration/nginx.test.ts).
 * See docs/daemons/nginx.md.
 */
export const NGINX_BEHAVIOUR = {
  /** --conf-path of Debian's build; relative includes resolve against its directory (ngx_conf_full_name). */
  configPath: '/etc/nginx/nginx.conf',
  /**
   * ngx_http_core_merge_srv_conf(): a server {} without `listen` gets `*:80` when nginx runs as root (getuid() == 0),
   * `*:8000` otherwise. systemd starts nginx as root.
   */
  defaultPortRoot: 80,
  defaultPortNonRoot: 8000,
  /** ngx_http_core_listen(): u.default_port = 80 for `listen 127.0.0.1;`. */
  defaultListenPort: 80,
  /** NGX_LISTEN_BACKLOG on Linux. */
  defaultBacklog: 511,
  /**
   * ngx_open_listening_sockets() (src/core/ngx_connection.c): `for (tries = 5; tries; tries--)`, EADDRINUSE
   * marks the pass failed and goes on to the next socket; after a failed pass "try again to bind() after 500ms";
   * after five, "still could not bind()" and ngx_init_cycle() fails: main() returns 1. Any other bind() errno
   * returns at once (later sockets are never tried).
   */
  retry: { attempts: 5, intervalSeconds: 0.5, exitStatus: 1 },
  /** The only error retried and passed over to the next socket (ngx_open_listening_sockets). */
  retriedErrno: 'EADDRINUSE',
  messages: {
    bindFailed: 'bind() to {addr} failed ({errno}: {error})',
    listenFailed: 'listen() to {addr}, backlog {backlog} failed ({errno}: {error})',
    stillCouldNot: 'still could not bind()',
    tryAgain: 'try again to bind() after 500ms',
  },
  patterns: {
    bindFailed: /\[emerg\] (?:\d+#\d+: )?bind\(\) to (\S+) failed \((\d+): ([^)]*)\)/,
    listenFailed: /\[emerg\] (?:\d+#\d+: )?listen\(\) to (\S+), backlog (\d+) failed \((\d+): ([^)]*)\)/,
    stillCouldNot: /\[emerg\] (?:\d+#\d+: )?still could not bind\(\)/,
  },
} as const;

/**
 * `listen` parameters that set `lsopt.set` and `lsopt.bind` (ngx_http_core_listen): two `listen`s of one address
 * that both carry one are "duplicate listen options", and a specific address with one gets its own socket next
 * to a wildcard on the same port.
 */
export const BIND_PARAMS = ['bind', 'backlog=', 'rcvbuf=', 'sndbuf=', 'deferred', 'ipv6only=', 'reuseport', 'so_keepalive=', 'fastopen='] as const;

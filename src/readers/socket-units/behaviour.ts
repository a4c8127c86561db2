/**
 * How systemd (v252, Debian 12's 252.x) turns a `.socket` unit into listening sockets and what happens when one
 * cannot be created, as read from its source (src/core/load-fragment.c config_parse_socket_listen, src/core/socket.c
 * socket_open_fds, src/shared/socket-label.c socket_address_listen, src/shared/socket-netlink.c
 * socket_address_parse) and checked against the real manager (`systemd --user` in a private namespace) under strace
 * (test/integration/socket-units.test.ts). docs/daemons/systemd-socket.md walks through it.
 */
export const SOCKET_UNIT_BEHAVIOUR = {
  /** The reader's daemon identifier; plans carry the `.socket` unit names in `units`. */
  daemon: 'systemd-socket',
  /** pid 1's comm: it creates (through a short-lived `(sd-listen)` child) and holds every socket of a socket unit. */
  processName: 'systemd',
  /**
   * socket_address_listen(): socket(); IPV6_V6ONLY only when BindIPv6Only= is not `default`; for AF_INET/AF_INET6
   * SO_BINDTODEVICE (BindToDevice=), SO_REUSEPORT (ReusePort=), IP_FREEBIND (FreeBind=), IP_TRANSPARENT
   * (Transparent=); then SO_REUSEADDR=1 always; bind(); listen(Backlog=) for stream sockets.
   */
  setsockopt: ['IPV6_V6ONLY (BindIPv6Only=both|ipv6-only)', 'SO_BINDTODEVICE', 'SO_REUSEPORT', 'IP_FREEBIND', 'IP_TRANSPARENT', 'SO_REUSEADDR'] as const,
  /** Socket.backlog default SOMAXCONN_DELUXE: listen(fd, 2147483647) as traced; the kernel caps it at somaxconn. */
  defaultBacklog: 2147483647,
  /**
   * socket_open_fds(): the unit's ports are opened in config order and the first failure closes the ones already
   * open (socket_close_fds); the unit enters `failed` (Result: resources) and its service is not started by it.
   */
  onFailure: 'exit' as const,
  /** Log texts of 252 (socket.c; job.c status message of socket_vtable). */
  messages: {
    createFailed: '{unit}: Failed to create listening socket ({address}): {error}',
    receiveFailed: '{unit}: Failed to receive listening socket ({address}): {error}',
    listenFailed: '{unit}: Failed to listen on sockets: {error}',
    jobFailed: 'Failed to listen on {description}.',
    listening: 'Listening on {description}.',
    parseFailed: '{file}:{line}: Failed to parse address value, ignoring: {value}',
  },
} as const;

/** parse_boolean() (src/basic/parse-util.c). */
export function parseSystemdBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(t)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(t)) return false;
  return undefined;
}

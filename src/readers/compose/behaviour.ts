/**
 * How Docker publishes a Compose service's ports, as read from moby v20.10.24 (Debian 12's docker.io
 * 20.10.24+dfsg1: vendor/github.com/docker/libnetwork drivers/bridge/port_mapping.go, portmapper/, portallocator/;
 * cmd/docker-proxy) and compose-go (cli/options.go, override/, types/), and checked against Debian 12's real
 * /usr/sbin/docker-proxy under strace (test/integration/docker-proxy.test.ts). docs/daemons/compose.md walks through it.
 */
export const COMPOSE_BEHAVIOUR = {
  /** The engine version modelled: Debian 12's docker.io. Docker 23+/27+ differ (see docs/daemons/compose.md). */
  engineVersion: '20.10.24',
  /** compose-go cli.DefaultFileNames, in order of preference: the first present is the project's file. */
  fileNames: ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'],
  /** cli.DefaultOverrideFileNames: the first present is merged over the file (only when no -f was given). */
  overrideFileNames: ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'],
  /**
   * Where bindcheck looks for projects when no systemd unit names one: each directory directly below these (a
   * convention, not Docker's: compose has no system-wide project list).
   */
  projectParents: ['/opt', '/srv', '/etc/docker/compose'],
  daemonJson: '/etc/docker/daemon.json',
  /** dockerd `--ip` default (config_common_unix.go): the host IP of a binding that names none. */
  defaultBindIp: '0.0.0.0',
  /** dockerd `--userland-proxy` default (config_unix.go). */
  userlandProxy: true,
  /** Who binds: docker-proxy (userland proxy on) or dockerd itself (its dummyProxy); both run as root. */
  processNames: ['docker-proxy', 'dockerd'],
  units: ['docker.service'],
  /**
   * Sockets, from strace of docker-proxy and portmapper/proxy.go dummyProxy: Go's net.ListenTCP("tcp4"|"tcp6") —
   * SO_REUSEADDR, IPV6_V6ONLY=1 on tcp6, listen(4096 = somaxconn); net.ListenUDP("udp4"|"udp6") — SO_BROADCAST,
   * IPV6_V6ONLY=1 on udp6, no SO_REUSEADDR.
   */
  setsockopt: ['SO_REUSEADDR (tcp)', 'SO_BROADCAST (udp)', 'IPV6_V6ONLY (tcp6/udp6)'] as const,
  messages: {
    /** portallocator.ErrPortAlreadyAllocated: the same host IP text, protocol and port already taken in this dockerd. */
    alreadyAllocated: 'Bind for {ip}:{port} failed: port is already allocated',
    /** Go's *net.OpError from docker-proxy, written back to dockerd on fd 3 and wrapped by proxyCommand.Start. */
    proxyFailed: 'Error starting userland proxy: listen {net} {ip}:{port}: bind: {error}',
    /** dummyProxy (userland-proxy false): dockerd's own net.Listen error, unwrapped. */
    listenFailed: 'listen {net} {ip}:{port}: bind: {error}',
    /** libnetwork endpoint.go sbJoin: what the container start returns to compose. */
    endpointFailed: 'driver failed programming external connectivity on endpoint {endpoint} ({id}): {error}',
  },
  patterns: {
    alreadyAllocated: /Bind for (\S+):(\d+) failed: port is already allocated/,
    listenFailed: /(Error starting userland proxy: )?listen (tcp|udp|sctp)([46])? (\S+):(\d+): bind: ([a-z][a-z ]+[a-z])/,
    endpoint: /driver failed programming external connectivity on endpoint (\S+) \(([0-9a-f]+)\)/,
  },
} as const;

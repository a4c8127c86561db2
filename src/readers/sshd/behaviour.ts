/**
 * How OpenSSH's sshd turns sshd_config into listening sockets and what it does when one cannot be created, as read
 * from its source (openssh-portable V_9_2_P1, Debian 12's 1:9.2p1-2: servconf.c, sshd.c, misc.c) and checked
 * against the real Debian 12 binary under strace (test/integration/sshd.test.ts). docs/daemons/sshd.md walks
 * through it.
 */
export const SSHD_BEHAVIOUR = {
  /** sshd.c `config_file_name = _PATH_SERVER_CONFIG_FILE`; `-f FILE` replaces it. */
  configPath: '/etc/ssh/sshd_config',
  /** servconf.c sInclude: a relative Include is relative to SSHDIR. */
  sshDir: '/etc/ssh',
  /** SSH_DEFAULT_PORT, used when no Port line and no -p gave one (process_queued_listen_addrs). */
  defaultPort: 22,
  /** servconf.c SERVCONF_MAX_DEPTH: deeper Includes are fatal ("Too many recursive configuration includes"). */
  maxIncludeDepth: 16,
  /** servconf.h MAX_PORTS: more Port lines are fatal ("too many ports"). */
  maxPorts: 256,
  /** sshd.c MAX_LISTEN_SOCKS: a 17th listen address is fatal ("Too many listen sockets. Enlarge MAX_LISTEN_SOCKS"). */
  maxListenSocks: 16,
  /** log.c fatal() → cleanup_exit(255). */
  exitStatus: 255,
  /**
   * Services a socket unit with Accept=no hands its sockets to: Debian's sshd (1:9.2p1, "Support systemd socket
   * activation") calls sd_listen_fds() and, given LISTEN_FDS, listens on those and binds nothing from sshd_config
   * (observed: `LISTEN_FDS=1 sshd -D` with Port 2223 in the config listens only on the inherited socket).
   */
  activatedServices: ['ssh.service', 'sshd.service'] as readonly string[],
  /** Accept=yes: one `sshd -i` per connection from this template, which binds nothing. */
  activatedTemplates: ['ssh@.service', 'sshd@.service'] as readonly string[],
  /**
   * sshd.c listen_on_addrs(): socket(); SO_REUSEADDR=1 (set_reuseaddr); SO_BINDTODEVICE=rdomain when the
   * ListenAddress names one (set_rdomain, Linux); IPV6_V6ONLY=1 on AF_INET6 (sock_set_v6only); bind(); listen(128)
   * before the next address.
   */
  setsockopt: ['SO_REUSEADDR', 'SO_BINDTODEVICE (rdomain)', 'IPV6_V6ONLY (inet6)'] as const,
  /**
   * Log texts (sshd.c, OpenSSH 9.2). A failed bind() is logged with error() and sshd goes on with the next address;
   * when none was bound it exits with fatal() (status 255). A failed listen() is fatal at once.
   */
  messages: {
    listening: 'Server listening on {address} port {port}.',
    bindFailed: 'Bind to port {port} on {address} failed: {error}.',
    noneBound: 'Cannot bind any address.',
    listenFailed: 'listen on [{address}]:{port}: {error}',
  },
  patterns: {
    /** With syslog the level is part of the text in 9.x (`error: Bind to …`); with `-e` on stderr it is not. */
    bindFailed: /(?:^|: )Bind to port (\d+) on (\S+) failed: (.+?)\.?$/,
    noneBound: /(?:^|: )Cannot bind any address\.?$/,
    listenFailed: /(?:^|: )listen on \[([^\]]+)\]:(\d+): (.+)$/,
    listening: /(?:^|: )Server listening on (\S+) port (\d+)(?: rdomain (\S+))?\.$/,
  },
} as const;

/**
 * servconf.c keywords[] of 9.2p1 plus Debian's patches (GSSAPI key exchange, DebianBanner): `G` allowed only in the
 * global section (SSHCFG_GLOBAL), `A` also inside a Match block (SSHCFG_ALL). Keywords are compared with
 * strcasecmp. Deprecated and unsupported ones are accepted (logged, ignored); any other word is fatal.
 */
const KEYWORD_TABLE = `acceptenv:A addressfamily:G afstokenpassing:G allowagentforwarding:A allowgroups:A
allowstreamlocalforwarding:A allowtcpforwarding:A allowusers:A authenticationmethods:A authorizedkeyscommand:A
authorizedkeyscommanduser:A authorizedkeysfile:A authorizedkeysfile2:A authorizedprincipalscommand:A
authorizedprincipalscommanduser:A authorizedprincipalsfile:A banner:A casignaturealgorithms:A
challengeresponseauthentication:A channeltimeout:A checkmail:G chrootdirectory:A ciphers:G
clientalivecountmax:A clientaliveinterval:A compression:G denygroups:A denyusers:A disableforwarding:A
dsaauthentication:G exposeauthinfo:A fingerprinthash:G forcecommand:A gatewayports:A gssapiauthentication:A
gssapicleanupcredentials:G gssapistrictacceptorcheck:G hostbasedacceptedalgorithms:A
hostbasedacceptedkeytypes:A hostbasedauthentication:A hostbasedusesnamefrompacketonly:A hostcertificate:G
hostdsakey:G hostkey:G hostkeyagent:G hostkeyalgorithms:G ignorerhosts:A ignoreuserknownhosts:G include:A
ipqos:A kbdinteractiveauthentication:A keepalive:G kerberosauthentication:A kerberosgetafstoken:G
kerberosorlocalpasswd:G kerberostgtpassing:G kerberosticketcleanup:G kexalgorithms:G keyregenerationinterval:G
listenaddress:G logingracetime:G loglevel:A logverbose:A macs:G match:A maxauthtries:A maxsessions:A
maxstartups:G modulifile:G pamauthenticationviakbdint:G passwordauthentication:A permitemptypasswords:A
permitlisten:A permitopen:A permitrootlogin:A permittty:A permittunnel:A permituserenvironment:G
permituserrc:A persourcemaxstartups:G persourcenetblocksize:G pidfile:G port:G printlastlog:G printmotd:G
protocol:G pubkeyacceptedalgorithms:A pubkeyacceptedkeytypes:A pubkeyauthentication:A pubkeyauthoptions:A
rdomain:A rekeylimit:A requiredrsasize:A reversemappingcheck:G revokedkeys:A rhostsauthentication:G
rhostsrsaauthentication:A rsaauthentication:A securitykeyprovider:G serverkeybits:G setenv:A
skeyauthentication:A streamlocalbindmask:A streamlocalbindunlink:A strictmodes:G subsystem:G syslogfacility:G
tcpkeepalive:G trustedusercakeys:A unusedconnectiontimeout:A usedns:G uselogin:G usepam:G x11displayoffset:A
x11forwarding:A x11uselocalhost:A
useprivilegeseparation:G verifyreversemapping:G versionaddendum:G xauthlocation:G gssapicleanupcreds:G
gssapikeyexchange:G gssapistorecredentialsonrekey:G gssapikexalgorithms:G gssapiusesessioncredcache:G
debianbanner:G`;

/** Lower-cased keyword → whether it is allowed inside a Match block. */
export const SSHD_KEYWORDS: ReadonlyMap<string, { inMatch: boolean }> = new Map(
  KEYWORD_TABLE.split(/\s+/)
    .filter(Boolean)
    .map((e) => {
      const [k, f] = e.split(':') as [string, string];
      return [k, { inMatch: f === 'A' }] as const;
    }),
);

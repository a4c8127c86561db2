import * as path from 'node:path';
import { appendAll } from '../../model/append.js';

/** A config file or directory a daemon reads, and the argv word that named it (absent for the built-in default). */
export interface ConfigArg {
  path: string;
  kind: 'file' | 'dir';
  /** Index into argv of the word holding the path; undefined when it is the daemon's built-in default. */
  argIndex?: number;
}

/** A config setting given on the command line instead of in the file. */
export interface ArgOverride {
  /** The daemon's own option name (`DaemonPortOptions`, `Port`, `listen-address`, nginx's directive text). */
  option: string;
  value: string;
  argIndex: number;
}

/** What a daemon's argv says about where its config is and what it overrides. */
export interface DaemonArgs {
  daemon: string;
  /** Config files/dirs in the order the daemon reads them; the built-in default when argv names none. */
  config: ConfigArg[];
  overrides: ArgOverride[];
  /** Whether the command line asks for the listening daemon (sendmail/exim `-bd`); undefined when not a question. */
  daemonMode?: boolean;
  /** How the daemon reads its argv, for explanations (quirks, precedence between argv and file). */
  notes: string[];
  /** Words the parser did not understand (missing values, unknown options). */
  problems: string[];
}

type ArgParser = (argv: string[]) => DaemonArgs;

interface GetoptResult {
  opts: { opt: string; value?: string; argIndex: number }[];
  operands: { value: string; argIndex: number }[];
  problems: string[];
}

/**
 * POSIX getopt over argv[1..] with GNU long options: `shortSpec` is a getopt string (`c:` takes a value, attached
 * `-cFILE` or separate `-c FILE`); long options map to 0 (no value), 1 (required: `--x=v` or `--x v`) or
 * 2 (optional: only `--x=v`). Options and operands may interleave (glibc permutes); `--` ends options.
 */
function getopt(argv: string[], shortSpec: string, long: Record<string, [string, 0 | 1 | 2]> = {}): GetoptResult {
  const r: GetoptResult = { opts: [], operands: [], problems: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      for (let k = i + 1; k < argv.length; k++) r.operands.push({ value: argv[k] as string, argIndex: k });
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = long[name];
      if (!spec) {
        r.problems.push(`unknown option ${a}`);
        continue;
      }
      const [opt, has] = spec;
      if (eq >= 0) {
        if (has === 0) r.problems.push(`${a}: option takes no value`);
        r.opts.push({ opt, value: a.slice(eq + 1), argIndex: i });
      } else if (has === 1) {
        if (i + 1 >= argv.length) r.problems.push(`${a} needs a value`);
        else r.opts.push({ opt, value: argv[++i] as string, argIndex: i });
      } else r.opts.push({ opt, argIndex: i });
      continue;
    }
    if (!a.startsWith('-') || a === '-') {
      r.operands.push({ value: a, argIndex: i });
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a[k] as string;
      const at = shortSpec.indexOf(c);
      if (at < 0 || c === ':') {
        r.problems.push(`unknown option -${c}`);
        continue;
      }
      if (shortSpec[at + 1] === ':') {
        if (k + 1 < a.length) r.opts.push({ opt: c, value: a.slice(k + 1), argIndex: i });
        else if (i + 1 < argv.length) r.opts.push({ opt: c, value: argv[++i] as string, argIndex: i });
        else r.problems.push(`-${c} needs a value`);
        break;
      }
      r.opts.push({ opt: c, argIndex: i });
    }
  }
  return r;
}

function base(daemon: string, problems: string[]): DaemonArgs {
  return { daemon, config: [], overrides: [], notes: [], problems: [...problems] };
}

/** sendmail main.c OPTIONS (8.15–8.18). */
const SENDMAIL_OPTIONS = 'A:B:b:C:D:d:e:F:f:Gh:IiL:M:mN:nO:o:p:Q:q:R:r:sTtV:vX:';
/** conf.c OptionTab: single-letter names of the options that decide sockets. */
const SENDMAIL_SHORT_OPTION_NAMES: Record<string, string> = { O: 'DaemonPortOptions', C: 'ClientPortOptions' };

/**
 * sendmail: `-C FILE`/`-CFILE`, `-bd`/`-bD` daemon mode, `-O Name=value` and `-oXvalue`. Before getopt, main.c
 * obsolete() rewrites words: a value-taking option with nothing attached takes the next word only when that does
 * not start with '-', a bare `-C` means `-Csendmail.cf` (relative to the working directory), a bare `-q` means `-q0`.
 */
function sendmailArgs(argv: string[]): DaemonArgs {
  const words = [...argv];
  const notes: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const a = words[i] as string;
    if (!a.startsWith('-') || a === '--') break;
    const op = SENDMAIL_OPTIONS.indexOf(a[1] ?? '');
    if (op >= 0 && SENDMAIL_OPTIONS[op + 1] === ':' && a.length === 2 && a[1] !== 'd' && i + 1 < words.length && !(words[i + 1] as string).startsWith('-')) {
      i++;
      continue;
    }
    if (a === '-C') {
      words[i] = '-Csendmail.cf';
      notes.push(`argv[${i}] '-C' without a file means sendmail.cf in the working directory (main.c obsolete())`);
    } else if (a === '-q') {
      words[i] = '-q0';
      notes.push(`argv[${i}] '-q' without an interval means '-q0': no periodic queue runs (main.c obsolete())`);
    } else if (a === '-Q') words[i] = '-Q.';
    else if (a === '-d') words[i] = '-d0-99.1';
  }
  const g = getopt(words, SENDMAIL_OPTIONS);
  const r = base('sendmail', g.problems);
  appendAll(r.notes, notes);
  for (const o of g.opts) {
    if (o.opt === 'C' && o.value !== undefined) r.config = [{ path: o.value, kind: 'file', argIndex: o.argIndex }];
    else if (o.opt === 'b' && o.value !== undefined) r.daemonMode = o.value.startsWith('d') || o.value.startsWith('D');
    else if (o.opt === 'O' && o.value !== undefined) {
      const eq = o.value.indexOf('=');
      const name = (eq >= 0 ? o.value.slice(0, eq) : o.value).trim();
      r.overrides.push({ option: name, value: eq >= 0 ? o.value.slice(eq + 1).trim() : '', argIndex: o.argIndex });
    } else if (o.opt === 'o' && o.value !== undefined && o.value.length > 0) {
      const c = o.value[0] as string;
      r.overrides.push({ option: SENDMAIL_SHORT_OPTION_NAMES[c] ?? c, value: o.value.slice(1), argIndex: o.argIndex });
    }
  }
  if (r.daemonMode === undefined) r.daemonMode = false;
  if (r.config.length === 0) r.config = [{ path: '/etc/mail/sendmail.cf', kind: 'file' }];
  else if (!(r.config[0] as ConfigArg).path.startsWith('/')) {
    r.notes.push(`-C ${(r.config[0] as ConfigArg).path} is relative: sendmail opens it from its working directory (/ under systemd unless WorkingDirectory= is set)`);
  }
  if (r.overrides.length > 0) {
    r.notes.push("options set with -O/-o are sticky: the .cf's lines for the same option are ignored (readcf.c setoption, StickyOpt)");
  }
  return r;
}

/**
 * nginx (src/core/nginx.c ngx_get_options): single-letter options, the value attached or in the next word.
 * A relative `-c` is relative to the prefix (`-p`, or the compiled-in prefix).
 */
function nginxArgs(argv: string[]): DaemonArgs {
  const g = getopt(argv, 'hvVtTqs:p:e:c:g:?');
  const r = base('nginx', g.problems);
  let prefix: string | undefined;
  for (const o of g.opts) {
    if (o.opt === 'c' && o.value !== undefined) r.config = [{ path: o.value, kind: 'file', argIndex: o.argIndex }];
    else if (o.opt === 'p' && o.value !== undefined) prefix = o.value;
    else if (o.opt === 'g' && o.value !== undefined) r.overrides.push({ option: 'global directives', value: o.value, argIndex: o.argIndex });
    else if (o.opt === 't' || o.opt === 'T') r.daemonMode = false;
  }
  const first = r.config[0];
  if (first && !first.path.startsWith('/')) {
    if (prefix !== undefined) {
      first.path = path.posix.join(prefix, first.path);
      r.notes.push(`-c is relative: nginx reads it under the -p prefix, ${first.path}`);
    } else r.notes.push(`-c ${first.path} is relative to nginx's compiled-in prefix (nginx -V shows --prefix)`);
  }
  if (r.config.length === 0) r.config = [{ path: '/etc/nginx/nginx.conf', kind: 'file' }];
  if (r.overrides.length > 0) r.notes.push('-g directives are parsed as if they were at the top of the main config');
  return r;
}

/** OpenSSH sshd.c getopt string (9.x). `-p` ports replace the config's Port lines; `-o` values win over the file. */
function sshdArgs(argv: string[]): DaemonArgs {
  const g = getopt(argv, '46C:DE:GQRTVb:c:deE:f:g:h:ik:o:p:qrtu:');
  const r = base('sshd', g.problems);
  for (const o of g.opts) {
    if (o.opt === 'f' && o.value !== undefined) r.config = [{ path: o.value, kind: 'file', argIndex: o.argIndex }];
    else if (o.opt === 'p' && o.value !== undefined) r.overrides.push({ option: 'Port', value: o.value, argIndex: o.argIndex });
    else if (o.opt === 'o' && o.value !== undefined) {
      const m = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*)$/.exec(o.value);
      if (m) r.overrides.push({ option: m[1] as string, value: (m[2] as string).trim(), argIndex: o.argIndex });
      else r.problems.push(`-o ${o.value}: not an Option=value`);
    } else if (o.opt === '4') r.overrides.push({ option: 'AddressFamily', value: 'inet', argIndex: o.argIndex });
    else if (o.opt === '6') r.overrides.push({ option: 'AddressFamily', value: 'inet6', argIndex: o.argIndex });
    else if (o.opt === 't' || o.opt === 'T' || o.opt === 'G') r.daemonMode = false;
  }
  if (r.config.length === 0) r.config = [{ path: '/etc/ssh/sshd_config', kind: 'file' }];
  if (r.overrides.some((o) => o.option === 'Port')) r.notes.push("ports given with -p replace the config's Port lines (servconf.c: ports_from_cmdline)");
  if (r.overrides.some((o) => o.option !== 'Port')) r.notes.push('-o options are read before the config file and sshd keeps the first value it sees, so they win');
  return r;
}

/**
 * dnsmasq 2.90 src/option.c opts[]: every long option as `name:has_arg:val` (has_arg 0 none, 1 required, 2 optional
 * and only as `--name=value`); val is the short letter or the LOPT_ constant. Config files use the same names.
 */
const DNSMASQ_OPTION_TABLE = `version:0:v no-hosts:0:h no-poll:0:n help:0:w no-daemon:0:d log-queries:2:q user:2:u group:2:g resolv-file:2:r
servers-file:1:LOPT_SERVERS_FILE mx-host:1:m mx-target:1:t cache-size:2:c port:1:p dhcp-leasefile:2:l
dhcp-lease:1:l dhcp-host:1:G dhcp-range:1:F dhcp-option:1:O dhcp-boot:1:M domain:1:s domain-suffix:1:s
interface:1:i listen-address:1:a local-service:2:LOPT_LOCAL_SERVICE bogus-priv:0:b bogus-nxdomain:1:B
ignore-address:1:LOPT_IGNORE_ADDR selfmx:0:e filterwin2k:0:f filter-A:0:LOPT_FILTER_A
filter-AAAA:0:LOPT_FILTER_AAAA filter-rr:1:LOPT_FILTER_RR pid-file:2:x strict-order:0:o server:1:S
rev-server:1:LOPT_REV_SERV local:1:LOPT_LOCAL address:1:A conf-file:2:C conf-script:1:LOPT_CONF_SCRIPT
no-resolv:0:R expand-hosts:0:E localmx:0:L local-ttl:1:T no-negcache:0:N no-round-robin:0:LOPT_NORR
cache-rr:1:LOPT_CACHE_RR addn-hosts:1:H hostsdir:1:LOPT_HOST_INOTIFY query-port:1:Q except-interface:1:I
no-dhcp-interface:1:2 no-dhcpv4-interface:1:LOPT_NO_DHCP4 no-dhcpv6-interface:1:LOPT_NO_DHCP6 domain-needed:0:D
dhcp-lease-max:1:X bind-interfaces:0:z read-ethers:0:Z alias:1:V dhcp-vendorclass:1:U dhcp-userclass:1:j
dhcp-ignore:1:J edns-packet-max:1:P keep-in-foreground:0:k dhcp-authoritative:0:K srv-host:1:W
localise-queries:0:y txt-record:1:Y dns-rr:1:LOPT_RR enable-dbus:2:1 enable-ubus:2:LOPT_UBUS bootp-dynamic:2:3
dhcp-mac:1:4 no-ping:0:5 dhcp-script:1:6 conf-dir:1:7 leasefile-ro:0:9 script-on-renewal:0:LOPT_SCRIPT_TIME
dns-forward-max:1:0 clear-on-reload:0:LOPT_RELOAD dhcp-ignore-names:2:LOPT_NO_NAMES enable-tftp:2:LOPT_TFTP
tftp-secure:0:LOPT_SECURE tftp-no-fail:0:LOPT_TFTP_NO_FAIL tftp-unique-root:2:LOPT_APREF
tftp-root:1:LOPT_PREFIX tftp-max:1:LOPT_TFTP_MAX tftp-mtu:1:LOPT_TFTP_MTU tftp-lowercase:0:LOPT_TFTP_LC
tftp-single-port:0:LOPT_SINGLE_PORT ptr-record:1:LOPT_PTR naptr-record:1:LOPT_NAPTR
shared-network:1:LOPT_SHARED_NET dhcp-option-force:1:LOPT_FORCE tftp-no-blocksize:0:LOPT_NOBLOCK
log-dhcp:0:LOPT_LOG_OPTS log-async:2:LOPT_MAX_LOGS dhcp-circuitid:1:LOPT_CIRCUIT dhcp-remoteid:1:LOPT_REMOTE
dhcp-subscrid:1:LOPT_SUBSCR dhcp-pxe-vendor:1:LOPT_PXE_VENDOR interface-name:1:LOPT_INTNAME
dhcp-hostsfile:1:LOPT_DHCP_HOST dhcp-optsfile:1:LOPT_DHCP_OPTS dhcp-hostsdir:1:LOPT_DHCP_INOTIFY
dhcp-optsdir:1:LOPT_DHOPT_INOTIFY dhcp-no-override:0:LOPT_OVERRIDE tftp-port-range:1:LOPT_TFTPPORTS
stop-dns-rebind:0:LOPT_REBIND rebind-domain-ok:1:LOPT_NO_REBIND all-servers:0:LOPT_NOLAST
dhcp-match:1:LOPT_MATCH dhcp-name-match:1:LOPT_NAME_MATCH dhcp-broadcast:2:LOPT_BROADCAST neg-ttl:1:LOPT_NEGTTL
max-ttl:1:LOPT_MAXTTL min-cache-ttl:1:LOPT_MINCTTL max-cache-ttl:1:LOPT_MAXCTTL
dhcp-alternate-port:2:LOPT_ALTPORT dhcp-scriptuser:1:LOPT_SCRIPTUSR min-port:1:LOPT_MINPORT
max-port:1:LOPT_MAXPORT dhcp-fqdn:0:LOPT_DHCP_FQDN cname:1:LOPT_CNAME pxe-prompt:1:LOPT_PXE_PROMT
pxe-service:1:LOPT_PXE_SERV test:0:LOPT_TEST tag-if:1:LOPT_TAG_IF dhcp-proxy:2:LOPT_PROXY
dhcp-generate-names:2:LOPT_GEN_NAMES rebind-localhost-ok:0:LOPT_LOC_REBND add-mac:2:LOPT_ADD_MAC
strip-mac:0:LOPT_STRIP_MAC add-subnet:2:LOPT_ADD_SBNET strip-subnet:0:LOPT_STRIP_SBNET
proxy-dnssec:0:LOPT_DNSSEC dhcp-sequential-ip:0:LOPT_INCR_ADDR conntrack:0:LOPT_CONNTRACK
dhcp-client-update:0:LOPT_FQDN dhcp-luascript:1:LOPT_LUASCRIPT enable-ra:0:LOPT_RA dhcp-duid:1:LOPT_DUID
host-record:1:LOPT_HOST_REC bind-dynamic:0:LOPT_CLVERBIND auth-zone:1:LOPT_AUTHZONE auth-server:1:LOPT_AUTHSERV
auth-ttl:1:LOPT_AUTHTTL auth-soa:1:LOPT_AUTHSOA auth-sec-servers:1:LOPT_AUTHSFS auth-peer:1:LOPT_AUTHPEER
ipset:1:LOPT_IPSET nftset:1:LOPT_NFTSET connmark-allowlist-enable:2:LOPT_CMARK_ALST_EN
connmark-allowlist:1:LOPT_CMARK_ALST synth-domain:1:LOPT_SYNTH dnssec:0:LOPT_SEC_VALID
trust-anchor:1:LOPT_TRUST_ANCHOR dnssec-debug:0:LOPT_DNSSEC_DEBUG dnssec-check-unsigned:2:LOPT_DNSSEC_CHECK
dnssec-no-timecheck:0:LOPT_DNSSEC_TIME dnssec-timestamp:1:LOPT_DNSSEC_STAMP dnssec-limits:1:LOPT_DNSSEC_LIMITS
dhcp-relay:1:LOPT_RELAY ra-param:1:LOPT_RA_PARAM quiet-dhcp:0:LOPT_QUIET_DHCP quiet-dhcp6:0:LOPT_QUIET_DHCP6
quiet-ra:0:LOPT_QUIET_RA dns-loop-detect:0:LOPT_LOOP_DETECT script-arp:0:LOPT_SCRIPT_ARP
dhcp-reply-delay:1:LOPT_REPLY_DELAY dhcp-rapid-commit:0:LOPT_RAPID_COMMIT dumpfile:1:LOPT_DUMPFILE
dumpmask:1:LOPT_DUMPMASK dhcp-ignore-clid:0:LOPT_IGNORE_CLID dynamic-host:1:LOPT_DYNHOST
log-debug:0:LOPT_LOG_DEBUG umbrella:2:LOPT_UMBRELLA quiet-tftp:0:LOPT_QUIET_TFTP port-limit:1:LOPT_RANDPORT_LIM
fast-dns-retry:2:LOPT_FAST_RETRY no-ident:0:LOPT_NO_IDENT max-tcp-connections:1:LOPT_MAX_PROCS`;

/** dnsmasq's long options: name → how it takes a value and which option it is (aliases share an id). */
export const DNSMASQ_OPTIONS: ReadonlyMap<string, { hasArg: 0 | 1 | 2; id: string }> = new Map(
  DNSMASQ_OPTION_TABLE.split(/\s+/)
    .filter(Boolean)
    .map((e) => {
      const [name, has, id] = e.split(':') as [string, string, string];
      return [name, { hasArg: Number(has) as 0 | 1 | 2, id }] as const;
    }),
);

/** dnsmasq src/option.c OPTSTRING: the short options (`x:` takes a value). */
export const DNSMASQ_OPTSTRING = '951yZDNLERKzowefnbvhdkqr:m:p:c:l:s:i:t:u:g:a:x:S:C:A:T:H:Q:I:B:F:G:O:M:X:V:U:j:P:J:W:Y:2:4:6:7:8:0:3:';

/**
 * The options that decide dnsmasq's sockets, by option id, with the name reported in ArgOverride.option:
 * DNS port and addresses, the interface selection, the binding mode, DHCP (port 67) and TFTP (port 69).
 */
const DNSMASQ_LISTEN_OPTIONS: Record<string, string> = {
  p: 'port',
  a: 'listen-address',
  i: 'interface',
  I: 'except-interface',
  z: 'bind-interfaces',
  LOPT_CLVERBIND: 'bind-dynamic',
  LOPT_LOCAL_SERVICE: 'local-service',
  F: 'dhcp-range',
  '2': 'no-dhcp-interface',
  LOPT_NO_DHCP4: 'no-dhcpv4-interface',
  LOPT_NO_DHCP6: 'no-dhcpv6-interface',
  LOPT_ALTPORT: 'dhcp-alternate-port',
  LOPT_TFTP: 'enable-tftp',
  LOPT_RELAY: 'dhcp-relay',
  LOPT_AUTHSERV: 'auth-server',
  LOPT_CONF_SCRIPT: 'conf-script',
};

/**
 * dnsmasq (src/option.c read_opts): getopt_long over OPTSTRING and opts[]. `-C FILE` / `--conf-file=FILE` names the
 * main config (read after the whole command line; a second -C is read at once), `-7 DIR[,.ext|*.ext…]` a conf-dir
 * (read at once); every option in DNSMASQ_LISTEN_OPTIONS is reported as an override, in argv order.
 */
function dnsmasqArgs(argv: string[]): DaemonArgs {
  const long: Record<string, [string, 0 | 1 | 2]> = {};
  for (const [name, o] of DNSMASQ_OPTIONS) long[name] = [o.id, o.hasArg];
  const g = getopt(argv, DNSMASQ_OPTSTRING, long);
  const r = base('dnsmasq', g.problems);
  let confFileSeen = false;
  for (const o of g.opts) {
    if (o.opt === 'C') {
      confFileSeen = true;
      if (o.value !== undefined) r.config.push({ path: o.value, kind: 'file', argIndex: o.argIndex });
      else r.notes.push(`argv[${o.argIndex}] --conf-file without '=FILE' names no file (the value is optional and only taken after '=')`);
    } else if (o.opt === '7' && o.value !== undefined) {
      // --conf-dir=DIR[,.ext…]: the first comma-separated item is the directory.
      r.config.push({ path: o.value.split(',')[0] as string, kind: 'dir', argIndex: o.argIndex });
    } else if (o.opt === 'LOPT_TEST') r.daemonMode = false;
    else {
      const name = DNSMASQ_LISTEN_OPTIONS[o.opt];
      if (name !== undefined) r.overrides.push({ option: name, value: o.value ?? '', argIndex: o.argIndex });
    }
  }
  // dnsmasq dies on a non-option word ("junk found in command line").
  for (const w of g.operands) if (w.value.trim() !== '') r.problems.push(`argv[${w.argIndex}] '${w.value}': dnsmasq stops with "junk found in command line"`);
  if (!confFileSeen) r.config.unshift({ path: '/etc/dnsmasq.conf', kind: 'file' });
  return r;
}

/**
 * haproxy (src/haproxy.c init_args): `-f` takes the next word and may repeat (a directory means its `*.cfg` files
 * in lexical order); after `--` every word is a config file; `-sf`/`-st` swallow the pids that follow.
 */
function haproxyArgs(argv: string[]): DaemonArgs {
  const r = base('haproxy', []);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      for (let k = i + 1; k < argv.length; k++) r.config.push({ path: argv[k] as string, kind: 'file', argIndex: k });
      break;
    }
    if (a === '-f' || a === '-C' || a === '-p' || a === '-L' || a === '-S' || a === '-x' || a === '-N' || a === '-m' || a === '-n') {
      const v = argv[i + 1];
      if (v === undefined) {
        r.problems.push(`${a} needs a value`);
        break;
      }
      i++;
      // A directory given to -f stands for its *.cfg files in lexical order; telling needs the filesystem.
      if (a === '-f') r.config.push({ path: v, kind: 'file', argIndex: i });
      if (a === '-C') r.notes.push(`-C ${v}: relative config paths are read from ${v}`);
      continue;
    }
    if (a === '-sf' || a === '-st') {
      while (i + 1 < argv.length && /^\d+$/.test(argv[i + 1] as string)) i++;
      continue;
    }
    if (a === '-c') r.daemonMode = false;
    // haproxy.c: `-dR` clears GTUNE_USE_REUSEPORT, `-dG` GTUNE_USE_GAI (the global noreuseport / nogetaddrinfo).
    else if (a === '-dR') r.overrides.push({ option: 'noreuseport', value: '', argIndex: i });
    else if (a === '-dG') r.overrides.push({ option: 'nogetaddrinfo', value: '', argIndex: i });
  }
  if (r.config.length === 0) r.notes.push('haproxy has no built-in config path: without -f it refuses to start');
  else if (r.config.length > 1) r.notes.push('several -f: haproxy reads them in order as one config');
  return r;
}

/** postfix(1)/master(8): `-c DIR` names the configuration directory (main.cf, master.cf). */
function postfixArgs(argv: string[]): DaemonArgs {
  const g = getopt(argv, 'c:Ddtvwe:');
  const r = base('postfix', g.problems);
  const dir = g.opts.find((o) => o.opt === 'c');
  const d = dir?.value ?? '/etc/postfix';
  const at = dir ? { argIndex: dir.argIndex } : {};
  r.config = [
    { path: path.posix.join(d, 'main.cf'), kind: 'file', ...at },
    { path: path.posix.join(d, 'master.cf'), kind: 'file', ...at },
  ];
  if (path.posix.basename(argv[0] ?? '') === 'postfix') r.daemonMode = g.operands.some((o) => o.value === 'start' || o.value === 'start-fg');
  else r.daemonMode = true;
  return r;
}

/**
 * exim (src/exim.c): `-C FILE[:FILE…]` (the first that exists is used), `-bd` daemon, `-oX` overrides
 * daemon_smtp_ports/local_interfaces, values attached or separate.
 */
function eximArgs(argv: string[]): DaemonArgs {
  const r = base('exim', []);
  r.daemonMode = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    const take = (attached: string): string | undefined => (attached !== '' ? attached : (argv[++i] as string | undefined));
    if (a.startsWith('-C')) {
      const v = take(a.slice(2));
      if (v === undefined) r.problems.push('-C needs a value');
      else r.config = v.split(':').map((p) => ({ path: p, kind: 'file' as const, argIndex: i }));
    } else if (a.startsWith('-oX')) {
      const v = take(a.slice(3));
      if (v === undefined) r.problems.push('-oX needs a value');
      else r.overrides.push({ option: /^[\d,]+$/.test(v) ? 'daemon_smtp_ports' : 'local_interfaces', value: v, argIndex: i });
    } else if (a === '-bd' || a === '-bdf') r.daemonMode = true;
  }
  if (r.config.length === 0) r.notes.push('exim reads its compiled-in CONFIGURE_FILE (exim -bV shows it): Debian /var/lib/exim4/config.autogenerated, Red Hat /etc/exim/exim.conf');
  else if (r.config.length > 1) r.notes.push('-C with a colon list: exim uses the first file that exists');
  return r;
}

/** dovecot (src/master/main.c): `-c FILE`, `-F` foreground. */
function dovecotArgs(argv: string[]): DaemonArgs {
  const g = getopt(argv, 'Fc:bi:pnaso:');
  const r = base('dovecot', g.problems);
  for (const o of g.opts) {
    if (o.opt === 'c' && o.value !== undefined) r.config = [{ path: o.value, kind: 'file', argIndex: o.argIndex }];
    if (o.opt === 'o' && o.value !== undefined) {
      const eq = o.value.indexOf('=');
      r.overrides.push({ option: eq >= 0 ? o.value.slice(0, eq) : o.value, value: eq >= 0 ? o.value.slice(eq + 1) : '', argIndex: o.argIndex });
    }
  }
  r.daemonMode = !g.opts.some((o) => o.opt === 'n' || o.opt === 'a');
  if (r.config.length === 0) r.config = [{ path: '/etc/dovecot/dovecot.conf', kind: 'file' }];
  return r;
}

/** Which daemon an executable is, by its file name (distribution and alternatives names included). */
export const DAEMON_EXECUTABLES: Record<string, string> = {
  sendmail: 'sendmail',
  'sendmail.sendmail': 'sendmail',
  'sendmail-mta': 'sendmail',
  nginx: 'nginx',
  sshd: 'sshd',
  dnsmasq: 'dnsmasq',
  haproxy: 'haproxy',
  postfix: 'postfix',
  master: 'postfix',
  exim: 'exim',
  exim4: 'exim',
  dovecot: 'dovecot',
};

const PARSERS: Record<string, ArgParser> = {
  sendmail: sendmailArgs,
  nginx: nginxArgs,
  sshd: sshdArgs,
  dnsmasq: dnsmasqArgs,
  haproxy: haproxyArgs,
  postfix: postfixArgs,
  exim: eximArgs,
  dovecot: dovecotArgs,
};

export function daemonForExecutable(executable: string): string | undefined {
  return DAEMON_EXECUTABLES[path.posix.basename(executable)];
}

/**
 * Read a daemon's argv (argv[0] first). `daemon` defaults to the one recognised from argv[0];
 * undefined when bindcheck does not know the daemon.
 */
export function daemonArgs(argv: string[], daemon?: string): DaemonArgs | undefined {
  const d = daemon ?? daemonForExecutable(argv[0] ?? '');
  if (d === undefined) return undefined;
  const p = PARSERS[d];
  return p ? p(argv) : undefined;
}

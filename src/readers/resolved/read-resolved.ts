import type { RootFs } from '../../fs/root-fs.js';
import type { Family, Proto } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, PlannedSocket } from '../../model/planned.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import { RESOLVED_BEHAVIOUR, RESOLVED_KEYS } from './behaviour.js';
import { parseConfLines, type ConfAssignment } from './conf-lines.js';
import { extraPort, parseExtraListener, type ExtraListener } from './extra-listener.js';

const DAEMON = 'systemd-resolved';
const UNIT = 'systemd-resolved.service';
const BINARIES = ['/lib/systemd/systemd-resolved', '/usr/lib/systemd/systemd-resolved'];

/** DNSStubListener= (resolved-dns-stub.h DnsStubListenerMode). */
export type StubMode = 'no' | 'udp' | 'tcp' | 'yes';
/** LLMNR= / MulticastDNS= (resolve-util.h ResolveSupport). */
export type ResolveSupport = 'no' | 'yes' | 'resolve';

export interface ResolvedSetting<T> {
  value: T;
  /** The assignment that set it; undefined for the compiled-in default. */
  location?: Location;
}

export interface ResolvedExtra extends ExtraListener {
  location: Location;
}

export interface ResolvedReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  /** Files in the order resolved reads them (the main file, then drop-ins by file name). */
  files: string[];
  /** Drop-ins hidden by a file of the same name in an earlier directory. */
  overridden: { path: string; by: string }[];
  stubListener: ResolvedSetting<StubMode>;
  llmnr: ResolvedSetting<ResolveSupport>;
  multicastDns: ResolvedSetting<ResolveSupport>;
  extras: ResolvedExtra[];
  /** The parse stopped early (config_parse returned an error): files and lines after this were not read. */
  stoppedAt?: Location;
}

/**
 * Predict the sockets systemd-resolved (v252, Debian 12) opens on this root, in its order, from
 * /etc/systemd/resolved.conf and the resolved.conf.d drop-ins. Never throws: what resolved warns about and
 * ignores becomes a BC002/BC005 finding at the line.
 */
export function readResolved(fs: RootFs): ResolvedReadResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const result: ResolvedReadResult = {
    plans: [],
    findings,
    sources,
    found: false,
    files: [],
    overridden: [],
    stubListener: { value: 'yes' },
    // Debian 12 builds with the upstream defaults LLMNR=yes, MulticastDNS=yes (its resolved.conf lists them).
    llmnr: { value: 'yes' },
    multicastDns: { value: 'yes' },
    extras: [],
  };
  const main = RESOLVED_BEHAVIOUR.mainConfig;
  const dropins = listDropins(fs, result);
  const installed = BINARIES.some((b) => fs.exists(b)) || present(fs, main) || dropins.length > 0;
  if (!installed) return result;
  result.found = true;
  const finding = (code: InputCode, loc: Location, message: string) => findings.push(inputFinding(code, loc, message, DAEMON));

  // conf-parser.c config_parse_many_files(): the main file first, then every drop-in; an error in any file ends the
  // whole parse (manager_parse_config_file fails, resolved logs "Failed to parse configuration file" and runs with
  // what it had read so far).
  for (const path of [main, ...dropins]) {
    // A link to /dev/null reads as empty (the usual way to mask a drop-in of the same name), even in an image
    // whose /dev is not populated.
    const r = isDevNull(fs, path) ? ({ ok: true, text: '' } as const) : fs.readText(path);
    let text: string;
    if (r.ok) text = r.text;
    else if (r.failure === 'not-found') continue; // fopen ENOENT: skipped silently (a dangling symlink too)
    else {
      const loc: Location = { file: path, line: 0 };
      finding('BC001', loc, `${r.message}: systemd-resolved logs "Failed to parse configuration file" and ignores this file and every later one`);
      result.stoppedAt = loc;
      break;
    }
    sources.set(path, text);
    result.files.push(path);
    const parsed = parseConfLines(text, path, ['Resolve']);
    for (const p of parsed.problems) {
      if (p.fatal) {
        finding('BC002', p.location, `${p.message}: systemd-resolved stops reading its configuration here (this file's later lines and every later drop-in are ignored)`);
        result.stoppedAt = p.location;
      } else if (/^Unknown section/.test(p.message)) finding('BC005', p.location, `${p.message} (systemd-resolved reads only [Resolve])`);
      else finding('BC002', p.location, `systemd-resolved: ${p.message}`);
    }
    for (const a of parsed.assignments) apply(a);
    if (result.stoppedAt) break;
  }

  function apply(a: ConfAssignment): void {
    const loc = a.location;
    switch (a.key) {
      case 'DNSStubListener': {
        const v = stubMode(a.value);
        if (v === undefined) return void finding('BC002', loc, `DNSStubListener=${a.value}: systemd-resolved knows yes, no, udp, tcp and ignores this line ("Failed to parse DNS stub listener mode setting, ignoring")`);
        result.stubListener = { value: v, location: loc };
        return;
      }
      case 'LLMNR':
      case 'MulticastDNS': {
        const v = resolveSupport(a.value);
        if (v === undefined) return void finding('BC002', loc, `${a.key}=${a.value}: systemd-resolved knows yes, no, resolve and ignores this line ("Failed to parse resolve support setting, ignoring")`);
        if (a.key === 'LLMNR') result.llmnr = { value: v, location: loc };
        else result.multicastDns = { value: v, location: loc };
        return;
      }
      case 'DNSStubListenerExtra': {
        if (a.value === '') {
          result.extras = [];
          return;
        }
        const e = parseExtraListener(a.value);
        if ('error' in e) return void finding('BC002', loc, `DNSStubListenerExtra=${a.value}: ${e.error}; systemd-resolved ignores this line ("Failed to parse address in DNSStubListenerExtra=…, ignoring assignment")`);
        // resolved-dns-stub.c dns_stub_listener_extra_compare_func: the same mode, family, address and port as written.
        const dup = result.extras.find((x) => x.udp === e.udp && x.tcp === e.tcp && x.family === e.family && x.address === e.address && x.port === e.port);
        if (dup) return void finding('BC002', loc, `DNSStubListenerExtra=${a.value} repeats ${fmt(dup.location)}: systemd-resolved ignores it ("Failed to store …, ignoring assignment: File exists")`);
        result.extras.push({ ...e, location: loc });
        return;
      }
      default:
        if (!RESOLVED_KEYS.includes(a.key) && !a.key.startsWith('X-')) finding('BC005', loc, `Unknown key '${a.key}' in section [Resolve]: systemd-resolved ignores it`);
    }
  }

  result.plans.push({
    daemon: DAEMON,
    config: main,
    files: result.files,
    sockets: planSockets(result),
    startup: 'bind-listen-each',
    units: [UNIT],
    // comm is cut at 15 characters: "systemd-resolved" shows as "systemd-resolve".
    processNames: ['systemd-resolve', 'systemd-resolved'],
    // Every socket is optional or in a set resolved gives up whole; a stub failure other than EADDRINUSE/EPERM ends
    // resolved ("Failed to start manager"), which bindcheck does not model (127.0.0.53 is always local).
    onFailure: 'continue',
  });
  return result;
}

function present(fs: RootFs, p: string): boolean {
  const slash = p.lastIndexOf('/');
  return fs.exists(p) || fs.list(p.slice(0, slash) || '/').includes(p.slice(slash + 1));
}

function resolvesTo(fs: RootFs, p: string): string | undefined {
  const r = fs.resolve(p);
  return r.ok ? r.inRoot : undefined;
}

/** Whether `p` is (a link chain ending at) /dev/null — also in an image whose /dev holds no device nodes. */
function isDevNull(fs: RootFs, p: string): boolean {
  const r = fs.resolve(p);
  return r.ok ? r.inRoot === '/dev/null' : r.failure === 'not-found' && r.message === '/dev/null does not exist';
}

/**
 * conf-files.c conf_files_list_nulstr(".conf"): directories deduplicated by their resolved path, hidden files
 * skipped (FOREACH_DIRENT), a name found in an earlier directory hides it in later ones, sorted by file name.
 */
function listDropins(fs: RootFs, result: ResolvedReadResult): string[] {
  const seenDirs = new Set<string>();
  const byName = new Map<string, string>();
  for (const dir of RESOLVED_BEHAVIOUR.dropinDirs) {
    const real = resolvesTo(fs, dir);
    if (real === undefined || seenDirs.has(real) || !fs.isDirectory(dir)) continue;
    seenDirs.add(real);
    for (const name of fs.list(dir)) {
      if (!name.endsWith('.conf') || name.startsWith('.')) continue;
      const path = `${dir}/${name}`;
      const earlier = byName.get(name);
      if (earlier !== undefined) result.overridden.push({ path, by: earlier });
      else byName.set(name, path);
    }
  }
  return [...byName.keys()].sort(byteCompare).map((n) => byName.get(n) as string);
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** DEFINE_STRING_TABLE_LOOKUP_WITH_BOOLEAN: parse_boolean() (any case) first, then the table (exact). */
function booleanOr<T extends string>(v: string, no: T, yes: T, table: readonly T[]): T | undefined {
  const l = v.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(l)) return yes;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(l)) return no;
  return table.find((t) => t === v);
}

export function stubMode(v: string): StubMode | undefined {
  return booleanOr<StubMode>(v, 'no', 'yes', ['no', 'udp', 'tcp', 'yes']);
}

export function resolveSupport(v: string): ResolveSupport | undefined {
  return booleanOr<ResolveSupport>(v, 'no', 'yes', ['no', 'yes', 'resolve']);
}

function fmt(l: Location): string {
  return l.line > 0 ? `${l.file}:${l.line}` : l.file;
}

function planSockets(r: ResolvedReadResult): PlannedSocket[] {
  const main: Location = { file: RESOLVED_BEHAVIOUR.mainConfig, line: 0 };
  const out: PlannedSocket[] = [];
  const base = (name: string, proto: Proto, family: Family, address: string, port: number, source: Location, derivation: string[]): PlannedSocket => ({
    daemon: DAEMON,
    name,
    proto,
    family,
    address,
    port,
    reuseAddr: true,
    reusePort: false,
    // The Debian unit runs it as User=systemd-resolve with AmbientCapabilities=CAP_NET_BIND_SERVICE (started as root
    // it drops to that user itself, keeping the capability until the stub is bound).
    uid: 0,
    capNetBindService: true,
    listens: proto === 'tcp',
    source,
    derivation,
    optional: true,
  });

  // resolved-link.c link_update() → manager_llmnr_start(), run for the first link manager_rtnl_listen() enumerates
  // (lo is enough) — in manager_new(), before manager_start() creates the stub.
  if (r.llmnr.value !== 'no') {
    const src = r.llmnr.location ?? main;
    const how = r.llmnr.location ? `LLMNR=${r.llmnr.value} (${fmt(src)})` : 'no LLMNR= line: LLMNR=yes (compiled-in default)';
    const group = { name: 'LLMNR responder', errnos: RESOLVED_BEHAVIOUR.llmnrGiveUpErrnos };
    const llmnr = (name: string, proto: Proto, family: Family, address: string): PlannedSocket => {
      const s = base(name, proto, family, address, RESOLVED_BEHAVIOUR.llmnrPort, src, [
        how,
        `LLMNR listens on ${family === 'inet' ? '0.0.0.0' : '[::]'}:${RESOLVED_BEHAVIOUR.llmnrPort} ${proto.toUpperCase()} as soon as resolved sees its first network link (resolved-llmnr.c ${name.replace(/-/g, '_')}_fd)`,
        // Modelled with SO_REUSEADDR: the first bind() without it only decides whether resolved warns; the retry
        // with it (or the flag set right after a first success) is what other sockets meet.
        `bound without SO_REUSEADDR first (to notice another LLMNR responder), then SO_REUSEADDR: set right after a successful bind(), or before one retry after EADDRINUSE ("There appears to be another LLMNR responder running")${family === 'inet6' ? '; IPV6_V6ONLY=1' : ''}`,
        'optional: EADDRINUSE on any LLMNR socket turns LLMNR off ("Another LLMNR responder prohibits binding the socket to the same port") and resolved runs on',
      ]);
      s.group = group;
      if (family === 'inet6') s.v6Only = true;
      return s;
    };
    out.push(
      llmnr('llmnr-ipv4-udp', 'udp', 'inet', '0.0.0.0'),
      llmnr('llmnr-ipv4-tcp', 'tcp', 'inet', '0.0.0.0'),
      // Only while net.ipv6.conf.all.disable_ipv6 is 0 (socket_ipv6_is_enabled()); bindcheck assumes it is.
      llmnr('llmnr-ipv6-udp', 'udp', 'inet6', '::'),
      llmnr('llmnr-ipv6-tcp', 'tcp', 'inet6', '::'),
    );
  }

  // resolved-dns-stub.c manager_dns_stub_start(): 127.0.0.53 UDP, TCP, then the proxy stub 127.0.0.54 UDP, TCP.
  const mode = r.stubListener.value;
  if (mode !== 'no') {
    const src = r.stubListener.location ?? main;
    const how = r.stubListener.location ? `DNSStubListener=${mode} (${fmt(src)})` : 'no DNSStubListener= line: DNSStubListener=yes (compiled-in default)';
    const group = { name: 'DNS stub listener', errnos: RESOLVED_BEHAVIOUR.stubGiveUpErrnos };
    for (const address of [RESOLVED_BEHAVIOUR.stubAddress, RESOLVED_BEHAVIOUR.proxyStubAddress]) {
      for (const proto of ['udp', 'tcp'] as const) {
        if ((mode === 'udp' && proto === 'tcp') || (mode === 'tcp' && proto === 'udp')) continue;
        const proxy = address === RESOLVED_BEHAVIOUR.proxyStubAddress;
        const s = base(`dns-${proxy ? 'proxy-' : ''}stub-${proto}`, proto, 'inet', address, RESOLVED_BEHAVIOUR.stubPort, src, [
          how,
          `${proxy ? 'the DNS proxy stub' : 'the DNS stub'} listens on ${address}:53 ${proto.toUpperCase()}`,
          `SO_REUSEADDR${proxy ? '' : ', SO_BINDTOIFINDEX lo, IP_TTL 1'} before bind()`,
          'optional: EADDRINUSE or EPERM on any stub socket turns the whole DNS stub off, both stub addresses, UDP and TCP ("Turning off local DNS stub support"), and resolved runs on without it',
        ]);
        s.group = group;
        if (!proxy) s.device = 'lo';
        out.push(s);
      }
    }
  }

  // The extra listeners, in the order configured (an ordered set), UDP before TCP; each failure is only a warning.
  for (const e of r.extras) {
    const port = extraPort(e);
    for (const proto of ['udp', 'tcp'] as const) {
      if ((proto === 'udp' && !e.udp) || (proto === 'tcp' && !e.tcp)) continue;
      const s = base(`dns-stub-${proto}-extra`, proto, e.family, e.address, port, e.location, [
        `DNSStubListenerExtra= (${fmt(e.location)})${e.port === 0 ? ': no port given, 53' : ''}`,
        `SO_REUSEADDR, ${e.family === 'inet6' ? 'IPV6_FREEBIND' : 'IP_FREEBIND'} before bind(); IPV6_V6ONLY left at the system default`,
        'optional: a failed extra listener is only logged ("Failed to listen on …" / "Another process is already listening on …") and ignored',
      ]);
      s.freeBind = true;
      out.push(s);
    }
  }
  return out;
}

import * as path from 'node:path';
import type { RootFs } from '../../fs/root-fs.js';
import type { Family, Proto } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { parseAddress } from '../../kernel/index.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import { daemonArgs, DNSMASQ_OPTIONS } from '../systemd/daemon-args.js';
import { DNSMASQ_BEHAVIOUR as B } from './behaviour.js';
import { splitDnsmasqConf, type DnsmasqLine } from './conf-lines.js';

const DAEMON = 'dnsmasq';
const UNITS = ['dnsmasq.service'];
/** Where options from the daemon's command line (the unit's ExecStart) are said to come from. */
export const COMMAND_LINE_FILE = '(dnsmasq command line)';

export interface DnsmasqReadOptions {
  /** The config file the unit's command line names (a path inside the root). */
  configPath?: string;
  /** The whole command line: dnsmasq's own, or Debian's `/usr/share/dnsmasq/systemd-helper exec`. */
  argv?: string[];
}

/** How dnsmasq creates its DNS (and TFTP) listeners: dnsmasq.c main(). */
export type DnsmasqBindMode = 'wildcard' | 'bind-interfaces' | 'bind-dynamic';

export interface DnsmasqReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  mode: DnsmasqBindMode;
  /** DNS port; 0 when DNS is switched off. */
  port: number;
  /** listen-address values in the order dnsmasq keeps them (each new one in front). */
  listenAddresses: { address: string; family: Family; location: Location }[];
  /** interface= names, as dnsmasq keeps them (each new one in front); null for `interface=` without a name. */
  interfaces: { name: string | null; location: Location }[];
  /**
   * Why the real dnsmasq refuses this configuration before binding anything, with the exit status. `dnsmasq --test`
   * reports the ones marked `testCatches`; the others only show when it starts.
   */
  refusesToStart: { message: string; exitStatus: number; testCatches: boolean }[];
  /** The argv dnsmasq really runs with, when Debian's systemd-helper builds it from /etc/default/dnsmasq. */
  effectiveArgv?: string[];
}

/** A known interface and its addresses, in the order dnsmasq's daemon->interfaces list holds them. */
interface KnownInterface {
  name: string;
  loopback: boolean;
  addresses: { family: Family; address: string }[];
}

/**
 * bindcheck knows one interface's addresses for sure: lo's 127.0.0.1 and ::1 (every network namespace has them).
 * dnsmasq enumerates IPv6 addresses, then IPv4, and puts each new one in front of its list, so IPv4 comes first.
 */
const LOOPBACK: KnownInterface = {
  name: 'lo',
  loopback: true,
  addresses: [
    { family: 'inet', address: '127.0.0.1' },
    { family: 'inet6', address: '::1' },
  ],
};

interface OptionUse {
  /** dnsmasq's option id (short letter or LOPT_ name). */
  id: string;
  name: string;
  value: string | undefined;
  items: string[];
  loc: Location;
  fromArgv: boolean;
  directive?: DirectiveExtent;
}

interface State {
  port: number;
  portLoc?: Location;
  portDirective?: DirectiveExtent;
  argOne: Map<string, 'cl' | 'file'>;
  ifAddrs: { address: string; family: Family; location: Location; directive?: DirectiveExtent }[];
  ifNames: { name: string | null; location: Location; autoLoopback?: boolean }[];
  ifExcept: { name: string; location: Location }[];
  dhcpExcept: string[];
  tftp: boolean;
  tftpLoc?: Location;
  tftpInterfaces: string[];
  nowild?: Location;
  cleverbind?: Location;
  localService?: 'net' | 'host';
  localServiceLoc?: Location;
  authServer: boolean;
  dhcp4: { location: Location } | undefined;
  dhcpPort: number;
  dhcpPortLoc?: Location;
}

/**
 * Predict the sockets dnsmasq opens on this root — in its order, with the options network.c make_sock() and dhcp.c
 * make_fd() set — from its command line, /etc/dnsmasq.conf (or -C), conf-file= and conf-dir=. Never throws on bad
 * input: problems become BC0xx findings, and those the real dnsmasq refuses are listed in `refusesToStart`.
 */
export function readDnsmasq(fs: RootFs, opts: DnsmasqReadOptions = {}): DnsmasqReadResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const files: string[] = [];
  const refusesToStart: DnsmasqReadResult['refusesToStart'] = [];
  const st: State = { port: B.dnsPort, argOne: new Map(), ifAddrs: [], ifNames: [], ifExcept: [], dhcpExcept: [], tftp: false, tftpInterfaces: [], authServer: false, dhcp4: undefined, dhcpPort: B.dhcpServerPort };
  const result: DnsmasqReadResult = { plans: [], findings, sources, found: false, mode: 'wildcard', port: B.dnsPort, listenAddresses: [], interfaces: [], refusesToStart };

  const finding = (code: InputCode, loc: Location, message: string, refuse?: { exitStatus: number; testCatches: boolean }) => {
    findings.push(inputFinding(code, loc, message, DAEMON));
    if (refuse) refusesToStart.push({ message, ...refuse });
  };
  const badConf = { exitStatus: B.exit.badConf, testCatches: true };

  // Debian's unit runs a wrapper that builds dnsmasq's argv from /etc/default/dnsmasq.
  let argv = opts.argv;
  let argvFile = COMMAND_LINE_FILE;
  if (argv && path.posix.basename(argv[0] ?? '') === path.posix.basename(B.debianHelper)) {
    argv = debianHelperArgv(fs, sources);
    argvFile = `${COMMAND_LINE_FILE} (built by ${B.debianHelper} from ${B.debianDefaults})`;
    result.effectiveArgv = argv;
  }
  const args = argv ? daemonArgs(argv, DAEMON) : undefined;
  const mainConf = opts.configPath ?? args?.config.find((c) => c.kind === 'file' && c.argIndex !== undefined)?.path;
  const confPath = mainConf ?? B.configPath;
  const present = fs.exists(confPath) || fs.isDirectory(path.posix.dirname(confPath)) && fs.list(path.posix.dirname(confPath)).includes(path.posix.basename(confPath));
  if (!present && mainConf === undefined && argv === undefined) return result;
  result.found = true;
  if (args) for (const p of args.problems) finding('BC005', { file: argvFile, line: 0 }, `dnsmasq command line: ${p}`, p.includes('junk') ? badConf : undefined);

  const seenFiles = new Set<string>();

  /** option.c one_opt() for the options that decide sockets; the rest are only checked for a value. */
  function apply(o: OptionUse): void {
    // A bad port dies before anything else is said about it.
    if (o.id === 'p' && !isPort(o.value)) return bad(o, `port=${o.value ?? ''} is not a port number 0-65535`);
    // option.c usage[] ARG_ONE: once on the command line, and once more in the files (the file wins).
    if (['p', 'LOPT_LOCAL_SERVICE', 'LOPT_ALTPORT'].includes(o.id)) {
      const used = st.argOne.get(o.id);
      if (o.fromArgv && used === 'cl') return finding('BC002', o.loc, `--${o.name} given twice on the command line: dnsmasq refuses to start ("illegal repeated flag")`, badConf);
      if (!o.fromArgv && used === 'file') return finding('BC002', o.loc, `${o.name} set a second time: dnsmasq refuses to start ("illegal repeated keyword at line ${o.loc.line} of ${o.loc.file}")`, badConf);
      st.argOne.set(o.id, o.fromArgv ? 'cl' : 'file');
    }
    switch (o.id) {
      case 'p': {
        st.port = Number(o.value);
        st.portLoc = o.loc;
        if (o.directive) st.portDirective = o.directive;
        else delete st.portDirective;
        return;
      }
      case 'a':
        for (const item of o.items) {
          const a = parseAddress(item);
          if (item === '' || !a || a.zone !== undefined || item.includes('[')) return bad(o, `listen-address ${item} is not an IPv4 or IPv6 address (inet_pton)`);
          // option.c: each new address goes in front of daemon->if_addrs.
          const e: State['ifAddrs'][number] = { address: a.text, family: a.family, location: o.loc };
          if (o.directive) e.directive = o.directive;
          st.ifAddrs.unshift(e);
        }
        return;
      case 'i':
        for (const item of o.value === undefined || o.value === '' ? [null] : o.items) st.ifNames.unshift({ name: item === '' ? null : item, location: o.loc });
        return;
      case 'I':
        for (const item of o.items) st.ifExcept.unshift({ name: item, location: o.loc });
        return;
      case '2':
      case 'LOPT_NO_DHCP4':
      case 'LOPT_NO_DHCP6':
        st.dhcpExcept.push(...o.items);
        return;
      case 'LOPT_TFTP':
        st.tftp = true;
        st.tftpLoc = o.loc;
        if (o.value !== undefined) st.tftpInterfaces.push(...o.items);
        return;
      case 'z':
        st.nowild = o.loc;
        return;
      case 'LOPT_CLVERBIND':
        st.cleverbind = o.loc;
        return;
      case 'LOPT_LOCAL_SERVICE':
        if (o.value === undefined || o.value === 'net') st.localService = 'net';
        else if (o.value === 'host') st.localService = 'host';
        else return bad(o, `local-service=${o.value}: dnsmasq knows "net" and "host"`);
        st.localServiceLoc = o.loc;
        return;
      case 'LOPT_AUTHSERV':
        st.authServer = true;
        return;
      case 'F': {
        // dhcp-range: an IPv4 start address makes a DHCPv4 context (daemon->dhcp), an IPv6 one DHCPv6/RA.
        const first = o.items.find((x) => parseAddress(x) !== undefined);
        const fam = first !== undefined ? parseAddress(first)?.family : undefined;
        if (fam === 'inet') st.dhcp4 ??= { location: o.loc };
        else finding('BC005', o.loc, `dhcp-range ${o.value ?? ''}: bindcheck does not predict dnsmasq's DHCPv6/router-advertisement or constructor sockets`);
        return;
      }
      case 'LOPT_RELAY':
        finding('BC005', o.loc, `dhcp-relay: bindcheck does not predict the DHCP relay's sockets`);
        return;
      case 'LOPT_ALTPORT':
        st.dhcpPort = o.value === undefined ? B.dhcpAlternatePort : Number(o.items[0]);
        if (!Number.isInteger(st.dhcpPort) || st.dhcpPort < 0 || st.dhcpPort > 65535) return bad(o, `dhcp-alternate-port=${o.value ?? ''} is not a port`);
        st.dhcpPortLoc = o.loc;
        return;
      case 'LOPT_CONF_SCRIPT':
        finding('BC005', o.loc, `conf-script=${o.value ?? ''}: dnsmasq runs it and reads its output as config; bindcheck does not run it`);
        return;
      case 'C':
        if (o.value !== undefined && o.value !== '') readFile(abs(o.value), o.loc, { missingOk: false });
        return;
      case '7':
        if (o.value !== undefined) readDir(o.value, o.loc);
        return;
      default:
        return;
    }
  }

  function bad(o: OptionUse, why: string): void {
    const where = o.fromArgv ? 'bad command line options' : `error at line ${o.loc.line} of ${o.loc.file}`;
    finding('BC002', o.loc, `${why}: dnsmasq refuses to start ("${where}")`, badConf);
  }

  function abs(p: string): string {
    // dnsmasq opens relative paths from its working directory: / under systemd.
    return p.startsWith('/') ? p : `/${p}`;
  }

  function lineDirective(file: string, line: number): DirectiveExtent | undefined {
    const l = sources.get(file)?.split('\n')[line - 1];
    if (l === undefined) return undefined;
    const clean = l.replace(/\r$/, '');
    return { file, startLine: line, endLine: line, lines: [clean], disabled: [`#${clean}`] };
  }

  const stack: Location[] = [];

  /** option.c one_file(): a file is read once (same device and inode); a missing one is fatal (exit 3) unless it is the default. */
  function readFile(file: string, from: Location | undefined, o: { missingOk: boolean }): void {
    const r = fs.readText(file);
    const key = r.ok ? r.resolved : file;
    if (seenFiles.has(key)) return;
    const loc: Location = from ?? { file, line: 0 };
    if (!r.ok) {
      if (o.missingOk && !fs.exists(file)) return;
      const status = { exitStatus: B.exit.file, testCatches: true };
      if (from) finding('BC004', loc, `conf-file ${file}: ${r.message}; dnsmasq refuses to start ("cannot read ${file}")`, status);
      else finding('BC001', loc, `${r.message}; dnsmasq refuses to start ("cannot read ${file}")`, status);
      return;
    }
    seenFiles.add(key);
    sources.set(file, r.text);
    files.push(file);
    if (from) stack.push(from);
    for (const d of splitDnsmasqConf(r.text)) {
      const at: Location = { file, line: d.line, column: d.column };
      if (stack.length) at.includedFrom = [...stack];
      fileLine(d, at, file);
    }
    if (from) stack.pop();
  }

  /** option.c read_file(): the option name must be known and take a value as its table says. */
  function fileLine(d: DnsmasqLine, at: Location, file: string): void {
    const where = `at line ${d.line} of ${file}`;
    if (d.kind === 'error') return finding('BC002', at, `${d.message}: dnsmasq refuses to start ("${d.message} ${where}")`, badConf);
    const info = DNSMASQ_OPTIONS.get(d.name);
    if (!info) return finding('BC005', at, `dnsmasq has no option "${d.name}": it refuses to start ("bad option ${where}")`, badConf);
    if (info.hasArg === 0 && d.value !== undefined) return finding('BC002', at, `${d.name} takes no value: dnsmasq refuses to start ("extraneous parameter ${where}")`, badConf);
    if (info.hasArg === 1 && d.value === undefined) return finding('BC002', at, `${d.name} needs a value: dnsmasq refuses to start ("missing parameter ${where}")`, badConf);
    const o: OptionUse = { id: info.id, name: d.name, value: d.value, items: d.items, loc: at, fromArgv: false };
    const dir = lineDirective(file, d.line);
    if (dir) o.directive = dir;
    apply(o);
  }

  /** option.c `conf-dir=DIR[,.ext…][,*.ext…]`: regular files, sorted by path, skipping dotfiles and backups. */
  function readDir(value: string, loc: Location): void {
    const parts = value.split(',').map((x) => x.trim());
    const dir = abs(parts[0] ?? '');
    const match: string[] = [];
    const ignore: string[] = [];
    for (const p of parts.slice(1)) {
      if (p === '' || p === '*') continue;
      if (p.startsWith('*')) match.push(p.slice(1));
      else ignore.push(p);
    }
    if (!fs.isDirectory(dir)) {
      finding('BC004', loc, `conf-dir ${dir} is not a readable directory: dnsmasq refuses to start ("cannot access directory ${dir}")`, { exitStatus: B.exit.file, testCatches: true });
      return;
    }
    const ends = (n: string, s: string) => n.length > s.length && n.endsWith(s);
    const names = fs
      .list(dir)
      .filter((n) => n !== '' && !n.endsWith('~') && !(n.startsWith('#') && n.endsWith('#')) && !n.startsWith('.'))
      .filter((n) => match.length === 0 || match.some((s) => ends(n, s)))
      .filter((n) => !ignore.some((s) => ends(n, s)));
    // Only regular files (a directory or device is skipped), in strcmp order of the whole path.
    const full = names.map((n) => `${dir.replace(/\/+$/, '')}/${n}`).filter((p) => !fs.isDirectory(p));
    full.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const p of full) readFile(p, loc, { missingOk: false });
  }

  // option.c read_opts(): the command line first (an extra -C and every -7 are read where they stand), then the main
  // config file — the first -C, or /etc/dnsmasq.conf, which may be missing.
  if (argv && args) {
    const firstC = args.config.find((c) => c.kind === 'file' && c.argIndex !== undefined);
    const events: { argIndex: number; run: () => void }[] = [];
    for (const c of args.config) {
      const at = c.argIndex;
      if (at === undefined) continue;
      const loc: Location = { file: argvFile, line: 0, column: at };
      if (c.kind === 'file' && c !== firstC) events.push({ argIndex: at, run: () => readFile(abs(c.path), loc, { missingOk: false }) });
      if (c.kind === 'dir') events.push({ argIndex: at, run: () => readDir(confDirValue(argv[at] ?? c.path), loc) });
    }
    for (const ov of args.overrides) {
      const info = DNSMASQ_OPTIONS.get(ov.option);
      if (!info) continue;
      const loc: Location = { file: argvFile, line: 0, column: ov.argIndex };
      const value = info.hasArg === 0 || (info.hasArg === 2 && ov.value === '' && !(argv[ov.argIndex] ?? '').includes('=')) ? undefined : ov.value;
      events.push({ argIndex: ov.argIndex, run: () => apply({ id: info.id, name: ov.option, value, items: (value ?? '').split(',').map((x) => x.trim()), loc, fromArgv: true }) });
    }
    events.sort((a, b) => a.argIndex - b.argIndex);
    for (const e of events) e.run();
  }
  readFile(confPath, undefined, { missingOk: mainConf === undefined });

  // read_opts(): access-control options make --local-service moot; local-service=host alone means interface=lo plus
  // bind-interfaces (if_names_add(NULL)).
  const accessControl = st.ifNames.length > 0 || st.ifExcept.length > 0 || st.ifAddrs.length > 0 || st.authServer;
  if (!accessControl && st.localService === 'host' && st.localServiceLoc) {
    st.ifNames.unshift({ name: null, location: st.localServiceLoc });
    st.nowild ??= st.localServiceLoc;
  }
  if (st.nowild && st.cleverbind) {
    finding('BC002', st.cleverbind, `bind-dynamic and bind-interfaces are both set: dnsmasq refuses to start ("${B.messages.bothBindModes}", exit ${B.exit.badConf}) although dnsmasq --test accepts it`, { exitStatus: B.exit.badConf, testCatches: false });
  }
  const mode: DnsmasqBindMode = st.nowild ? 'bind-interfaces' : st.cleverbind ? 'bind-dynamic' : 'wildcard';
  result.mode = mode;
  result.port = st.port;
  result.listenAddresses = st.ifAddrs.map((a) => ({ address: a.address, family: a.family, location: a.location }));
  result.interfaces = st.ifNames.map((n) => ({ name: n.name, location: n.location }));

  const sockets: PlannedSocket[] = [];
  const portText = st.portLoc ? `port=${st.port} (${fmt(st.portLoc)})` : `dnsmasq's default port ${st.port}`;
  const modeText =
    mode === 'wildcard'
      ? 'no bind-interfaces/bind-dynamic: create_wildcard_listeners() binds 0.0.0.0 and :: and filters by interface when answering'
      : `${mode} (${fmt((mode === 'bind-interfaces' ? st.nowild : st.cleverbind) as Location)}): create_bound_listeners() binds each address of each allowed interface, then each listen-address no interface has`;
  const fallback: Location = st.portLoc ?? { file: confPath, line: 0 };

  // dnsmasq.c main(): dhcp_init() (port 67 on 0.0.0.0) comes before the DNS listeners.
  if (st.dhcp4) {
    const bound = mode !== 'wildcard';
    sockets.push(
      mk('dhcp', 'udp', 'inet', '0.0.0.0', st.dhcpPort, st.dhcp4.location, [
        `dhcp-range (${fmt(st.dhcp4.location)}) makes dnsmasq a DHCPv4 server: dhcp_init() binds UDP 0.0.0.0:${st.dhcpPort}${st.dhcpPortLoc ? ` (dhcp-alternate-port, ${fmt(st.dhcpPortLoc)})` : ''} before any DNS socket`,
        bound ? `${mode}: dhcp.c make_fd() sets SO_REUSEPORT and SO_REUSEADDR (several dnsmasq instances may share port 67)` : 'wildcard mode: dhcp.c make_fd() sets neither SO_REUSEADDR nor SO_REUSEPORT',
        `a failed bind() is fatal: "${B.messages.dhcpBindFailed}", exit ${B.exit.badNet}`,
      ], { reuseAddr: bound, reusePort: bound }),
    );
  }

  const listeners = (address: string, family: Family, source: Location, why: string[], tftpOk: boolean, directive?: DirectiveExtent) => {
    if (st.port !== 0) {
      for (const proto of ['udp', 'tcp'] as const) {
        const s = mk('dns', proto, family, address, st.port, source, [...why, portText, `make_sock(): SO_REUSEADDR${family === 'inet6' ? ', IPV6_V6ONLY=1' : ''}, bind()${proto === 'tcp' ? `, listen(${B.tcpBacklog})` : ''}`], {});
        if (directive) s.directive = directive;
        sockets.push(s);
      }
    }
    if (tftpOk) {
      sockets.push(mk('tftp', 'udp', family, address, B.tftpPort, st.tftpLoc ?? source, [...why, `enable-tftp (${st.tftpLoc ? fmt(st.tftpLoc) : '?'}): TFTP on UDP port ${B.tftpPort} at the same address`], {}));
    }
  };

  if (mode === 'wildcard') {
    listeners('0.0.0.0', 'inet', fallback, [modeText], st.tftp);
    listeners('::', 'inet6', fallback, [modeText], st.tftp);
    if (st.ifAddrs.length > 0) {
      const la = st.ifAddrs[0] as State['ifAddrs'][number];
      for (const s of sockets) {
        if (s.name === 'dhcp') continue;
        s.derivation.push(`listen-address (${fmt(la.location)}) only filters which queries dnsmasq answers in wildcard mode; it binds nothing`);
        // iface_check(): with listen-address and no interface=, a query is answered only when sent to one of those
        // addresses (an except-interface does not override an address match). interface= always adds lo, whose
        // addresses are local, so then some address is served for sure.
        if (st.ifNames.length === 0) s.acceptsOnly = { addresses: [...new Set(st.ifAddrs.map((a) => a.address))].reverse(), source: la.location };
      }
    }
  } else {
    // iface_allowed(): with interface= given, the loopback interface is always added to the list.
    const names = st.ifNames;
    const usedAddr = new Set<string>();
    const otherNames = names.filter((n) => n.name !== null && !wildcardMatch(n.name, LOOPBACK.name));
    for (const n of otherNames) {
      finding('BC005', n.location, `interface=${n.name}: bindcheck does not know this interface's addresses; dnsmasq binds each of them${mode === 'bind-interfaces' ? ` and refuses to start ("unknown interface ${n.name}", exit ${B.exit.badNet}) when it does not exist` : ''}`);
    }
    const iface = LOOPBACK;
    for (const a of iface.addresses) {
      const addrMatch = st.ifAddrs.filter((x) => x.family === a.family && x.address === a.address);
      for (const m of addrMatch) usedAddr.add(`${m.family} ${m.address}`);
      const nameMatch = names.length > 0; // lo is added to the names whenever any interface= is given
      let allowed = names.length === 0 && st.ifAddrs.length === 0 ? true : nameMatch || addrMatch.length > 0;
      const excepted = st.ifExcept.find((e) => wildcardMatch(e.name, iface.name));
      if (addrMatch.length === 0 && excepted) allowed = false;
      if (!allowed) continue;
      const why: string[] = [modeText];
      let source: Location = st.nowild ?? st.cleverbind ?? fallback;
      let directive: DirectiveExtent | undefined;
      if (addrMatch.length > 0) {
        const m = addrMatch[addrMatch.length - 1] as State['ifAddrs'][number];
        source = m.location;
        directive = st.ifAddrs.length > 1 ? m.directive : undefined;
        why.push(`listen-address ${a.address} (${fmt(m.location)}) is an address of ${iface.name}`);
      } else if (names.length > 0) {
        const byName = names.find((n) => n.name !== null && wildcardMatch(n.name, iface.name));
        if (byName) source = byName.location;
        why.push(byName ? `interface=${byName.name} (${fmt(byName.location)}) selects ${iface.name}` : `interface= is given: iface_allowed() always adds the loopback interface ${iface.name}`);
        why.push(`${a.address} is an address of ${iface.name}`);
      } else {
        why.push(`no interface= or listen-address=: dnsmasq binds every address of every interface; ${a.address} is an address of ${iface.name} (bindcheck knows only lo's addresses, not those of other interfaces)`);
      }
      const tftpOk = st.tftp && (st.tftpInterfaces.length === 0 || st.tftpInterfaces.some((t) => wildcardMatch(t, iface.name))) && !st.dhcpExcept.some((t) => wildcardMatch(t, iface.name));
      listeners(a.address, a.family, source, why, tftpOk, directive);
    }
    // create_bound_listeners(): listen-addresses no interface has, in daemon->if_addrs order (last given first).
    for (const la of st.ifAddrs) {
      if (usedAddr.has(`${la.family} ${la.address}`)) continue;
      listeners(la.address, la.family, la.location, [modeText, `listen-address ${la.address} (${fmt(la.location)}) is no address of an interface bindcheck knows: dnsmasq binds it as given`], st.tftp, st.ifAddrs.length > 1 ? la.directive : undefined);
    }
  }

  const plan: DaemonPlan = {
    daemon: DAEMON,
    config: confPath,
    files,
    sockets,
    startup: 'bind-listen-each',
    units: UNITS,
    processNames: ['dnsmasq'],
    // network.c make_sock() with dienow: die("failed to create listening socket for …"), exit 2; bind-dynamic
    // forgives EADDRNOTAVAIL (the address may appear later) and carries on.
    onFailure: 'exit',
    retry: { attempts: 0, intervalSeconds: 0, exitStatus: B.exit.badNet },
  };
  if (mode === 'bind-dynamic') {
    plan.onFailureByErrno = { EADDRNOTAVAIL: 'continue' };
    // make_sock(): with bind-dynamic an address that is not local is skipped without a word and dnsmasq runs on
    // (it binds the address once an interface gets it) — even when that leaves it with no socket at all.
    for (const s of sockets) {
      if (s.name === 'dhcp') continue;
      s.group = { name: `${s.proto} ${s.family === 'inet6' ? `[${s.address}]` : s.address}:${s.port} listener (bind-dynamic waits for the address)`, errnos: ['EADDRNOTAVAIL'] };
      s.derivation.push('bind-dynamic: if the address is not local, dnsmasq skips it silently and runs on (EADDRNOTAVAIL is forgiven)');
    }
  }
  if (st.dhcp4 && mode === 'bind-dynamic') {
    // dhcp.c make_fd() dies on any bind() error, bind-dynamic or not.
    const dhcp = sockets.find((s) => s.name === 'dhcp');
    if (dhcp) dhcp.derivation.push('bind-dynamic forgives EADDRNOTAVAIL only on DNS/TFTP sockets; 0.0.0.0 is always local');
  }
  result.plans.push(plan);
  return result;
}

function mk(name: string, proto: Proto, family: Family, address: string, port: number, source: Location, derivation: string[], o: { reuseAddr?: boolean; reusePort?: boolean }): PlannedSocket {
  const s: PlannedSocket = {
    daemon: DAEMON,
    name,
    proto,
    family,
    address,
    port,
    reuseAddr: o.reuseAddr ?? true,
    reusePort: o.reusePort ?? false,
    uid: 0,
    listens: proto === 'tcp',
    source,
    derivation,
    optionsKey: `service=${name}`,
  };
  if (family === 'inet6') s.v6Only = true;
  return s;
}

/** option.c atoi_check16(): only digits (numeric_check; an empty value passes and atoi() makes it 0), 0-65535. */
function isPort(v: string | undefined): boolean {
  return v !== undefined && /^\d*$/.test(v) && Number(v) <= 65535;
}

/** util.c wildcard_match(): equal strings, or equal up to a `*` in the pattern. */
export function wildcardMatch(pattern: string, name: string): boolean {
  let i = 0;
  while (i < pattern.length && i < name.length) {
    if (pattern[i] === '*') return true;
    if (pattern[i] !== name[i]) return false;
    i++;
  }
  return pattern.length === i && name.length === i;
}

/** The value of a -7/--conf-dir word as given: `--conf-dir=V`, `-7V`, or a separate word V. */
function confDirValue(word: string): string {
  if (word.startsWith('--conf-dir=')) return word.slice('--conf-dir='.length);
  if (word.startsWith('-7')) return word.slice(2);
  return word;
}

function fmt(l: Location): string {
  return l.line > 0 ? `${l.file}:${l.line}` : l.file;
}

/**
 * Debian's /usr/share/dnsmasq/systemd-helper exec: the argv it execs, from the root's /etc/default/dnsmasq
 * (CONFIG_DIR, DNSMASQ_OPTS, DNSMASQ_INTERFACE, DNSMASQ_EXCEPT, DNSMASQ_USER) as init-system-common builds it.
 */
export function debianHelperArgv(fs: RootFs, sources: Map<string, string>): string[] {
  const vars = new Map<string, string>();
  const r = fs.readText(B.debianDefaults);
  if (r.ok) {
    sources.set(B.debianDefaults, r.text);
    for (const line of r.text.split('\n')) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*(?:#.*)?$/.exec(line);
      if (m) vars.set(m[1] as string, (m[2] ?? m[3] ?? m[4] ?? '').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_x, n: string) => vars.get(n) ?? ''));
    }
  }
  const words = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);
  const argv = ['/usr/sbin/dnsmasq', '-x', '/run/dnsmasq/dnsmasq.pid', '-u', vars.get('DNSMASQ_USER') || 'dnsmasq'];
  for (const i of words(vars.get('DNSMASQ_INTERFACE'))) argv.push('-i', i);
  for (const i of words(vars.get('DNSMASQ_EXCEPT'))) argv.push('-I', i);
  const confDir = vars.get('CONFIG_DIR');
  if (confDir) argv.push('-7', confDir);
  argv.push(...words(vars.get('DNSMASQ_OPTS')), '--local-service');
  return argv;
}

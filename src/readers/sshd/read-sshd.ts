import type { RootFs } from '../../fs/root-fs.js';
import type { Family } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { parseAddress } from '../../kernel/index.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import { rootGlob } from '../common/root-glob.js';
import { formatEndpoint } from '../../model/endpoint.js';
import { readSocketUnits } from '../socket-units/read-socket-units.js';
import { daemonArgs } from '../systemd/daemon-args.js';
import { SSHD_BEHAVIOUR, SSHD_KEYWORDS } from './behaviour.js';
import { splitLine, splitSshdConfig, type SshdLine } from './config-lines.js';

const DAEMON = 'sshd';
/** Where options from the daemon's command line (the unit's ExecStart) are said to come from. */
export const COMMAND_LINE_FILE = '(sshd command line)';

export interface SshdReadOptions {
  /** `sshd -f FILE` as the unit's command line names it (a path inside the root). */
  configPath?: string;
  /** The whole command line (`/usr/sbin/sshd -D -p 2222 -o ListenAddress=…`): -p, -o, -4, -6, -f. */
  argv?: string[];
}

export interface SshdPort {
  port: number;
  location: Location;
  /** Given with -p or -o on the command line. */
  fromArgv: boolean;
  /** The directive's text (for fixes). */
  directive?: DirectiveExtent;
}

/** One ListenAddress as servconf.c queue_listen_addr() keeps it, before the ports are applied. */
export interface SshdListenAddress {
  /** The host part as written, brackets removed. */
  host: string;
  /** 0 when the line gives none: every Port then applies. */
  port: number;
  rdomain?: string;
  location: Location;
  fromArgv: boolean;
  directive?: DirectiveExtent;
}

export interface SshdReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  ports: SshdPort[];
  /** Ports given with -p: the config's Port lines are ignored (servconf.c ports_from_cmdline). */
  portsFromCmdline: boolean;
  listenAddresses: SshdListenAddress[];
  addressFamily: { value: 'any' | 'inet' | 'inet6'; location?: Location };
  /** Reasons the real sshd refuses this configuration (it exits with status 255, or 1 for an unreadable file). */
  refusesToStart: string[];
  /** systemd's ssh.socket, when the root enables it: then systemd, not sshd, binds the port. */
  socketActivation?: { unit: string; listenStreams: string[]; source: Location; accept: boolean };
}

interface ParseState {
  ports: SshdPort[];
  portsFromCmdline: boolean;
  listen: SshdListenAddress[];
  af?: { value: 'any' | 'inet' | 'inet6'; location: Location };
}

/**
 * Predict the sockets sshd opens on this root — in its order, with the options sshd.c listen_on_addrs() sets — from
 * sshd_config (Includes, Match blocks) and the command line. Never throws on bad input: problems become BC0xx
 * findings, and those the real sshd refuses are listed in `refusesToStart`.
 */
export function readSshd(fs: RootFs, opts: SshdReadOptions = {}): SshdReadResult {
  const args = opts.argv ? daemonArgs(opts.argv, 'sshd') : undefined;
  const argvConfig = args?.config.find((c) => c.argIndex !== undefined)?.path;
  const configPath = opts.configPath ?? argvConfig ?? SSHD_BEHAVIOUR.configPath;
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const files: string[] = [];
  const refusesToStart: string[] = [];
  const st: ParseState = { ports: [], portsFromCmdline: false, listen: [] };
  const result: SshdReadResult = {
    plans: [],
    findings,
    sources,
    found: false,
    ports: st.ports,
    portsFromCmdline: false,
    listenAddresses: st.listen,
    addressFamily: { value: 'any' },
    refusesToStart,
  };
  const slash = configPath.lastIndexOf('/');
  const present = fs.exists(configPath) || fs.list(configPath.slice(0, slash) || '/').includes(configPath.slice(slash + 1));
  if (!present && opts.configPath === undefined && argvConfig === undefined) return result;
  result.found = true;

  const finding = (code: InputCode, loc: Location, message: string, fatal: boolean) => {
    findings.push(inputFinding(code, loc, message, DAEMON));
    if (fatal) refusesToStart.push(message);
  };

  // sshd.c main(): getopt runs first; -o lines go through the config parser with activep NULL ("command-line"),
  // -p appends a port and sets ports_from_cmdline, -4/-6 set the address family outright.
  for (const o of args?.overrides ?? []) {
    const loc: Location = { file: COMMAND_LINE_FILE, line: 0, column: o.argIndex };
    const letter = optionLetter(opts.argv ?? [], o.argIndex, o.value);
    if (o.option === 'Port' && letter === 'p') {
      st.portsFromCmdline = true;
      const p = a2port(fs, o.value);
      if (p === undefined || p <= 0) finding('BC002', loc, `-p ${o.value}: sshd refuses it ("Bad port number.") and exits 1`, true);
      else st.ports.push({ port: p, location: loc, fromArgv: true });
      continue;
    }
    if (o.option === 'AddressFamily' && letter === 'flag') {
      st.af = { value: o.value as 'inet' | 'inet6', location: loc };
      continue;
    }
    const line = splitLine(`${o.option} ${o.value}`, 0);
    if (line) apply(line, loc, COMMAND_LINE_FILE, { active: true, cmdline: true, neverMatch: false, depth: 0, includedFrom: [] });
  }
  if (args) for (const p of args.problems) finding('BC005', { file: COMMAND_LINE_FILE, line: 0 }, `sshd command line: ${p}`, false);

  interface Ctx {
    active: boolean;
    cmdline: boolean;
    neverMatch: boolean;
    depth: number;
    includedFrom: Location[];
  }

  function apply(d: SshdLine, loc: Location, file: string, ctx: Ctx): void {
    if (d.kind === 'error') {
      finding('BC002', loc, `${d.message}: sshd refuses to start ("${file} line ${d.line}: ${d.message}")`, true);
      return;
    }
    const kw = d.keyword.toLowerCase();
    const info = SSHD_KEYWORDS.get(kw);
    if (!ctx.active && !info?.inMatch) {
      finding('BC002', loc, `${d.keyword} is not allowed inside a Match block: sshd refuses to start ("Directive '${d.keyword}' is not allowed within a Match block")`, true);
      return;
    }
    if (!info) {
      finding('BC005', loc, `sshd has no option "${d.keyword}": it refuses to start ("Bad configuration option: ${d.keyword}")`, true);
      return;
    }
    const extra = (n: number) => {
      if (d.args.length > n) finding('BC002', loc, `${d.keyword} takes ${n === 1 ? 'one value' : `${n} values`}: sshd refuses to start ("keyword ${d.keyword} extra arguments at end of line")`, true);
    };
    const a0 = d.args[0]?.text;
    const directive = ctx.cmdline ? undefined : lineDirective(file, d.line);
    switch (kw) {
      case 'port': {
        if (st.portsFromCmdline) return; // servconf.c: "ignore ports from configfile if cmdline specifies ports"
        if (a0 === undefined || a0 === '') return finding('BC002', loc, 'Port without a number: sshd refuses to start ("missing port number")', true);
        const p = a2port(fs, a0);
        if (p === undefined || p <= 0) return finding('BC002', loc, `Port ${a0} is not a port number: sshd refuses to start ("Badly formatted port number.")`, true);
        if (st.ports.length >= SSHD_BEHAVIOUR.maxPorts) return finding('BC002', loc, `more than ${SSHD_BEHAVIOUR.maxPorts} ports: sshd refuses to start ("too many ports.")`, true);
        st.ports.push({ port: p, location: loc, fromArgv: ctx.cmdline, ...(directive ? { directive } : {}) });
        return extra(1);
      }
      case 'listenaddress': {
        if (a0 === undefined || a0 === '') return finding('BC002', loc, 'ListenAddress without an address: sshd refuses to start ("missing address")', true);
        const hp = splitHostPort(a0);
        if (hp === 'bad-usage') return finding('BC002', loc, `ListenAddress ${a0}: sshd refuses to start ("bad address:port usage")`, true);
        let port = 0;
        if (hp.port !== undefined) {
          const p = a2port(fs, hp.port);
          if (p === undefined || p <= 0) return finding('BC002', loc, `ListenAddress ${a0}: "${hp.port}" is not a port; sshd refuses to start ("bad port number")`, true);
          port = p;
        }
        let rdomain: string | undefined;
        if (d.args.length > 1) {
          if (d.args[1]?.text !== 'rdomain' || d.args.length < 3) {
            return finding('BC002', loc, `ListenAddress ${d.args.map((x) => x.text).join(' ')}: only "rdomain NAME" may follow the address; sshd refuses to start ("bad ListenAddress syntax")`, true);
          }
          rdomain = d.args[2]?.text;
          if (d.args.length > 3) extra(3);
        }
        const la: SshdListenAddress = { host: hp.host, port, location: loc, fromArgv: ctx.cmdline };
        if (rdomain !== undefined) la.rdomain = rdomain;
        if (directive) la.directive = directive;
        st.listen.push(la);
        return;
      }
      case 'addressfamily': {
        const v = (a0 ?? '').toLowerCase();
        if (v !== 'any' && v !== 'inet' && v !== 'inet6') {
          return finding('BC002', loc, `AddressFamily ${a0 ?? ''}: sshd knows any, inet, inet6 and refuses to start ("unsupported option")`, true);
        }
        // parse_multistate: `if (*activep && *intptr == -1) *intptr = value` — the first value sshd sees wins.
        if (ctx.active && st.af === undefined) st.af = { value: v, location: loc };
        return extra(1);
      }
      case 'match': {
        if (ctx.cmdline) return finding('BC002', loc, 'Match is not allowed on the command line: sshd refuses to start', true);
        const words = d.args.map((x) => x.text);
        const all = words.findIndex((w) => w.toLowerCase() === 'all');
        if (all >= 0 && words.length !== 1) return finding('BC002', loc, `'all' cannot be combined with other Match attributes: sshd refuses to start ("Bad Match condition")`, true);
        if (all < 0 && words.length % 2 !== 0) return finding('BC002', loc, `Match ${words.join(' ')}: a criterion lacks its value; sshd refuses to start ("Bad Match condition")`, true);
        // At startup match_cfg_line() has no connection: only "Match all" is active; everything else is checked for
        // syntax only. An Include inside an inactive Match never activates (SSHCFG_NEVERMATCH).
        ctx.active = all >= 0 && !ctx.neverMatch;
        return;
      }
      case 'include':
        if (ctx.cmdline) return finding('BC002', loc, 'Include is not allowed on the command line: sshd refuses to start', true);
        return include(d, loc, ctx);
      default:
        return;
    }
  }

  function include(d: Extract<SshdLine, { kind: 'directive' }>, loc: Location, ctx: Ctx): void {
    for (const a of d.args) {
      if (a.text === '') return finding('BC002', loc, 'Include with an empty argument: sshd refuses to start', true);
      const pattern = a.text.startsWith('/') || a.text.startsWith('~') ? a.text : `${SSHD_BEHAVIOUR.sshDir}/${a.text}`;
      // glob(3) without GLOB_BRACE: braces are literal characters.
      const matches = pattern.startsWith('~') ? [] : rootGlob(fs, pattern.replace(/[{}]/g, (c) => `\\${c}`));
      if (matches.length === 0) {
        if (!/[*?[]/.test(pattern)) finding('BC004', loc, `Include ${a.text}: ${pattern} does not exist; sshd skips it without a word`, false);
        continue;
      }
      const oactive = ctx.active;
      for (const m of matches) {
        if (ctx.depth + 1 > SSHD_BEHAVIOUR.maxIncludeDepth) {
          finding('BC004', loc, `Includes nest more than ${SSHD_BEHAVIOUR.maxIncludeDepth} deep (an include loop?): sshd refuses to start ("Too many recursive configuration includes")`, true);
          return;
        }
        processFile(m, {
          active: oactive,
          cmdline: false,
          neverMatch: ctx.neverMatch || !oactive,
          depth: ctx.depth + 1,
          includedFrom: [...ctx.includedFrom, loc],
        });
        ctx.active = oactive;
      }
    }
  }

  function lineDirective(file: string, line: number): DirectiveExtent | undefined {
    const text = sources.get(file);
    if (text === undefined) return undefined;
    const l = text.split('\n')[line - 1];
    if (l === undefined) return undefined;
    const clean = l.replace(/\r$/, '');
    return { file, startLine: line, endLine: line, lines: [clean], disabled: [`#${clean}`] };
  }

  function processFile(path: string, ctx: Ctx): void {
    const r = fs.readText(path);
    if (!r.ok) {
      const loc: Location = ctx.includedFrom.length ? (ctx.includedFrom[ctx.includedFrom.length - 1] as Location) : { file: path, line: 0 };
      if (ctx.includedFrom.length) finding('BC004', loc, `Include: ${r.message}; sshd refuses to start (load_server_config: exit 1)`, true);
      else finding('BC001', loc, `${r.message}; sshd refuses to start without it (exit 1)`, true);
      return;
    }
    sources.set(path, r.text);
    files.push(path);
    for (const d of splitSshdConfig(r.text)) {
      const loc: Location = { file: path, line: d.line, column: d.column };
      if (ctx.includedFrom.length) loc.includedFrom = ctx.includedFrom;
      apply(d, loc, path, ctx);
    }
  }

  processFile(configPath, { active: true, cmdline: false, neverMatch: false, depth: 0, includedFrom: [] });

  result.portsFromCmdline = st.portsFromCmdline;
  if (st.af) result.addressFamily = st.af;
  const af = result.addressFamily.value;
  const activation = socketActivation(fs);
  if (activation) result.socketActivation = activation;

  // servconf.c process_queued_listen_addrs() and fill_default_server_options(): Port 22 when none was given; no
  // ListenAddress means the passive (any) addresses of the family.
  const ports: SshdPort[] = st.ports.length > 0 ? st.ports : [{ port: SSHD_BEHAVIOUR.defaultPort, location: { file: configPath, line: 0 }, fromArgv: false }];
  const portsDefault = st.ports.length === 0;
  const queued: (SshdListenAddress | undefined)[] = st.listen.length > 0 ? st.listen : [undefined];
  const configListenLines = st.listen.filter((l) => !l.fromArgv).length;
  const configPortLines = st.ports.filter((p) => !p.fromArgv).length;

  // add_one_listen_addr(): each getaddrinfo() result list is put in FRONT of its rdomain's list, so sshd binds the
  // last (ListenAddress, Port) pair first; the addresses of one pair keep getaddrinfo's order (0.0.0.0 before ::).
  const groups: { rdomain: string | undefined; sockets: PlannedSocket[] }[] = [];
  for (const la of queued) {
    const thesePorts = la && la.port > 0 ? [{ port: la.port, location: la.location, fromArgv: la.fromArgv } as SshdPort] : ports;
    for (const p of thesePorts) {
      const chunk = resolve(la, p);
      const rd = la?.rdomain;
      let g = groups.find((x) => x.rdomain === rd);
      if (!g) {
        g = { rdomain: rd, sockets: [] };
        groups.push(g);
      }
      g.sockets.unshift(...chunk);
    }
  }
  // With a socket unit for ssh.service started at boot, systemd passes its sockets to sshd (LISTEN_FDS; Debian's
  // sshd calls sd_listen_fds() and then binds nothing itself — observed), and sshd_config's Port/ListenAddress
  // have no effect. Accept=yes runs `sshd -i` per connection, which binds nothing either.
  const sockets = activation ? [] : groups.flatMap((g) => g.sockets);
  if (sockets.length > SSHD_BEHAVIOUR.maxListenSocks && refusesToStart.length === 0) {
    const s = sockets[SSHD_BEHAVIOUR.maxListenSocks] as PlannedSocket;
    finding('BC002', s.source, `${sockets.length} listen addresses: sshd stops with "Too many listen sockets. Enlarge MAX_LISTEN_SOCKS" at the ${SSHD_BEHAVIOUR.maxListenSocks + 1}th`, true);
  }

  function resolve(la: SshdListenAddress | undefined, p: SshdPort): PlannedSocket[] {
    const derivation: string[] = [];
    if (p.fromArgv) derivation.push(`port ${p.port} from the command line (${p.location.file} argv[${p.location.column ?? '?'}])`);
    else if (portsDefault && !(la && la.port > 0)) derivation.push(`no Port line: sshd's default port ${p.port} (SSH_DEFAULT_PORT)`);
    else if (la && la.port > 0) derivation.push(`port ${p.port} given in ListenAddress (${fmt(la.location)})`);
    else derivation.push(`Port ${p.port} (${fmt(p.location)})`);
    if (st.portsFromCmdline && configPortLines === 0 && !p.fromArgv) derivation.push('-p on the command line: the config file\'s Port lines are ignored');
    let targets: { family: Family; address: string; how: string }[];
    let source: Location;
    let directive: DirectiveExtent | undefined;
    if (la === undefined) {
      const all: { family: Family; address: string; how: string }[] = [
        { family: 'inet', address: '0.0.0.0', how: 'no ListenAddress: getaddrinfo(NULL, AI_PASSIVE) gives 0.0.0.0' },
        { family: 'inet6', address: '::', how: 'no ListenAddress: getaddrinfo(NULL, AI_PASSIVE) gives ::' },
      ];
      targets = af === 'any' ? all : all.filter((t) => t.family === af);
      if (af !== 'any') derivation.push(`AddressFamily ${af}${result.addressFamily.location ? ` (${fmt(result.addressFamily.location)})` : ''}`);
      source = p.location;
      // Commenting out one of several Port lines removes its sockets; the last one would bring back port 22.
      if (p.directive && configPortLines > 1) directive = p.directive;
    } else {
      derivation.push(`ListenAddress ${la.host}${la.rdomain ? ` rdomain ${la.rdomain}` : ''} (${fmt(la.location)})`);
      source = la.location;
      if (la.directive && configListenLines > 1) directive = la.directive;
      const parsed = parseAddress(la.host);
      if (!parsed || parsed.zone !== undefined) {
        finding('BC005', la.location, `ListenAddress ${la.host} is a host name: sshd resolves it at startup (getaddrinfo) and binds every address it gets; bindcheck does not predict that`, false);
        return [];
      }
      if (af !== 'any' && parsed.family !== af) {
        finding('BC002', la.location, `ListenAddress ${la.host} is not an ${af === 'inet' ? 'IPv4' : 'IPv6'} address but AddressFamily is ${af}: sshd refuses to start ("bad addr or host: ${la.host} (Address family for hostname not supported)")`, true);
        return [];
      }
      targets = [{ family: parsed.family, address: parsed.text, how: `"${la.host}" is an ${parsed.family === 'inet' ? 'IPv4' : 'IPv6'} address` }];
    }
    return targets.map((t) => {
      const s: PlannedSocket = {
        daemon: DAEMON,
        name: DAEMON,
        proto: 'tcp',
        family: t.family,
        address: t.address,
        port: p.port,
        reuseAddr: true,
        reusePort: false,
        uid: 0,
        listens: true,
        source,
        derivation: [
          ...derivation,
          t.how,
          `listen_on_addrs(): SO_REUSEADDR${la?.rdomain ? `, SO_BINDTODEVICE ${la.rdomain}` : ''}${t.family === 'inet6' ? ', IPV6_V6ONLY=1' : ''}, bind(), listen(128) before the next address; a failed bind() is logged and skipped`,
        ],
        optionsKey: `rdomain=${la?.rdomain ?? ''}`,
      };
      if (t.family === 'inet6') s.v6Only = true;
      if (la?.rdomain !== undefined) s.device = la.rdomain;
      if (directive) s.directive = directive;
      return s;
    });
  }

  result.plans.push({
    daemon: DAEMON,
    config: configPath,
    files,
    sockets,
    startup: 'bind-listen-each',
    units: ['ssh.service', 'sshd.service'],
    processNames: ['sshd'],
    // sshd.c listen_on_addrs(): a failed bind() is error()-logged and the next address tried; only when none was
    // bound does server_listen() fatal("Cannot bind any address.") (exit 255). A failed listen() is fatal at once.
    onFailure: 'continue',
    retry: { attempts: 0, intervalSeconds: 0, exitStatus: SSHD_BEHAVIOUR.exitStatus },
    ...(activation
      ? {
          inheritsSockets: {
            from: activation.unit,
            source: activation.source,
            endpoints: activation.listenStreams,
            ignored: [...st.ports, ...st.listen].map((x) => x.location).filter((l) => l.line > 0 || l.column !== undefined),
          },
        }
      : {}),
  });
  return result;
}

/**
 * Which getopt letter produced an override daemonArgs() reported: the letter before an attached value (`-p2222`),
 * the last letter of the previous word for a separate one (`-p 2222`), `flag` for a letter without a value (`-4`).
 */
function optionLetter(argv: string[], argIndex: number, value: string): string {
  const word = argv[argIndex] ?? '';
  if (!word.startsWith('-')) return (argv[argIndex - 1] ?? '').slice(-1);
  if (value !== '' && word.length > value.length + 1 && word.endsWith(value)) {
    const l = word[word.length - value.length - 1] as string;
    // `-oPort=2222`: the character before the value is '=' — it came through -o.
    return /[A-Za-z]/.test(l) && !word.slice(1, word.length - value.length).includes('o') ? l : 'o';
  }
  return 'flag';
}

function fmt(l: Location): string {
  return l.line > 0 ? `${l.file}:${l.line}` : l.file;
}

/**
 * misc.c hpdelim() + cleanhostname() as servconf.c sListenAddress uses them: a bare IPv6 address (two colons, no
 * brackets) has no port; `[addr]:port`, `[addr]`, `host:port` and `host` otherwise.
 */
export function splitHostPort(arg: string): { host: string; port?: string } | 'bad-usage' {
  const c = arg.indexOf(':');
  if (!arg.includes('[') && c >= 0 && arg.indexOf(':', c + 1) >= 0) return { host: arg };
  let i: number;
  if (arg.startsWith('[')) {
    const close = arg.indexOf(']');
    if (close < 0) return 'bad-usage';
    i = close + 1;
  } else {
    i = arg.indexOf(':');
    if (i < 0) i = arg.length;
  }
  if (i < arg.length && arg[i] !== ':') return 'bad-usage';
  let host = arg.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return i < arg.length ? { host, port: arg.slice(i + 1) } : { host };
}

/** misc.c a2port(): a number 0–65535 (strtonum), else a tcp service name from the root's /etc/services. */
export function a2port(fs: RootFs, s: string): number | undefined {
  if (/^\+?\d+$/.test(s)) {
    const n = Number(s);
    return n <= 65535 ? n : undefined;
  }
  const r = fs.readText('/etc/services');
  if (!r.ok) return undefined;
  for (const line of r.text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const [name, pp, ...aliases] = words;
    const m = /^(\d+)\/tcp$/.exec(pp ?? '');
    if (m && (name === s || aliases.includes(s))) return Number(m[1]);
  }
  return undefined;
}

/**
 * The socket unit systemd starts at boot for sshd, when the root enables one (Debian's and Ubuntu's ssh.socket,
 * through any *.wants/ or *.requires/ link, with drop-ins and unit precedence as the socket-units reader reads them):
 * Accept=no hands its sockets to ssh.service (or the sshd.service alias), Accept=yes runs ssh@.service per connection.
 */
function socketActivation(fs: RootFs): SshdReadResult['socketActivation'] {
  for (const u of readSocketUnits(fs).units) {
    if (u.notStarted !== undefined || u.service === undefined) continue;
    const forSshd = u.accept ? SSHD_BEHAVIOUR.activatedTemplates.includes(u.service) : SSHD_BEHAVIOUR.activatedServices.includes(u.service);
    if (!forSshd) continue;
    const ports = u.ports.filter((p) => p.socket !== undefined);
    const first = ports[0]?.location ?? { file: u.fragment ?? `/etc/systemd/system/${u.unit}`, line: 0 };
    return { unit: u.unit, listenStreams: ports.map((p) => formatEndpoint(p.socket as PlannedSocket)), source: first, accept: u.accept };
  }
  return undefined;
}

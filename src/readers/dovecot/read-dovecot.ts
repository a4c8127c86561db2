import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { parseAddress } from '../../kernel/index.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import { BUILTIN_SERVICES, DOVECOT_BEHAVIOUR, FILTER_SECTIONS, INET_LISTENER_KEYS, KNOWN_SERVICES } from './behaviour.js';
import { lexDovecotConf, type ConfStatement } from './conf-lexer.js';
import { rootGlob } from '../common/root-glob.js';
import { appendAll } from '../../model/append.js';

const DAEMON = 'dovecot';
/** config-parser.c has no include depth limit of its own; this only bounds pathological trees. */
const MAX_INCLUDE_DEPTH = 64;

export interface DovecotReadOptions {
  /** `dovecot -c FILE`: the config to read instead of /etc/dovecot/dovecot.conf (a path inside the root). */
  configPath?: string;
}

/** A setting as the config left it, with where it was set. */
export interface DovecotSetting {
  value: string;
  location: Location;
  /** How the value was produced (variable expansion, `<file`). */
  notes: string[];
}

/** One inet_listener of one service after every block and include was merged (DEFLIST_UNIQUE by name). */
export interface DovecotInetListener {
  service: string;
  name: string;
  /** Built into Dovecot (imap-login's `imap` and `imaps`…) rather than added by the config. */
  builtIn: boolean;
  port: number;
  address: string;
  ssl: boolean;
  reusePort: boolean;
  haproxy: boolean;
  settings: Map<string, DovecotSetting>;
  /** The config blocks that define it, in order. */
  blocks: BlockExtent[];
}

interface BlockExtent {
  location: Location;
  endLine: number;
}

export interface DovecotService {
  name: string;
  protocol: string;
  /** Whether the master starts it (service.c service_want: has an executable, protocol '' or enabled). */
  wanted: boolean;
  why: string;
  listeners: DovecotInetListener[];
  blocks: BlockExtent[];
  settings: Map<string, DovecotSetting>;
}

export interface DovecotReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  /** Enabled protocols, after `$protocols` expansion and Debian's protocols.d includes. */
  protocols: string[];
  listen: DovecotSetting;
  services: DovecotService[];
  /** Top-level settings, last value wins. */
  globals: Map<string, DovecotSetting>;
  /** Set when the config has an error that makes dovecot (and doveconf) refuse it. */
  refusesToStart: string[];
}

interface SectionFrame {
  kind: 'service' | 'listener' | 'filter' | 'other';
  key: string;
  name: string;
  begin: Location;
  service?: DovecotService;
  listener?: DovecotInetListener;
  block?: BlockExtent;
  settings: Map<string, DovecotSetting>;
}

/**
 * Predict the inet sockets Dovecot's master opens from dovecot.conf on this root, in the order it opens them, with
 * the options net_listen_full() sets. Never throws on bad input: problems become BC0xx findings.
 */
export function readDovecot(fs: RootFs, opts: DovecotReadOptions = {}): DovecotReadResult {
  const configPath = opts.configPath ?? DOVECOT_BEHAVIOUR.configPath;
  const sources = new Map<string, string>();
  const findings: Finding[] = [];
  const files: string[] = [];
  const globals = new Map<string, DovecotSetting>();
  const services = new Map<string, DovecotService>();
  const refusesToStart: string[] = [];
  const result: DovecotReadResult = {
    plans: [],
    findings,
    sources,
    found: false,
    protocols: [],
    listen: { value: DOVECOT_BEHAVIOUR.defaultListen, location: { file: configPath, line: 0 }, notes: ['default'] },
    services: [],
    globals,
    refusesToStart,
  };
  const slash = configPath.lastIndexOf('/');
  const present = fs.exists(configPath) || fs.list(configPath.slice(0, slash) || '/').includes(configPath.slice(slash + 1));
  if (!present && opts.configPath === undefined) return result;
  result.found = true;

  const finding = (code: InputCode, loc: Location, message: string, fatal: boolean) => {
    findings.push(inputFinding(code, loc, message, DAEMON));
    if (fatal) refusesToStart.push(message);
  };

  let sectionCounter = 0;
  const stack: SectionFrame[] = [];
  const inputStack: string[] = [];

  const serviceOf = (name: string, loc: Location): DovecotService => {
    let s = services.get(name);
    if (!s) {
      s = newService(name);
      services.set(name, s);
    }
    s.blocks.push({ location: loc, endLine: loc.line });
    return s;
  };

  // config-parser.c config_get_value(): the setting's value in the current section, else (for `key = $key …`)
  // the parent's; a setting never set has its default value.
  const lookupVar = (name: string): string => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i] as SectionFrame;
      if (f.kind === 'filter') continue;
      const v = f.settings.get(name);
      if (v) return v.value;
    }
    const g = globals.get(name);
    if (g) return g.value;
    if (name === 'listen') return DOVECOT_BEHAVIOUR.defaultListen;
    if (name === 'protocols') return DOVECOT_BEHAVIOUR.defaultProtocols;
    if (name === 'ssl') return DOVECOT_BEHAVIOUR.defaultSsl;
    return '';
  };

  const expandVariables = (value: string, notes: string[]): string => {
    // config-parser.c config_write_keyvariable(): tokens split at single spaces; a token starting with `$` (at the
    // start or after a blank) is replaced by the setting's current value; `$ENV:NAME` by the environment.
    const tokens = value.split(' ');
    const out: string[] = [];
    for (const t of tokens) {
      if (t === '' && out.length > 0) continue;
      if (t.startsWith('$ENV:')) {
        notes.push(`${t} is dovecot's environment at startup, unknown to bindcheck (taken as empty)`);
        out.push('');
      } else if (t.startsWith('$') && t.length > 1) {
        const v = lookupVar(t.slice(1));
        notes.push(`${t} expanded to "${v}"`);
        out.push(v);
      } else out.push(t);
    }
    return out.join(' ');
  };

  const applySetting = (st: ConfStatement, loc: Location, file: string) => {
    const notes: string[] = [];
    let value = st.value;
    if (st.kind === 'variable-value') value = expandVariables(st.value, notes);
    else if (st.kind === 'file-value') {
      const p = fixRelativePath(st.value, file);
      if (isRelevantKey(st.key, stack)) {
        const r = fs.readText(p);
        if (!r.ok) {
          finding('BC004', loc, `${st.key} = <${st.value}: ${r.message}; dovecot refuses to start ("Error in configuration file ${file} line ${loc.line}")`, true);
          value = '';
        } else {
          value = r.text.replace(/\r?\n$/, '');
          notes.push(`value read from ${p}`);
        }
      } else value = `<${st.value}`;
    }
    const setting: DovecotSetting = { value, location: loc, notes };
    const top = stack[stack.length - 1];
    if (!top) {
      globals.set(st.key, setting);
      return;
    }
    if (top.kind === 'filter' || top.kind === 'other') {
      top.settings.set(st.key, setting);
      return;
    }
    if (top.kind === 'listener' && top.listener) {
      if (!(INET_LISTENER_KEYS as readonly string[]).includes(st.key)) {
        finding('BC005', loc, `inet_listener has no setting "${st.key}": dovecot refuses to start ("Unknown setting: ${st.key}")`, true);
        return;
      }
      top.listener.settings.set(st.key, setting);
      top.settings.set(st.key, setting);
      return;
    }
    top.settings.set(st.key, setting);
  };

  const processFile = (path: string, includedFrom: Location[]) => {
    const r = fs.readText(path);
    if (!r.ok) {
      finding('BC001', { file: path, ...(includedFrom.length ? { includedFrom } : {}), line: 0 }, `${r.message}; dovecot refuses to start without it`, true);
      return;
    }
    sources.set(path, r.text);
    files.push(path);
    const stackDepthAtStart = stack.length;
    const mkLoc = (line: number, column?: number): Location => {
      const l: Location = { file: path, line };
      if (column !== undefined) l.column = column;
      if (includedFrom.length > 0) l.includedFrom = includedFrom;
      return l;
    };
    for (const st of lexDovecotConf(r.text)) {
      const loc = mkLoc(st.startLine, st.column);
      switch (st.kind) {
        case 'error':
          finding('BC002', loc, `dovecot cannot parse this line: ${st.value}; it refuses to start ("Error in configuration file ${path} line ${st.startLine}: ${st.value}")`, true);
          break;
        case 'value':
        case 'file-value':
        case 'variable-value':
          applySetting(st, loc, path);
          break;
        case 'section-begin':
          openSection(st, loc);
          break;
        case 'section-end': {
          const f = stack.pop();
          if (!f) {
            finding('BC002', loc, `"}" closes no section: dovecot refuses to start ("Unexpected '}'")`, true);
            break;
          }
          if (f.block && f.block.location.file === path) f.block.endLine = st.endLine;
          break;
        }
        case 'include':
        case 'include-try':
          include(st, loc, path, includedFrom);
          break;
      }
    }
    // config-parser.c carries open sections across the end of an included file; only the main file must close them.
    if (includedFrom.length === 0 && stack.length > stackDepthAtStart) {
      const open = stack[stack.length - 1] as SectionFrame;
      finding('BC002', open.begin, `section "${open.key}${open.name ? ' ' + open.name : ''}" is never closed: dovecot refuses to start ("Missing '}'")`, true);
      stack.length = stackDepthAtStart;
    }
  };

  const openSection = (st: ConfStatement, loc: Location) => {
    const parent = stack[stack.length - 1];
    const frame: SectionFrame = { kind: 'other', key: st.key, name: st.value, begin: loc, settings: new Map() };
    const inFilter = stack.some((f) => f.kind === 'filter');
    if ((FILTER_SECTIONS as readonly string[]).includes(st.key)) frame.kind = 'filter';
    else if (!inFilter && !parent && st.key === 'service') {
      if (st.value === '') {
        // An unnamed service gets a counter name and, lacking an executable, is ignored by the master.
        sectionCounter++;
      }
      const s = serviceOf(st.value === '' ? `${sectionCounter - 1}` : st.value, loc);
      frame.kind = 'service';
      frame.service = s;
      frame.settings = s.settings;
      frame.block = s.blocks[s.blocks.length - 1] as BlockExtent;
    } else if (!inFilter && parent?.kind === 'service' && parent.service && st.key === 'inet_listener') {
      const s = parent.service;
      // config-parser.c: an unnamed section gets a counter as its name, so it is always a new listener.
      const name = st.value === '' ? `${sectionCounter++}` : st.value;
      let l = s.listeners.find((x) => x.name === name && !(st.value === '' && x.builtIn));
      if (!l) {
        l = newListener(s.name, name, false);
        s.listeners.push(l);
      }
      const block: BlockExtent = { location: loc, endLine: loc.line };
      l.blocks.push(block);
      frame.kind = 'listener';
      frame.listener = l;
      frame.block = block;
    } else if (st.value === '' && frame.kind === 'other') sectionCounter++;
    stack.push(frame);
  };

  const include = (st: ConfStatement, loc: Location, file: string, includedFrom: Location[]) => {
    const optional = st.kind === 'include-try';
    const pattern = fixRelativePath(st.value, file);
    const matches = rootGlob(fs, pattern);
    if (matches.length === 0) {
      if (!optional) {
        finding('BC004', loc, `!include ${st.value} matches no file (${pattern}): dovecot refuses to start ("Error in configuration file ${file} line ${loc.line}: No matches"); !include_try would skip it`, true);
      }
      return;
    }
    if (includedFrom.length >= MAX_INCLUDE_DEPTH) {
      finding('BC004', loc, `includes nest more than ${MAX_INCLUDE_DEPTH} deep; bindcheck stops here`, false);
      return;
    }
    // settings_include(): every match is pushed on the input stack (last first) before any is read, and
    // settings_add_include() refuses a path already on the stack — ancestors and not-yet-read siblings alike.
    const pushed: string[] = [];
    for (let i = matches.length - 1; i >= 0; i--) {
      const p = matches[i] as string;
      if (inputStack.includes(p)) {
        finding('BC004', loc, `include loop: ${p} is already being read (${[...inputStack].reverse().join(' ← ')}); dovecot refuses to start ("Recursive include file: ${p}")`, true);
        break;
      }
      const readable = fs.readText(p);
      if (!readable.ok) {
        if (optional) continue;
        finding('BC004', loc, `!include ${st.value}: ${readable.message}; dovecot refuses to start ("Couldn't open include file ${p}")`, true);
        break;
      }
      inputStack.push(p);
      pushed.push(p);
    }
    const chain = [...includedFrom, loc];
    for (let k = pushed.length - 1; k >= 0; k--) {
      processFile(pushed[k] as string, chain);
      inputStack.pop();
    }
  };

  // Built-in services with inet listeners exist whether or not the config mentions them.
  for (const [name, k] of Object.entries(KNOWN_SERVICES)) {
    if (k.listeners.length === 0) continue;
    const s = newService(name);
    services.set(name, s);
  }

  inputStack.push(configPath);
  processFile(configPath, []);
  inputStack.pop();
  while (stack.length > 0) stack.pop();

  // protocols and listen: master-settings.c.
  const protocolsSetting = globals.get('protocols');
  let protocols = (protocolsSetting?.value ?? DOVECOT_BEHAVIOUR.defaultProtocols).split(/[ \t]+/).filter(Boolean);
  if (protocols.length === 1 && protocols[0] === 'none') protocols = [];
  protocols = [...new Set(protocols)];
  result.protocols = protocols;
  const protoLoc = protocolsSetting?.location ?? { file: configPath, line: 0 };
  const installed = (k: { requires?: string }) => k.requires === undefined || fs.exists(k.requires);
  const knownProtocols = new Set<string>();
  for (const [name, k] of Object.entries(KNOWN_SERVICES)) if (k.protocol && installed(k) && name) knownProtocols.add(k.protocol);
  for (const s of services.values()) {
    const p = s.settings.get('protocol')?.value;
    if (p) knownProtocols.add(p);
  }
  for (const p of protocols) {
    if (!knownProtocols.has(p)) {
      finding('BC002', protoLoc, `protocols names "${p}", which no installed service provides: dovecot refuses to start ("protocols: Unknown protocol: ${p}")`, true);
    }
  }
  const listenSetting = globals.get('listen');
  if (listenSetting) result.listen = listenSetting;
  if (result.listen.value.trim() === '') {
    finding('BC002', result.listen.location, `listen is empty: dovecot refuses to start ("listen can't be set empty")`, true);
  }
  const sslSetting = globals.get('ssl');
  const sslDisabled = (sslSetting?.value ?? DOVECOT_BEHAVIOUR.defaultSsl) === 'no';

  // Resolve every service's listeners (defaults, then config) and whether the master wants it.
  for (const s of services.values()) {
    const known = KNOWN_SERVICES[s.name];
    const protocolSet = s.settings.get('protocol');
    s.protocol = protocolSet?.value ?? known?.protocol ?? '';
    const executable = s.settings.get('executable')?.value ?? (known && installed(known) ? s.name : (BUILTIN_SERVICES as readonly string[]).includes(s.name) ? s.name : '');
    if (executable === '') {
      s.wanted = false;
      s.why = known ? `service ${s.name} needs ${known.package ?? 'a plugin'}, which is not installed: the master ignores the block (service_want: no executable)` : `service ${s.name} has no executable: the master ignores it (service.c service_want)`;
    } else if (s.protocol === '' || protocols.includes(s.protocol)) {
      s.wanted = true;
      s.why = s.protocol === '' ? `service ${s.name} has no protocol and always runs` : `protocol ${s.protocol} is enabled`;
    } else {
      s.wanted = false;
      s.why = `protocol ${s.protocol} is not in protocols ("${protocols.join(' ')}"): service ${s.name} is not started`;
    }
    const builtIns = (known?.listeners ?? []).map((d) => {
      const existing = s.listeners.find((l) => l.name === d.name && d.name !== '');
      const l = existing ?? newListener(s.name, d.name, true);
      l.builtIn = true;
      l.port = d.port;
      l.ssl = d.ssl;
      return l;
    });
    const added = s.listeners.filter((l) => !builtIns.includes(l));
    s.listeners = [...builtIns, ...added];
    for (const l of s.listeners) {
      const port = l.settings.get('port');
      if (port) {
        const v = port.value.trim();
        if (/^\d+$/.test(v) && Number(v) <= 65535) l.port = Number(v);
        else finding('BC002', port.location, `port = ${port.value} is not a port number: dovecot refuses to start ("Invalid port number ${port.value}")`, true);
      }
      const address = l.settings.get('address');
      if (address) l.address = address.value;
      for (const [key, field] of [['ssl', 'ssl'], ['reuse_port', 'reusePort'], ['haproxy', 'haproxy']] as const) {
        const set = l.settings.get(key);
        if (!set) continue;
        const b = parseBool(set.value);
        if (b === undefined) finding('BC002', set.location, `${key} = ${set.value} is not a boolean: dovecot refuses to start ("Invalid boolean value: ${set.value} (use yes or no)")`, true);
        else l[field] = b;
      }
    }
  }

  // service.c / master-settings.c order: observed on the real master, services are listened on in descending
  // order of their name with "/" appended (pop3-login before imap-login; dict before dict-async).
  const ordered = [...services.values()].sort((a, b) => byteCompare(b.name + '/', a.name + '/'));
  result.services = ordered;

  // master_settings_verify(): "duplicate listener" on two enabled listeners with the same port and address text.
  const seen = new Map<string, DovecotInetListener>();
  for (const s of ordered) {
    if (!s.wanted || (s.protocol !== '' && !protocols.includes(s.protocol))) continue;
    for (const l of s.listeners) {
      if (l.port === 0) continue;
      const key = `${l.port}:${l.address}`;
      const first = seen.get(key);
      if (first) {
        finding('BC002', listenerLocation(l, protoLoc), `inet_listener ${s.name}/${l.name} repeats port and address "${key}" of ${first.service}/${first.name}: dovecot and doveconf refuse it ("duplicate listener: ${key}")`, true);
      } else seen.set(key, l);
    }
  }

  const sockets: PlannedSocket[] = [];
  for (const s of ordered) {
    if (!s.wanted) continue;
    for (const l of s.listeners) {
      appendAll(sockets, listenerSockets(s, l, result.listen, sslDisabled, protoLoc, sources, (c, loc, m) => finding(c, loc, m, false)));
    }
  }

  result.plans.push({
    daemon: DAEMON,
    config: configPath,
    files,
    sockets,
    startup: 'bind-listen-each',
    units: ['dovecot.service'],
    processNames: ['dovecot'],
    // service-listen.c services_listen(): every listener is tried even after one fails; then main.c
    // i_fatal("Failed to start listeners") → exit 89 and no socket stays open. No retries.
    onFailure: 'exit-after-all',
    retry: { attempts: DOVECOT_BEHAVIOUR.retries, intervalSeconds: 0, exitStatus: DOVECOT_BEHAVIOUR.exitStatus },
  });
  return result;
}

function newService(name: string): DovecotService {
  return { name, protocol: '', wanted: false, why: '', listeners: [], blocks: [], settings: new Map() };
}

function newListener(service: string, name: string, builtIn: boolean): DovecotInetListener {
  return { service, name, builtIn, port: 0, address: '', ssl: false, reusePort: false, haproxy: false, settings: new Map(), blocks: [] };
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** settings-parser.c get_bool(): yes/y/1 and no/n/0, case-insensitive. */
function parseBool(v: string): boolean | undefined {
  const t = v.toLowerCase();
  if (t === 'yes' || t === 'y' || t === '1') return true;
  if (t === 'no' || t === 'n' || t === '0') return false;
  return undefined;
}

/** config-parser.c fix_relative_path(): relative to the directory of the including file. */
export function fixRelativePath(p: string, including: string): string {
  if (p.startsWith('/')) return p;
  const i = including.lastIndexOf('/');
  return i < 0 ? p : including.slice(0, i + 1) + p;
}

/** `<file` values are read only for the settings bindcheck needs (dovecot reads all of them). */
function isRelevantKey(key: string, stack: SectionFrame[]): boolean {
  const top = stack[stack.length - 1];
  if (!top) return key === 'listen' || key === 'protocols' || key === 'ssl';
  return top.kind === 'listener' || (top.kind === 'service' && key === 'protocol');
}

function listenerLocation(l: DovecotInetListener, fallback: Location): Location {
  return l.settings.get('address')?.location ?? l.settings.get('port')?.location ?? l.blocks[0]?.location ?? fallback;
}

function listenerSockets(
  s: DovecotService,
  l: DovecotInetListener,
  listen: DovecotSetting,
  sslDisabled: boolean,
  protoLoc: Location,
  sources: Map<string, string>,
  report: (code: InputCode, loc: Location, message: string) => void,
): PlannedSocket[] {
  const label = `${s.name} inet_listener ${l.name || '(unnamed)'}`;
  const derivation: string[] = [`${label}: ${s.why}`];
  const portSet = l.settings.get('port');
  derivation.push(portSet ? `port = ${l.port} (${fmt(portSet.location)})` : `port ${l.port}: built-in default of ${label}`);
  if (l.port === 0) return [];
  const addrSet = l.settings.get('address');
  const addresses = addrSet && addrSet.value !== '' ? addrSet : listen;
  derivation.push(
    addrSet && addrSet.value !== ''
      ? `address = ${addrSet.value} (${fmt(addrSet.location)})`
      : `no address: listen = ${listen.value} applies (${listen.location.line > 0 ? fmt(listen.location) : 'built-in default'})`,
  );
  for (const n of [...(addrSet?.notes ?? []), ...(addrSet ? [] : listen.notes.filter((x) => x !== 'default')), ...(portSet?.notes ?? [])]) derivation.push(n);
  if (l.ssl && sslDisabled) {
    derivation.push('ssl = yes listener skipped: the global ssl = no (service.c service_create_inet_listeners)');
    return [];
  }
  const source = listenerLocation(l, protoLoc);
  const directive = listenerDirective(l, sources);
  const out: PlannedSocket[] = [];
  // service.c: t_strsplit_spaces(addresses, ", "), then resolve_ip() on each token.
  for (const token of addresses.value.split(/[ ,]+/).filter(Boolean)) {
    let address: string;
    let family: 'inet' | 'inet6';
    let how: string;
    if (token === '*') {
      address = '0.0.0.0';
      family = 'inet';
      how = '"*" is the IPv4 any address (resolve_ip: net_ip4_any)';
    } else if (token === '::' || token === '[::]') {
      address = '::';
      family = 'inet6';
      how = `"${token}" is the IPv6 any address (resolve_ip: net_ip6_any)`;
    } else {
      const p = parseAddress(token);
      if (!p) {
        report(
          'BC005',
          addrSet && addrSet.value !== '' ? addrSet.location : listen.location,
          `"${token}" is a host name: dovecot resolves it at startup (net_gethostbyname) and listens on every address it gets; bindcheck does not predict that`,
        );
        continue;
      }
      address = p.text;
      family = p.family;
      how = `"${token}" is an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`;
    }
    const sock: PlannedSocket = {
      daemon: DAEMON,
      name: s.name,
      proto: 'tcp',
      family,
      address,
      port: l.port,
      reuseAddr: true,
      reusePort: l.reusePort,
      uid: 0,
      listens: true,
      source,
      derivation: [
        ...derivation,
        how,
        `net_listen_full(): SO_REUSEADDR${l.reusePort ? ', SO_REUSEPORT (reuse_port = yes)' : ''}${family === 'inet6' ? ', IPV6_V6ONLY=1' : ''}, then bind() and listen() before the next listener`,
      ],
      optionsKey: `service=${s.name};ssl=${l.ssl ? 'yes' : 'no'};haproxy=${l.haproxy ? 'yes' : 'no'}`,
    };
    // net.c net_listen_full: IPV6_V6ONLY=1 on every AF_INET6 socket.
    if (family === 'inet6') sock.v6Only = true;
    if (directive) sock.directive = directive;
    out.push(sock);
  }
  return out;
}

function fmt(l: Location): string {
  return `${l.file}:${l.line}`;
}

/**
 * The listener's first block and how to switch it off: a listener the config added goes away when its block is
 * commented out; a built-in one (imap-login's `imap`…) stays with its default port, so its block gets `port = 0`.
 */
function listenerDirective(l: DovecotInetListener, sources: Map<string, string>): DirectiveExtent | undefined {
  const b = l.blocks[0];
  if (!b) return undefined;
  const text = sources.get(b.location.file);
  if (text === undefined || b.endLine < b.location.line) return undefined;
  const all = text.split('\n').map((x) => x.replace(/\r$/, ''));
  const lines = all.slice(b.location.line - 1, b.endLine);
  if (lines.length === 0) return undefined;
  let disabled: string[];
  if (!l.builtIn) disabled = lines.map((x) => '#' + x);
  else if (lines.length === 1) {
    const indent = /^[ \t]*/.exec(lines[0] as string)?.[0] ?? '';
    disabled = [`${indent}inet_listener ${l.name} {`, `${indent}  port = 0`, `${indent}}`];
  } else {
    const head = lines[0] as string;
    const tail = lines[lines.length - 1] as string;
    const inner = lines.slice(1, -1);
    const indent = (/^[ \t]*/.exec(head)?.[0] ?? '') + '  ';
    disabled = [head, ...inner.map((x) => (/^\s*port\s*=/.test(x) ? '#' + x : x)), `${indent}port = 0`, tail];
  }
  return { file: b.location.file, startLine: b.location.line, endLine: b.endLine, lines, disabled };
}

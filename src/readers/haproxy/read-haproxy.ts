import type { RootFs } from '../../fs/root-fs.js';
import { formatEndpoint, type Family } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import { formatLocation, type Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import type { ReaderResult, ReadOptions } from '../index.js';
import { gaiPrecedence } from '../nginx/listen.js';
import { LazyHosts } from '../sendmail/hosts.js';
import { daemonArgs } from '../systemd/daemon-args.js';
import { parseBindAddress, splitBindAddresses } from './address.js';
import { BIND_KEYWORDS, HAPROXY_BEHAVIOUR } from './behaviour.js';
import { lexHaproxyConfig, type HaproxyLine } from './config-lexer.js';

const DAEMON = 'haproxy';

/** proxy_type_str(): what haproxy calls a proxy in its messages. */
export type ProxyType = 'frontend' | 'proxy' | 'backend';

/** One TCP listener a `bind` (or global `stats socket`) line asks for, after address parsing. */
export interface HaproxyBind {
  proxyType: ProxyType;
  proxy: string;
  location: Location;
  family: Family;
  address: string;
  port: number;
  v6Only?: boolean;
  reusePort: boolean;
  transparent: boolean;
  device?: string;
  options: string[];
  derivation: string[];
  directive?: DirectiveExtent;
}

export interface HaproxyReadResult extends ReaderResult {
  binds: HaproxyBind[];
  /** `haproxy -c` and haproxy itself refuse the configuration (their own words). */
  refusesToStart: string[];
}

interface ProxyState {
  kind: 'frontend' | 'listen' | 'backend' | 'defaults';
  name: string;
  at: Location;
  disabled: boolean;
  binds: HaproxyBind[];
}

/** The file list haproxy reads for its -f arguments: a directory stands for its `*.cfg` regular files. */
function expandConfigArgs(fs: RootFs, paths: string[], finding: (code: InputCode, loc: Location, msg: string) => void): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (!fs.isDirectory(p)) {
      out.push(p);
      continue;
    }
    // haproxy.c: scandir(…, alphasort) in the C locale; skip names starting with '.', keep those whose first
    // ".cfg" ends the name (`a.cfg.cfg` is skipped), regular files only.
    const names = fs
      .list(p)
      .filter((n) => !n.startsWith('.') && n.indexOf('.cfg') >= 0 && n.indexOf('.cfg') === n.length - 4)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of names) {
      const f = `${p === '/' ? '' : p.replace(/\/+$/, '')}/${n}`;
      if (!fs.isDirectory(f) && fs.exists(f)) out.push(f);
    }
    if (names.length === 0) finding('BC004', { file: p, line: 0 }, `configuration directory ${p} holds no *.cfg file; haproxy reads nothing from it`);
  }
  return out;
}

function readBindV6Only(fs: RootFs): { value: boolean; known: boolean } {
  const r = fs.readText('/proc/sys/net/ipv6/bindv6only');
  if (r.ok && /^[01]\s*$/.test(r.text)) return { value: r.text.trim() === '1', known: true };
  return { value: false, known: false };
}

/**
 * Predict the TCP sockets haproxy binds from its configuration files on this root, in protocol_bind_all()'s
 * order, with the options it sets. Never throws on bad input: problems become BC0xx findings.
 */
export function readHaproxy(fs: RootFs, opts: ReadOptions = {}): HaproxyReadResult {
  const args = opts.argv && opts.argv.length > 0 ? daemonArgs(opts.argv, DAEMON) : undefined;
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const refusesToStart: string[] = [];
  const binds: HaproxyBind[] = [];
  const result: HaproxyReadResult = { plans: [], findings, sources, found: false, binds, refusesToStart };
  const argPaths = args?.config.map((c) => c.path) ?? [];
  const explicit = opts.configPath !== undefined || argPaths.length > 0;
  // The unit's first -f arrives as configPath too; the whole -f list is what haproxy reads.
  const requested = argPaths.length > 0 && (opts.configPath === undefined || argPaths.includes(opts.configPath)) ? argPaths : opts.configPath !== undefined ? [opts.configPath] : [HAPROXY_BEHAVIOUR.configPath];
  if (!explicit && !fs.exists(HAPROXY_BEHAVIOUR.configPath)) return result;
  result.found = true;

  const finding = (code: InputCode, loc: Location, message: string, fatal = false): void => {
    findings.push(inputFinding(code, loc, message, DAEMON));
    if (fatal) refusesToStart.push(message);
  };
  const files = expandConfigArgs(fs, requested, (c, l, m) => finding(c, l, m));
  const hosts = new LazyHosts(fs, (p, t) => sources.set(p, t));
  const v6default = readBindV6Only(fs);
  let reusePort = true;
  let reusePortWhy = 'haproxy sets SO_REUSEPORT on every listener (GTUNE_USE_REUSEPORT is on by default)';
  if (args?.overrides.some((o) => o.option === 'noreuseport')) {
    reusePort = false;
    reusePortWhy = 'no SO_REUSEPORT: -dR on the command line';
  }
  let crtBase: string | undefined;
  let useGai = !args?.overrides.some((o) => o.option === 'nogetaddrinfo');
  const proxies: ProxyState[] = [];
  let defaultsDisabled = false;
  const readFiles: string[] = [];

  for (const file of files) {
    const r = fs.readText(file);
    if (!r.ok) {
      finding('BC001', { file, line: 0 }, `${r.message}; haproxy refuses to start ("Could not open configuration file ${file}")`, true);
      continue;
    }
    readFiles.push(file);
    sources.set(file, r.text);
    const lines = lexHaproxyConfig(r.text);
    // readcfgfile(): every file starts outside any section.
    let section: string | undefined;
    let proxy: ProxyState | undefined;
    const cond: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
    const active = () => cond.every((c) => c.active);
    for (const l of lines) {
      const at: Location = { file, line: l.line, column: l.words[0]?.column ?? 1 };
      if (l.error) {
        finding('BC002', at, `parsing [${file}:${l.line}]: ${l.error.message}; haproxy refuses to start`, true);
        continue;
      }
      const w = l.words.map((x) => x.text);
      const kw = w[0] as string;
      // .if/.elif/.else/.endif (cfgparse.c cfg_eval_condition): only constant conditions are decided here.
      if (kw === '.if' || kw === '.elif' || kw === '.else' || kw === '.endif') {
        if (kw === '.if') {
          const v = evalCondition(w.slice(1));
          if (v === undefined) finding('BC005', at, `.if ${w.slice(1).join(' ')}: bindcheck cannot evaluate this condition and reads the block as true`);
          const on = v ?? true;
          cond.push({ active: on, taken: on, parentActive: active() });
        } else if (kw === '.endif') {
          if (cond.pop() === undefined) finding('BC002', at, `parsing [${file}:${l.line}]: .endif without matching .if; haproxy refuses to start`, true);
        } else {
          const top = cond[cond.length - 1];
          if (!top) {
            finding('BC002', at, `parsing [${file}:${l.line}]: ${kw} without matching .if; haproxy refuses to start`, true);
            continue;
          }
          const v = kw === '.else' ? true : evalCondition(w.slice(1));
          if (v === undefined) finding('BC005', at, `.elif ${w.slice(1).join(' ')}: bindcheck cannot evaluate this condition and reads the block as false`);
          top.active = !top.taken && (v ?? false);
          top.taken ||= top.active;
        }
        continue;
      }
      if (!active()) continue;
      if (kw === '.alert') {
        finding('BC002', at, `.alert ${w.slice(1).join(' ')}: haproxy stops here and refuses to start`, true);
        continue;
      }
      if (kw.startsWith('.')) continue;
      if ((HAPROXY_BEHAVIOUR.sections as readonly string[]).includes(kw)) {
        section = kw;
        proxy = undefined;
        if (kw === 'frontend' || kw === 'listen' || kw === 'backend' || kw === 'defaults') {
          const name = w[1] ?? '';
          if (kw !== 'defaults' && name === '') {
            finding('BC002', at, `parsing [${file}:${l.line}]: '${kw}' needs an <id> argument; haproxy refuses to start`, true);
            proxy = { kind: kw, name: '', at, disabled: true, binds: [] };
            continue;
          }
          if (kw !== 'defaults') {
            const clash = proxies.find((p) => p.name === name && p.kind !== 'defaults' && (p.kind === kw || p.kind === 'listen' || kw === 'listen' || !((p.kind === 'frontend' && kw === 'backend') || (p.kind === 'backend' && kw === 'frontend'))));
            if (clash) finding('BC002', at, `parsing [${file}:${l.line}]: ${kw} '${name}' has the same name as ${clash.kind === 'listen' ? 'proxy' : clash.kind} '${name}' declared at ${formatLocation(clash.at)}; haproxy refuses to start`, true);
          }
          // proxy.c: a new proxy inherits only the disabled flag from its defaults section.
          proxy = { kind: kw, name, at, disabled: kw === 'defaults' ? false : defaultsDisabled, binds: [] };
          if (kw === 'defaults') defaultsDisabled = false;
          proxies.push(proxy);
        }
        continue;
      }
      if (section === undefined) {
        finding('BC002', at, `parsing [${file}:${l.line}]: unknown keyword '${kw}' out of section; haproxy refuses to start`, true);
        continue;
      }
      if (section === 'global') {
        if (kw === 'noreuseport') {
          reusePort = false;
          reusePortWhy = `no SO_REUSEPORT: noreuseport at ${formatLocation(at)}`;
        } else if (kw === 'nogetaddrinfo') useGai = false;
        else if (kw === 'crt-base' && w[1] !== undefined) crtBase = w[1];
        else if (kw === 'stats' && w[1] === 'socket' && w[2] !== undefined) {
          bindLine(l, 2, { kind: 'frontend', name: 'GLOBAL', at, disabled: false, binds: [] }, file, at, 'stats socket');
        }
        continue;
      }
      if (!proxy) continue;
      if (kw === 'disabled') {
        proxy.disabled = true;
        if (proxy.kind === 'defaults') defaultsDisabled = true;
      } else if (kw === 'enabled') {
        proxy.disabled = false;
        if (proxy.kind === 'defaults') defaultsDisabled = false;
      } else if (kw === 'bind') {
        if (proxy.kind === 'defaults') {
          finding('BC002', at, `parsing [${file}:${l.line}]: 'bind' not allowed in 'defaults' section; haproxy refuses to start`, true);
          continue;
        }
        if (proxy.kind === 'backend') {
          // warnifnotcap() only warns: the listeners are created and bound all the same (measured).
          finding('BC005', at, `'bind' in backend '${proxy.name}': haproxy warns "'bind' ignored because backend '${proxy.name}' has no frontend capability" but binds it anyway`);
        }
        bindLine(l, 1, proxy, file, at, 'bind');
      }
    }
    if (cond.length > 0) finding('BC002', { file, line: lines[lines.length - 1]?.line ?? 0 }, `parsing [${file}]: unterminated .if block; haproxy refuses to start`, true);
  }

  function bindLine(l: HaproxyLine, argIndex: number, proxy: ProxyState, file: string, at: Location, what: string): void {
    const w = l.words;
    const addrWord = w[argIndex];
    if (!addrWord || addrWord.text === '') {
      finding('BC002', at, `parsing [${file}:${l.line}]: '${what}' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments; haproxy refuses to start`, true);
      return;
    }
    // Options (bind_parse_args_list): unknown keywords are fatal.
    let v6only = false;
    let v4v6 = false;
    let transparent = false;
    let device: string | undefined;
    const options: string[] = [];
    if (what === 'bind') {
      for (let k = argIndex + 1; k < w.length; k++) {
        const name = (w[k] as { text: string }).text;
        const n = BIND_KEYWORDS[name];
        if (n === undefined) {
          finding('BC002', { ...at, column: (w[k] as { column: number }).column }, `parsing [${file}:${l.line}] : 'bind ${addrWord.text}' in section '${proxy.kind}': unknown keyword '${name}'; haproxy refuses to start`, true);
          return;
        }
        const val = n > 0 ? w[k + 1]?.text : undefined;
        if (n > 0 && val === undefined) {
          finding('BC002', at, `parsing [${file}:${l.line}]: 'bind ${addrWord.text}' : missing value for '${name}'; haproxy refuses to start`, true);
          return;
        }
        options.push(val !== undefined ? `${name} ${val}` : name);
        k += n;
        if (name === 'v6only') v6only = true;
        else if (name === 'v4v6') v4v6 = true;
        else if (name === 'transparent') transparent = true;
        else if (name === 'interface') device = val;
        else if (name === 'namespace') {
          finding('BC005', at, `bind ${addrWord.text} namespace ${val ?? ''}: the socket is created in network namespace ${val ?? ''}, which bindcheck does not model; not planned`);
          return;
        } else if (name === 'shards' && val !== '1') {
          finding('BC005', at, `bind ${addrWord.text} shards ${val ?? ''}: haproxy clones the listener per thread group; bindcheck plans one socket`);
        }
      }
    }
    if (what === 'bind' && options.includes('ssl') && !options.some((o) => o.startsWith('crt ') || o.startsWith('crt-list ') || o === 'generate-certificates')) {
      // check_config_validity() → ssl_sock_prepare_bind_conf(): an ssl bind needs a certificate.
      finding('BC002', at, `Proxy '${proxy.name}': no SSL certificate specified for bind '${addrWord.text}' at [${file}:${l.line}] (use 'crt'); haproxy refuses to start`, true);
    }
    for (const o of options) {
      if (!o.startsWith('crt ')) continue;
      // ssl_sock_load_cert(): a relative path is taken under crt-base; a missing file or directory is fatal.
      const c = o.slice(4);
      const full = c.startsWith('/') ? c : crtBase !== undefined ? `${crtBase.replace(/\/+$/, '')}/${c}` : undefined;
      if (full !== undefined && !full.includes('$') && !fs.exists(full)) {
        finding('BC002', at, `parsing [${file}:${l.line}] : 'bind ${addrWord.text}' in section '${proxy.kind}' : unable to stat SSL certificate from file '${full}' : No such file or directory; haproxy refuses to start`, true);
      }
    }
    const raw = addrWord.text;
    const extent: DirectiveExtent = { file, startLine: l.line, endLine: l.line, lines: [l.raw], disabled: [l.raw.replace(/^(\s*)/, '$1# ')] };
    const addrAt: Location = { ...at, column: addrWord.column };
    for (const item of splitBindAddresses(raw)) {
      // str2sa_range() runs env_expand() on the address: `$NAME`/`${NAME}` anywhere, quoted or not.
      const env = /\$\{?([A-Za-z0-9_]*)/.exec(item);
      if (env) {
        finding('BC005', addrAt, `${what} ${item} in ${proxy.kind === 'listen' ? 'proxy' : proxy.kind} ${proxy.name}: the address depends on environment variable ${env[1] ? `${env[1]}` : '(empty name)'}, which bindcheck cannot see (haproxy substitutes an empty string when it is unset); not planned`);
        continue;
      }
      const t = parseBindAddress(item);
      if (t.kind === 'unix' || t.kind === 'fd') continue;
      if (t.kind === 'error') {
        finding('BC002', addrAt, `parsing [${file}:${l.line}]: '${what}' : ${t.message}; haproxy refuses to start`, true);
        continue;
      }
      let family: Family;
      let address: string;
      const how = [`${what} ${item} at ${formatLocation(at)} (${proxy.kind === 'listen' ? 'listen' : proxy.kind} ${proxy.name}): ${t.how}`];
      if (t.kind === 'inet') {
        family = t.family;
        address = t.address;
      } else {
        const r = resolve(t.host, t.family);
        if (!r) {
          finding('BC002', addrAt, `parsing [${file}:${l.line}]: '${what}' : invalid address: '${t.host}' in '${item}' (not in the root's /etc/hosts; bindcheck does not ask DNS); haproxy refuses to start unless DNS resolves it`, true);
          continue;
        }
        family = r.family;
        address = r.address;
        how.push(r.how);
      }
      // A disabled proxy's binds are parsed (their errors count) but check_config_validity() skips the proxy.
      if (proxy.disabled) continue;
      for (let port = t.portLow; port <= t.portHigh; port++) {
        const b: HaproxyBind = {
          proxyType: proxy.kind === 'listen' ? 'proxy' : proxy.kind === 'backend' ? 'backend' : 'frontend',
          proxy: proxy.name,
          location: addrAt,
          family,
          address,
          port,
          reusePort: true,
          transparent,
          options,
          derivation: [...how],
          directive: extent,
        };
        if (family === 'inet6') b.v6Only = v6only || (v6default.value && !v4v6);
        if (device !== undefined) b.device = device;
        proxy.binds.push(b);
        binds.push(b);
      }
    }
  }

  function resolve(host: string, family: Family | undefined): { family: Family; address: string; how: string } | undefined {
    // str2ip2(…, resolve=1): getaddrinfo(hints.ai_family = the prefix's family or AF_UNSPEC), first result only;
    // with nogetaddrinfo, gethostbyname(): IPv4 only.
    const fams: Family[] = family ? [family] : useGai ? ['inet6', 'inet'] : ['inet'];
    const found: { address: string; family: Family; where: string }[] = [];
    for (const f of fams) {
      const h = hosts.lookup(host, f);
      if (h) found.push({ address: h.address, family: f, where: h.where });
    }
    if (found.length === 0 && host.toLowerCase() === 'localhost' && fams.includes('inet')) found.push({ address: '127.0.0.1', family: 'inet', where: "glibc's built-in localhost" });
    if (found.length === 0) return undefined;
    const best = found.map((f, i) => ({ f, i })).sort((x, y) => gaiPrecedence(y.f.address) - gaiPrecedence(x.f.address) || x.i - y.i)[0]?.f;
    if (!best) return undefined;
    return {
      family: best.family,
      address: best.address,
      how: `${host} resolves to ${found.map((f) => f.address).join(' and ')} (${best.where}); haproxy binds only the first address getaddrinfo() returns, ${best.address}`,
    };
  }

  for (const b of binds) {
    b.reusePort = reusePort;
    b.derivation.push(reusePortWhy);
    if (b.family === 'inet6') {
      b.derivation.push(
        `IPV6_V6ONLY=${b.v6Only ? 1 : 0}: haproxy sets it on every IPv6 socket (${b.options.includes('v6only') ? 'v6only' : b.options.includes('v4v6') ? 'v4v6' : `net.ipv6.bindv6only=${v6default.value ? 1 : 0}${v6default.known ? '' : ' assumed'} and no v6only`})`,
      );
    }
    if (b.transparent) b.derivation.push('transparent: IP_TRANSPARENT / IPV6_TRANSPARENT, so a non-local address can be bound (needs CAP_NET_ADMIN)');
  }
  const sockets: PlannedSocket[] = [];
  for (const fam of HAPROXY_BEHAVIOUR.protocolOrder) {
    for (const b of binds) if (b.family === fam) sockets.push(plannedSocket(b));
  }
  const plan: DaemonPlan = {
    daemon: DAEMON,
    config: requested[0] as string,
    files: readFiles,
    sockets,
    startup: 'bind-listen-each',
    units: ['haproxy.service'],
    processNames: ['haproxy'],
    // protocol_bind_all() tries every listener whatever the error, then main() exits 1.
    onFailure: 'exit-after-all',
    // No retries (those need old pids from -sf/-st): attempts 0; the exit status is what matters.
    retry: { attempts: 0, intervalSeconds: 0, exitStatus: HAPROXY_BEHAVIOUR.exitStatus },
  };
  result.plans.push(plan);
  return result;
}

function plannedSocket(b: HaproxyBind): PlannedSocket {
  const ep = formatEndpoint({ address: b.address, port: b.port });
  const s: PlannedSocket = {
    daemon: DAEMON,
    name: `${b.proxyType} ${b.proxy} ${ep}`,
    proto: 'tcp',
    family: b.family,
    address: b.address,
    port: b.port,
    reuseAddr: HAPROXY_BEHAVIOUR.reuseAddr,
    reusePort: b.reusePort,
    uid: 0,
    listens: true,
    source: b.location,
    derivation: b.derivation,
    optionsKey: JSON.stringify({ proxy: `${b.proxyType} ${b.proxy}`, options: b.options.filter((o) => !/^(name|id) /.test(o)) }),
  };
  if (b.v6Only !== undefined) s.v6Only = b.v6Only;
  if (b.transparent) s.freeBind = true;
  if (b.device !== undefined) s.device = b.device;
  if (b.directive) s.directive = b.directive;
  return s;
}

/** cfg_eval_condition() for the constant forms: `1`/`0`, `version_atleast(X)`, `version_before(X)`. */
function evalCondition(words: string[]): boolean | undefined {
  const t = words.join(' ').trim();
  if (/^[0-9]+$/.test(t)) return Number(t) !== 0;
  const m = /^(!?)(version_atleast|version_before)\(([0-9.]+)\)$/.exec(t);
  if (m) {
    const cmp = compareVersion('2.6.12', m[3] as string);
    const v = m[2] === 'version_atleast' ? cmp >= 0 : cmp < 0;
    return m[1] === '!' ? !v : v;
  }
  return undefined;
}

function compareVersion(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

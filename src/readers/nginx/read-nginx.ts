import type { RootFs } from '../../fs/root-fs.js';
import { formatEndpoint, type Family } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import { formatLocation, type Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import type { ReaderResult, ReadOptions } from '../index.js';
import { rootGlob } from '../common/root-glob.js';
import { LazyHosts } from '../sendmail/hosts.js';
import { daemonArgs } from '../systemd/daemon-args.js';
import { BIND_PARAMS, NGINX_BEHAVIOUR } from './behaviour.js';
import { lexNginxConf, type ConfDirective } from './conf-lexer.js';
import { gaiPrecedence, parseListenAddress } from './listen.js';

const DAEMON = 'nginx';
/** nginx has no include depth limit (it runs out of descriptors); this bounds pathological trees. */
const MAX_INCLUDE_DEPTH = 64;

export type ListenContext = 'http' | 'stream';

/** One `listen` (or the implicit `*:80` of a server without one) after address resolution. */
export interface NginxListen {
  context: ListenContext;
  /** The server {} block it belongs to. */
  server: Location;
  /** The `listen` directive; the `server` line for the implicit default. */
  location: Location;
  implicit: boolean;
  family: Family;
  address: string;
  port: number;
  proto: 'tcp' | 'udp';
  wildcard: boolean;
  /** `lsopt.set`: the directive carries a parameter that sets socket options (BIND_PARAMS). */
  set: boolean;
  /** `lsopt.bind`: a socket of its own even next to a wildcard. */
  bind: boolean;
  params: string[];
  defaultServer: boolean;
  ssl: boolean;
  http2: boolean;
  proxyProtocol: boolean;
  reusePort: boolean;
  v6Only: boolean;
  directive?: DirectiveExtent;
  derivation: string[];
}

/** One address:port of one context after nginx folded every `listen` of it (ngx_http_add_addresses). */
export interface NginxAddress {
  /** The listen whose options the socket takes (the one with `set`, else the first). */
  opt: NginxListen;
  first: NginxListen;
  listens: NginxListen[];
  servers: Location[];
  defaultServer: boolean;
  ssl: boolean;
  http2: boolean;
  proxyProtocol: boolean;
}

export interface NginxReadResult extends ReaderResult {
  listens: NginxListen[];
  /** Set when `nginx -t` would refuse the configuration (its own message). */
  refusesToStart: string[];
  workerProcesses: number;
}

interface Ctx {
  kind: 'main' | 'http' | 'stream' | 'http-server' | 'stream-server' | 'other';
  server?: ServerState;
}

interface ServerState {
  context: ListenContext;
  location: Location;
  listens: NginxListen[];
}

interface PortGroup {
  context: ListenContext;
  family: Family;
  port: number;
  proto: 'tcp' | 'udp';
  addrs: NginxAddress[];
}

function magic(p: string): boolean {
  return /[*?[]/.test(p);
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/**
 * Predict the sockets nginx's master opens from nginx.conf on this root, in the order ngx_open_listening_sockets()
 * opens them, with the options it sets. Never throws on bad input: problems become BC0xx findings.
 */
export function readNginx(fs: RootFs, opts: ReadOptions = {}): NginxReadResult {
  const args = opts.argv && opts.argv.length > 0 ? daemonArgs(opts.argv, DAEMON) : undefined;
  const configPath = opts.configPath ?? args?.config[0]?.path ?? NGINX_BEHAVIOUR.configPath;
  // ngx_process_options(): the conf prefix is the directory of the -c file.
  const confPrefix = dirOf(configPath);
  const sources = new Map<string, string>();
  const findings: Finding[] = [];
  const files: string[] = [];
  const seenFiles = new Set<string>();
  const refusesToStart: string[] = [];
  const listens: NginxListen[] = [];
  const result: NginxReadResult = { plans: [], findings, sources, found: false, listens, refusesToStart, workerProcesses: 1 };
  const explicit = opts.configPath !== undefined || args?.config[0]?.argIndex !== undefined;
  if (!explicit && !fs.exists(configPath)) return result;
  result.found = true;

  const finding = (code: InputCode, loc: Location, message: string, fatal: boolean) => {
    findings.push(inputFinding(code, loc, message, DAEMON));
    if (fatal) refusesToStart.push(message);
  };

  const hosts = new LazyHosts(fs, (p, t) => sources.set(p, t));
  let workerProcesses: number | undefined;
  let workerWhere: string | undefined;
  const ports: PortGroup[] = [];
  const portIndex = new Map<string, PortGroup>();
  const parsedAddresses = new Map<string, ReturnType<typeof parseListenAddress>>();
  const openFiles: string[] = [];
  const lines = new Map<string, string[]>();

  const extentOf = (file: string, d: ConfDirective): DirectiveExtent | undefined => {
    const ls = lines.get(file);
    if (!ls) return undefined;
    const first = ls[d.line - 1] ?? '';
    const last = ls[d.endLine - 1] ?? '';
    // Only a directive alone on its lines can be commented out without touching its neighbours.
    if (first.slice(0, d.column - 1).trim() !== '') return undefined;
    const rest = last.slice(d.endColumn - 1).trim();
    if (rest !== '' && !rest.startsWith('#')) return undefined;
    const own = ls.slice(d.line - 1, d.endLine);
    return { file, startLine: d.line, endLine: d.endLine, lines: own, disabled: own.map((l) => l.replace(/^(\s*)/, '$1# ')) };
  };

  const parseFile = (file: string, ctx: Ctx, chain: Location[], from?: Location): void => {
    if (openFiles.includes(file) || chain.length > MAX_INCLUDE_DEPTH) {
      finding('BC004', from ?? { file, line: 0 }, `include loop: ${file} includes itself (through ${[...openFiles, file].join(' → ')}); nginx recurses until it runs out of file descriptors and refuses to start`, true);
      return;
    }
    const r = fs.readText(file);
    if (!r.ok) {
      const code: InputCode = r.failure === 'not-found' && from ? 'BC004' : 'BC001';
      finding(code, from ?? { file, line: 0 }, `${r.message}; nginx refuses to start (open() "${file}" failed)`, true);
      return;
    }
    if (!seenFiles.has(file)) {
      seenFiles.add(file);
      files.push(file);
    }
    sources.set(file, r.text);
    lines.set(file, r.text.split('\n'));
    const lex = lexNginxConf(r.text);
    openFiles.push(file);
    const loc = (l: number, c?: number): Location => {
      const x: Location = { file, line: l };
      if (c !== undefined) x.column = c;
      if (chain.length > 0) x.includedFrom = chain;
      return x;
    };
    walk(lex.directives, ctx, file, chain, loc);
    openFiles.pop();
    if (lex.error) {
      finding('BC002', loc(lex.error.line, lex.error.column), `${lex.error.message} in ${file}:${lex.error.line}`, true);
    }
  };

  const include = (d: ConfDirective, ctx: Ctx, file: string, chain: Location[], at: Location): void => {
    if (d.args.length !== 1) {
      finding('BC002', at, `invalid number of arguments in "include" directive in ${file}:${d.line}`, true);
      return;
    }
    const raw = (d.args[0] as { text: string }).text;
    // ngx_conf_include(): ngx_conf_full_name(…, conf_prefix = 1).
    const p = raw.startsWith('/') ? raw : `${confPrefix === '/' ? '' : confPrefix}/${raw}`;
    const next = [...chain, { file: at.file, line: at.line, ...(at.column !== undefined ? { column: at.column } : {}) }];
    if (!magic(p)) {
      parseFile(p, ctx, next, at);
      return;
    }
    // ngx_open_glob(): glob(3) without GLOB_BRACE, sorted in the C locale; no match is fine (gl.test = 1).
    const escaped = p.replace(/[{}]/g, (m) => `\\${m}`);
    for (const f of rootGlob(fs, escaped)) {
      if (fs.isDirectory(f)) {
        finding('BC001', at, `${f} is a directory matched by include ${raw}; nginx fails reading it ("pread() failed (21: Is a directory)")`, true);
        continue;
      }
      parseFile(f, ctx, next, at);
    }
  };

  const addListen = (l: NginxListen, at: Location): void => {
    listens.push(l);
    // ngx_http_add_listen(): one port entry per (port, family); stream keeps TCP and UDP apart.
    const gkey = `${l.context}/${l.family}/${l.port}/${l.context === 'http' ? '' : l.proto}`;
    let group = portIndex.get(gkey);
    if (!group) {
      group = { context: l.context, family: l.family, port: l.port, proto: l.proto, addrs: [] };
      ports.push(group);
      portIndex.set(gkey, group);
    }
    const same = group.addrs.find((a) => a.opt.address === l.address);
    const name = formatEndpoint({ address: l.address, port: l.port });
    if (!same) {
      group.addrs.push({
        opt: l,
        first: l,
        listens: [l],
        servers: [l.server],
        defaultServer: l.defaultServer,
        ssl: l.ssl,
        http2: l.http2,
        proxyProtocol: l.proxyProtocol,
      });
      return;
    }
    if (l.context === 'stream') {
      // ngx_stream_core_listen(): one address:port (per type) belongs to one server only.
      finding('BC002', at, `duplicate "${name}" address and port pair (first at ${formatLocation(same.first.location)}); nginx refuses to start`, true);
      return;
    }
    // ngx_http_add_server(): the same server twice on one address.
    if (same.servers.some((s) => s.file === l.server.file && s.line === l.server.line)) {
      finding('BC002', at, `a duplicate listen ${name} (first at ${formatLocation(same.first.location)}); nginx refuses to start`, true);
      return;
    }
    same.servers.push(l.server);
    same.listens.push(l);
    if (l.set) {
      if (same.opt.set) {
        finding('BC002', at, `duplicate listen options for ${name} (options already given at ${formatLocation(same.opt.location)}); nginx -t and nginx refuse the configuration`, true);
        return;
      }
      same.opt = l;
    }
    if (l.defaultServer) {
      if (same.defaultServer) {
        finding('BC002', at, `a duplicate default server for ${name}; nginx refuses to start`, true);
        return;
      }
      same.defaultServer = true;
    }
    same.ssl ||= l.ssl;
    same.http2 ||= l.http2;
    same.proxyProtocol ||= l.proxyProtocol;
  };

  const listenDirective = (d: ConfDirective, server: ServerState, file: string, at: Location): void => {
    const a = d.args.map((t) => t.text);
    if (a.length < 1) {
      finding('BC002', at, `invalid number of arguments in "listen" directive in ${file}:${d.line}`, true);
      return;
    }
    let target = parsedAddresses.get(a[0] as string);
    if (!target) {
      target = parseListenAddress(a[0] as string);
      parsedAddresses.set(a[0] as string, target);
    }
    const l: Omit<NginxListen, 'family' | 'address' | 'port' | 'wildcard' | 'derivation'> = {
      context: server.context,
      server: server.location,
      location: at,
      implicit: false,
      proto: 'tcp',
      set: false,
      bind: false,
      params: a.slice(1),
      defaultServer: false,
      ssl: false,
      http2: false,
      proxyProtocol: false,
      reusePort: false,
      v6Only: true,
    };
    const ext = extentOf(file, d);
    if (ext) l.directive = ext;
    for (const p of a.slice(1)) {
      const setter = BIND_PARAMS.find((b) => (b.endsWith('=') ? p.startsWith(b) : p === b));
      if (setter) {
        l.set = true;
        l.bind = true;
        if (p === 'reuseport') l.reusePort = true;
        if (p === 'ipv6only=on') l.v6Only = true;
        else if (p === 'ipv6only=off') l.v6Only = false;
        else if (p.startsWith('ipv6only=')) {
          finding('BC002', at, `invalid ipv6only flags "${p.slice(9)}"; nginx refuses to start`, true);
          return;
        }
        continue;
      }
      if (p === 'default_server' || (p === 'default' && server.context === 'http')) l.defaultServer = true;
      else if (p === 'ssl') l.ssl = true;
      else if (p === 'http2' && server.context === 'http') l.http2 = true;
      else if (p === 'proxy_protocol') l.proxyProtocol = true;
      else if (p === 'udp' && server.context === 'stream') l.proto = 'udp';
      else if (p.startsWith('accept_filter=')) {
        // Linux has no SO_ACCEPTFILTER: nginx logs "[emerg] accept filters … ignored" and carries on.
        finding('BC005', at, `accept filters "${p}" are not supported on this platform, ignored (nginx says so and carries on)`, false);
      } else {
        // setfib= (FreeBSD only), quic (nginx 1.25+), anything else: "invalid parameter".
        finding('BC005', at, `invalid parameter "${p}" in "listen"${p === 'quic' ? ' (quic needs nginx 1.25 with ngx_http_v3_module; Debian 12 has 1.22.1)' : p.startsWith('setfib=') ? ' (setfib is FreeBSD only)' : ''}; nginx refuses to start`, true);
        return;
      }
    }
    if (target.kind === 'unix') return;
    if (target.kind === 'error') {
      finding('BC002', at, `${target.message}; nginx refuses to start`, true);
      return;
    }
    const text = `listen ${a.join(' ')} at ${formatLocation(at)}`;
    if (target.kind === 'inet') {
      addListen({ ...l, family: target.family, address: target.address, port: target.port, wildcard: target.wildcard, derivation: [`${text}: ${target.how}`] }, at);
      return;
    }
    // ngx_inet_resolve_host(): getaddrinfo(AF_UNSPEC) — every address, in RFC 6724 order (::1 before 127.0.0.1).
    const found: { address: string; family: Family; where: string }[] = [];
    for (const fam of ['inet6', 'inet'] as const) {
      const h = hosts.lookup(target.host, fam);
      if (h) found.push({ address: h.address, family: fam, where: h.where });
    }
    if (target.host.toLowerCase() === 'localhost' && found.length === 0) {
      found.push({ address: '127.0.0.1', family: 'inet', where: "glibc's built-in localhost" });
    }
    if (found.length === 0) {
      finding('BC002', at, `host not found in "${a[0]}" of the "listen" directive (not in the root's /etc/hosts; bindcheck does not ask DNS); nginx refuses to start unless DNS resolves it`, true);
      return;
    }
    const ordered = found.map((f, i) => ({ f, i })).sort((x, y) => gaiPrecedence(y.f.address) - gaiPrecedence(x.f.address) || x.i - y.i);
    for (const { f } of ordered) {
      addListen(
        {
          ...l,
          family: f.family,
          address: f.address,
          port: target.port,
          wildcard: f.address === '0.0.0.0' || f.address === '::',
          derivation: [`${text}: ${target.host} resolves to ${ordered.map((o) => o.f.address).join(' and ')} (${f.where}); nginx listens on every address getaddrinfo() returns, in its order`],
        },
        at,
      );
    }
  };

  const closeServer = (server: ServerState, at: Location): void => {
    if (server.listens.length > 0 || server.context !== 'http') {
      if (server.context === 'stream' && server.listens.length === 0) {
        finding('BC002', at, `no "listen" is defined for server in ${formatLocation(at)}; nginx refuses to start`, true);
      }
      return;
    }
  };

  const walk = (ds: ConfDirective[], ctx: Ctx, file: string, chain: Location[], loc: (l: number, c?: number) => Location): void => {
    for (const d of ds) {
      const at = loc(d.line, d.column);
      if (d.name === 'include' && !d.block) {
        include(d, ctx, file, chain, at);
        continue;
      }
      switch (ctx.kind) {
        case 'main':
          if (d.name === 'worker_processes' && !d.block) {
            const v = d.args[0]?.text ?? '';
            if (v === 'auto') {
              const online = fs.readText('/sys/devices/system/cpu/online');
              const n = online.ok ? countCpus(online.text) : undefined;
              workerProcesses = n ?? 1;
              workerWhere = `worker_processes auto at ${formatLocation(at)} (${n === undefined ? 'CPU count unknown in this root: 1 assumed' : `${n} CPUs online`})`;
            } else if (/^[0-9]+$/.test(v)) {
              workerProcesses = Number(v);
              workerWhere = `worker_processes ${v} at ${formatLocation(at)}`;
            }
          } else if ((d.name === 'http' || d.name === 'stream') && d.block) {
            walk(d.block, { kind: d.name }, file, chain, loc);
          }
          break;
        case 'http':
        case 'stream':
          if (d.name === 'server' && d.block) {
            const server: ServerState = { context: ctx.kind, location: at, listens: [] };
            walk(d.block, { kind: ctx.kind === 'http' ? 'http-server' : 'stream-server', server }, file, chain, loc);
            if (ctx.kind === 'http') httpServers.push(server);
            else closeServer(server, at);
          }
          break;
        case 'http-server':
        case 'stream-server':
          if (d.name === 'listen' && !d.block && ctx.server) {
            const before = listens.length;
            listenDirective(d, ctx.server, file, at);
            ctx.server.listens.push(...listens.slice(before));
            // A `listen` that failed still counts: the server has a listen (cscf->listen = 1).
            if (listens.length === before) ctx.server.listens.push({} as NginxListen);
          }
          break;
        default:
          break;
      }
    }
  };

  const httpServers: ServerState[] = [];
  // -g directives are parsed before the file, as if at its top (ngx_init_cycle: ngx_conf_param).
  for (const o of args?.overrides ?? []) {
    if (o.option !== 'global directives') continue;
    const lex = lexNginxConf(o.value);
    const gfile = '<nginx -g>';
    sources.set(gfile, o.value);
    walk(lex.directives, { kind: 'main' }, gfile, [], (l, c) => ({ file: gfile, line: l, ...(c !== undefined ? { column: c } : {}) }));
  }
  parseFile(configPath, { kind: 'main' }, []);

  // ngx_http_core_merge_srv_conf(): after the http {} block, each server without `listen` gets *:80 (root).
  for (const s of httpServers) {
    if (s.listens.length > 0) continue;
    const l: NginxListen = {
      context: 'http',
      server: s.location,
      location: s.location,
      implicit: true,
      family: 'inet',
      address: '0.0.0.0',
      port: NGINX_BEHAVIOUR.defaultPortRoot,
      proto: 'tcp',
      wildcard: true,
      set: false,
      bind: false,
      params: [],
      defaultServer: false,
      ssl: false,
      http2: false,
      proxyProtocol: false,
      reusePort: false,
      v6Only: true,
      derivation: [`server at ${formatLocation(s.location)} has no listen: nginx run as root listens on *:80 (*:8000 when not root)`],
    };
    addListen(l, s.location);
  }

  result.workerProcesses = workerProcesses ?? 1;
  const sockets = socketsFor(ports, result.workerProcesses, workerWhere);
  const plan: DaemonPlan = {
    daemon: DAEMON,
    config: configPath,
    files,
    sockets,
    startup: 'bind-listen-each',
    units: ['nginx.service'],
    processNames: ['nginx'],
    // Any bind()/listen() error but EADDRINUSE returns from ngx_open_listening_sockets() at once: later sockets
    // are never created and nginx exits 1. EADDRINUSE marks the pass failed and goes on to the next socket; the
    // pass is retried 5 times 500 ms apart, then nginx exits 1.
    onFailure: 'exit',
    onFailureByErrno: { [NGINX_BEHAVIOUR.retriedErrno]: 'exit-after-all' },
    retry: { ...NGINX_BEHAVIOUR.retry, errnos: [NGINX_BEHAVIOUR.retriedErrno] },
  };
  result.plans.push(plan);
  return result;
}

function countCpus(text: string): number | undefined {
  let n = 0;
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    n += m[2] !== undefined ? Number(m[2]) - Number(m[1]) + 1 : 1;
  }
  return n > 0 ? n : undefined;
}

/**
 * ngx_http_optimize_servers() / ngx_stream_optimize_servers(): per port (in order of first `listen`), addresses
 * sorted explicit-`bind` first, then the others, the wildcard last (stable); with a wildcard, only it and the
 * `bind` addresses get sockets. Then ngx_event_init_conf() appends worker_processes − 1 clones of every `reuseport`
 * socket (after all the others).
 */
function socketsFor(ports: PortGroup[], workers: number, workerWhere: string | undefined): PlannedSocket[] {
  const out: PlannedSocket[] = [];
  for (const g of ports) {
    const rank = (a: NginxAddress) => (a.opt.wildcard ? 2 : a.opt.bind ? 0 : 1);
    const sorted = g.addrs.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i).map((x) => x.a);
    const wildcard = sorted.find((a) => a.opt.wildcard);
    for (const a of sorted) {
      if (wildcard && a !== wildcard && !a.opt.bind) continue;
      out.push(plannedSocket(g, a, wildcard && a === wildcard ? sorted.filter((x) => x !== a && !x.opt.bind) : []));
    }
  }
  const clones: PlannedSocket[] = [];
  for (const s of out) {
    if (!s.reusePort) continue;
    for (let n = 1; n < workers; n++) {
      clones.push({
        ...s,
        name: `${s.name}#${n}`,
        derivation: [...s.derivation, `reuseport: a socket of its own for worker ${n} (${workerWhere ?? 'worker_processes 1 by default'}); ngx_event_init_conf() clones it`],
      });
    }
  }
  return [...out, ...clones];
}

function plannedSocket(g: PortGroup, a: NginxAddress, covered: NginxAddress[]): PlannedSocket {
  const o = a.opt;
  const name = formatEndpoint({ address: o.address, port: o.port });
  const derivation = [...a.first.derivation];
  for (const l of a.listens.slice(1)) derivation.push(l.implicit ? `${l.derivation[0] ?? ''}: the same socket` : `also listen ${l.params.length ? l.params.join(' ') + ' ' : ''}at ${formatLocation(l.location)}: the same socket`);
  if (a.opt !== a.first) derivation.push(`socket options from the listen at ${formatLocation(a.opt.location)}`);
  for (const c of covered) {
    derivation.push(`${formatEndpoint({ address: c.opt.address, port: c.opt.port })} (${formatLocation(c.first.location)}) has no "bind": nginx serves it through this wildcard socket and binds no socket of its own`);
  }
  if (g.family === 'inet6') derivation.push(`IPV6_V6ONLY=${o.v6Only ? 1 : 0} (nginx sets it on every IPv6 socket; ipv6only=on unless ipv6only=off)`);
  const key = {
    context: g.context,
    proto: g.proto,
    ssl: a.ssl,
    http2: a.http2,
    proxyProtocol: a.proxyProtocol,
    servers: a.servers.map((s) => `${s.file}:${s.line}`),
  };
  const s: PlannedSocket = {
    daemon: DAEMON,
    name,
    proto: g.proto,
    family: g.family,
    address: o.address,
    port: o.port,
    v6Only: g.family === 'inet6' ? o.v6Only : undefined,
    // ngx_open_listening_sockets(): SO_REUSEADDR on every socket (UDP too, except under nginx -t).
    reuseAddr: true,
    reusePort: o.reusePort,
    uid: 0,
    listens: g.proto === 'tcp',
    source: a.first.location,
    derivation,
    optionsKey: JSON.stringify(key),
  };
  if (s.v6Only === undefined) delete s.v6Only;
  if (a.first.directive) s.directive = a.first.directive;
  return s;
}

import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { parseAddress } from '../../kernel/index.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import { APACHE_BEHAVIOUR } from './behaviour.js';
import { lexApacheConf, type ApacheLine } from './config-lexer.js';

const DAEMON = 'apache';

export interface ApacheReadOptions {
  /** `-f FILE`: the main config (absolute, or relative to the server root). */
  configPath?: string;
  /** The unit's ExecStart (`apache2 -f FILE -d DIR -D NAME -C 'directive' -c 'directive'`). */
  argv?: string[];
}

/** One `Listen` directive as httpd keeps it (ap_listen_rec before getaddrinfo). */
export interface ApacheListen {
  /** The address text (`127.0.0.1`, `::`), or undefined for `Listen 80` / `Listen *:80` (hostname NULL). */
  host?: string;
  port: number;
  protocol: string;
  location: Location;
  directive: DirectiveExtent;
  text: string;
}

export interface ApacheReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  listens: ApacheListen[];
  /** Modules loaded (`ssl_module`) and their source names (`mod_ssl.c`). */
  modules: string[];
  defines: Map<string, string>;
  refusesToStart: string[];
}

interface Ctx {
  fs: RootFs;
  serverRoot: string;
  env: Map<string, string>;
  defines: Map<string, string>;
  modules: Set<string>;
  findings: Finding[];
  sources: Map<string, string>;
  files: string[];
  listens: ApacheListen[];
  refuses: string[];
  stack: string[];
  /** The section stack across files (httpd's nesting is per file; bindcheck only needs VirtualHost context). */
  inVirtualHost: number;
}

/**
 * Predict the sockets httpd opens from its configuration on this root, in the order open_listeners() binds them.
 * Never throws on bad input: problems become BC0xx findings.
 */
export function readApache(fs: RootFs, opts: ApacheReadOptions = {}): ApacheReadResult {
  const args = parseArgv(opts.argv ?? []);
  const debian = fs.exists(APACHE_BEHAVIOUR.debian.config) || (args.config ?? opts.configPath ?? '').startsWith('/etc/apache2');
  const layout = debian ? APACHE_BEHAVIOUR.debian : fs.exists(APACHE_BEHAVIOUR.rhel.config) ? APACHE_BEHAVIOUR.rhel : undefined;
  const result: ApacheReadResult = { plans: [], findings: [], sources: new Map(), found: false, listens: [], modules: [], defines: new Map(), refusesToStart: [] };
  const explicit = args.config ?? opts.configPath;
  if (!layout && explicit === undefined) return result;
  const serverRoot = args.serverRoot ?? layout?.serverRoot ?? APACHE_BEHAVIOUR.debian.serverRoot;
  const config = resolvePath(explicit ?? layout?.config ?? APACHE_BEHAVIOUR.debian.config, serverRoot);
  result.found = true;

  const ctx: Ctx = {
    fs,
    serverRoot,
    env: new Map(),
    defines: new Map(),
    modules: new Set(APACHE_BEHAVIOUR.builtinModules),
    findings: result.findings,
    sources: result.sources,
    files: [],
    listens: result.listens,
    refuses: result.refusesToStart,
    stack: [],
    inVirtualHost: 0,
  };
  for (const d of args.defines) ctx.defines.set(d, '');
  if (debian) readEnvvars(ctx, serverRoot);

  const cmdLoc = (what: string): Location => ({ file: `(command line ${what})`, line: 0 });
  for (const d of args.preDirectives) processText(ctx, d, cmdLoc('-C'), []);
  processFile(ctx, config, [], undefined);
  for (const d of args.postDirectives) processText(ctx, d, cmdLoc('-c'), []);

  result.modules = [...ctx.modules];
  result.defines = ctx.defines;
  const sockets = planSockets(ctx);
  result.plans.push({
    daemon: DAEMON,
    config,
    files: ctx.files,
    sockets,
    startup: 'bind-listen-each',
    units: ['apache2.service', 'httpd.service'],
    processNames: ['apache2', 'httpd'],
    // listen.c open_listeners(): a failed make_sock() is fatal (return -1) → event.c AH00451 → main.c AH00015,
    // exit 1; the sockets already bound are closed at exit. No retry.
    onFailure: 'exit',
    retry: { attempts: 0, intervalSeconds: 0, exitStatus: APACHE_BEHAVIOUR.exitStatus },
  });
  return result;
}

interface Argv {
  config?: string;
  serverRoot?: string;
  defines: string[];
  preDirectives: string[];
  postDirectives: string[];
}

/** main.c's getopt string "C:c:D:d:E:e:f:k:…": the options that change what the config says. */
function parseArgv(argv: string[]): Argv {
  const out: Argv = { defines: [], preDirectives: [], postDirectives: [] };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    const m = /^-([fdDCc])(.*)$/.exec(a);
    if (!m) continue;
    const v = m[2] !== '' ? (m[2] as string) : argv[++i];
    if (v === undefined) break;
    if (m[1] === 'f') out.config = v;
    else if (m[1] === 'd') out.serverRoot = v;
    else if (m[1] === 'D') out.defines.push(v);
    else if (m[1] === 'C') out.preDirectives.push(v);
    else out.postDirectives.push(v);
  }
  return out;
}

/** ap_server_root_relative(): an absolute path stays, anything else is under ServerRoot. */
function resolvePath(p: string, serverRoot: string): string {
  if (p.startsWith('/')) return p;
  return `${serverRoot.replace(/\/+$/, '')}/${p}`;
}

/**
 * Debian's /etc/apache2/envvars, which apache2ctl (and so apache2.service) sources before starting apache2:
 * `export NAME=value` lines; `$SUFFIX` is empty for the default instance (APACHE_CONFDIR=/etc/apache2).
 */
function readEnvvars(ctx: Ctx, serverRoot: string): void {
  const path = `${serverRoot.replace(/\/+$/, '')}/envvars`;
  const r = ctx.fs.readText(path);
  if (!r.ok) return;
  ctx.sources.set(path, r.text);
  const shell = new Map<string, string>([['SUFFIX', ''], ['APACHE_CONFDIR', serverRoot]]);
  for (const raw of r.text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = (m[2] as string).trim().replace(/^(['"])(.*)\1$/, '$2');
    v = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_s, a: string | undefined, b: string | undefined) => shell.get((a ?? b) as string) ?? '');
    shell.set(m[1] as string, v);
    if (/^\s*export\s/.test(raw)) ctx.env.set(m[1] as string, v);
  }
}

function finding(ctx: Ctx, code: InputCode, loc: Location, message: string, fatal: boolean): void {
  ctx.findings.push(inputFinding(code, loc, message, DAEMON));
  if (fatal) ctx.refuses.push(message);
}

function processFile(ctx: Ctx, path: string, includedFrom: Location[], optional: boolean | undefined): void {
  const r = ctx.fs.readText(path);
  const at: Location = includedFrom.length ? { file: path, line: 0, includedFrom } : { file: path, line: 0 };
  if (!r.ok) {
    const why = r.failure === 'not-found' ? 'No such file or directory' : r.message;
    if (includedFrom.length === 0) finding(ctx, 'BC001', at, `${r.message}; apache2 refuses to start ("Could not open configuration file ${path}: ${why}")`, true);
    else if (!optional) finding(ctx, 'BC004', includedFrom[includedFrom.length - 1] as Location, `Include ${path}: ${r.message}; apache2 refuses to start ("Could not open configuration file ${path}: ${why}")`, true);
    return;
  }
  ctx.sources.set(path, r.text);
  if (!ctx.files.includes(path)) ctx.files.push(path);
  processText(ctx, r.text, at, includedFrom, path);
}

interface Frame {
  name: string;
  /** Whether directives inside are read (an `<IfModule>` that is false skips its body). */
  active: boolean;
  loc: Location;
}

function processText(ctx: Ctx, text: string, at: Location, includedFrom: Location[], file?: string): void {
  const frames: Frame[] = [];
  const active = () => frames.every((f) => f.active);
  const lines = lexApacheConf(text);
  const mk = (l: ApacheLine): Location => {
    const loc: Location = { file: at.file, line: file ? l.startLine : 0, column: l.column };
    if (includedFrom.length) loc.includedFrom = includedFrom;
    return loc;
  };
  for (const l of lines) {
    const loc = mk(l);
    const lname = l.name.toLowerCase();
    if (l.kind === 'section-close') {
      const f = frames.pop();
      if (!f || f.name.toLowerCase() !== lname) {
        if (active() || !f) finding(ctx, 'BC002', loc, `</${l.name}> closes no <${l.name}> section: apache2 refuses to start ("</${l.name}> without matching <${l.name}> section")`, true);
        if (f) frames.push(f);
        continue;
      }
      if (lname === 'virtualhost' && f.active) ctx.inVirtualHost--;
      continue;
    }
    if (l.kind === 'section-open') {
      const outer = active();
      if (l.error && outer) finding(ctx, 'BC002', loc, `${l.error}: apache2 refuses to start`, true);
      const args = outer ? l.args.map((a) => expandVars(ctx, a, loc)) : l.args;
      let on = true;
      if (outer) on = evaluateCondition(ctx, lname, args, loc);
      frames.push({ name: l.name, active: on, loc });
      if (lname === 'virtualhost' && outer && on) ctx.inVirtualHost++;
      continue;
    }
    if (!active()) continue;
    const args = l.args.map((a) => expandVars(ctx, a, loc));
    switch (lname) {
      case 'define': {
        if (args.length < 1 || args.length > 2) finding(ctx, 'BC002', loc, `Define takes one or two arguments: apache2 refuses to start`, true);
        else ctx.defines.set(args[0] as string, args[1] ?? '');
        break;
      }
      case 'undefine':
        if (args[0] !== undefined) ctx.defines.delete(args[0]);
        break;
      case 'serverroot':
        if (args[0] !== undefined) ctx.serverRoot = args[0];
        break;
      case 'loadmodule': {
        if (args.length !== 2) {
          finding(ctx, 'BC002', loc, `LoadModule takes two arguments: apache2 refuses to start`, true);
          break;
        }
        ctx.modules.add(args[0] as string);
        // mod_so.c: <IfModule mod_ssl.c> names the module's source file; the .so's base name gives it.
        const base = (args[1] as string).replace(/^.*\//, '').replace(/\.so$/, '');
        ctx.modules.add(`${base}.c`);
        break;
      }
      case 'include':
      case 'includeoptional':
        include(ctx, args, loc, lname === 'includeoptional', includedFrom, l);
        break;
      case 'listen':
        listen(ctx, args, loc, l, file);
        break;
      case 'listencoresbucketsratio':
        if (Number(args[0]) > 0) finding(ctx, 'BC005', loc, `ListenCoresBucketsRatio ${args[0]} makes apache2 open SO_REUSEPORT duplicates of every listener; bindcheck predicts one socket per Listen`, false);
        break;
      default:
        break;
    }
  }
  for (const f of frames) {
    if (frames.slice(0, frames.indexOf(f)).every((x) => x.active)) finding(ctx, 'BC002', f.loc, `<${f.name}> is never closed: apache2 refuses to start ("<${f.name}> was not closed.")`, true);
  }
}

/** ap_resolve_env(): `${NAME}` from Define first, then the environment; an unknown one stays as written (AH00111). */
function expandVars(ctx: Ctx, s: string, loc: Location): string {
  return s.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
    const d = ctx.defines.get(name);
    if (d !== undefined) return d;
    const e = ctx.env.get(name);
    if (e !== undefined) return e;
    finding(ctx, 'BC005', loc, `\${${name}} is neither Defined nor in apache2's environment: apache2 warns "AH00111: Config variable \${${name}} is not defined" and uses the text as it is`, false);
    return whole;
  });
}

function evaluateCondition(ctx: Ctx, section: string, args: string[], loc: Location): boolean {
  if (section === 'ifmodule' || section === 'ifdefine' || section === 'iffile' || section === 'ifdirective' || section === 'ifsection') {
    let a = args[0] ?? '';
    const neg = a.startsWith('!');
    if (neg) a = a.slice(1);
    let v: boolean;
    if (section === 'ifmodule') v = ctx.modules.has(a);
    else if (section === 'ifdefine') v = ctx.defines.has(a);
    else if (section === 'iffile') v = ctx.fs.exists(resolvePath(a, ctx.serverRoot));
    else v = true;
    if (args.length !== 1 || a === '') finding(ctx, 'BC002', loc, `<${section}> needs one argument: apache2 refuses to start`, true);
    return neg ? !v : v;
  }
  if (section === 'ifversion') return ifVersion(args);
  return true;
}

/** mod_version.c: `<IfVersion [[!]op] version>` with = == > >= < <= and ~ or /regex/. */
function ifVersion(args: string[]): boolean {
  let op = '=';
  let v = args[0] ?? '';
  if (args.length >= 2) {
    op = args[0] as string;
    v = args[1] as string;
  }
  const neg = op.startsWith('!');
  if (neg) op = op.slice(1);
  const have = APACHE_BEHAVIOUR.assumedVersion;
  let r: boolean;
  if (op === '~' || (v.startsWith('/') && v.endsWith('/'))) {
    try {
      r = new RegExp(v.replace(/^\/|\/$/g, '')).test(have);
    } catch {
      r = false;
    }
  } else {
    const parse = (x: string) => x.split('.').map((n) => Number(n));
    const want = parse(v);
    const h = parse(have);
    let cmp = 0;
    for (let i = 0; i < want.length && cmp === 0; i++) cmp = Math.sign((h[i] ?? 0) - (want[i] ?? 0));
    r = op === '>' ? cmp > 0 : op === '>=' ? cmp >= 0 : op === '<' ? cmp < 0 : op === '<=' ? cmp <= 0 : cmp === 0;
  }
  return neg ? !r : r;
}

const hasMagic = (s: string): boolean => /[*?[]/.test(s);

function include(ctx: Ctx, args: string[], loc: Location, optional: boolean, includedFrom: Location[], l: ApacheLine): void {
  if (args.length !== 1) {
    finding(ctx, 'BC002', loc, `${l.name} takes one argument: apache2 refuses to start`, true);
    return;
  }
  const chain = [...includedFrom, loc];
  if (chain.length > APACHE_BEHAVIOUR.maxIncludeDepth) {
    finding(ctx, 'BC004', loc, `include loop: includes nest more than ${APACHE_BEHAVIOUR.maxIncludeDepth} deep; apache2 refuses to start ("Exceeded the maximum include directory nesting level of ${APACHE_BEHAVIOUR.maxIncludeDepth}")`, true);
    return;
  }
  // A file that includes itself (directly or through others) is a loop: httpd recurses until its depth limit.
  const path = resolvePath(args[0] as string, ctx.serverRoot);
  const ancestors = chain.map((c) => c.file);
  const files = hasMagic(path) ? globApache(ctx.fs, path) : ctx.fs.isDirectory(path) ? dirFiles(ctx.fs, path) : [path];
  if (hasMagic(path) && files.length === 0) {
    if (!optional) {
      const dir = path.slice(0, path.lastIndexOf('/')) || '/';
      finding(ctx, 'BC004', loc, `Include ${args[0]} matches no file: apache2 refuses to start ("Include/IncludeOptional: No matches for the wildcard '${path.slice(path.lastIndexOf('/') + 1)}' in '${dir}', failing"); IncludeOptional would skip it`, true);
    }
    return;
  }
  for (const f of files) {
    if (ancestors.includes(f)) {
      finding(ctx, 'BC004', loc, `include loop: ${f} is already being read (${ancestors.join(' → ')}); apache2 recurses until "Exceeded the maximum include directory nesting level of ${APACHE_BEHAVIOUR.maxIncludeDepth}" and refuses to start`, true);
      return;
    }
    if (optional && !ctx.fs.exists(f)) continue;
    processFile(ctx, f, chain, optional);
  }
}

/** server/config.c process_resource_config_nofnmatch: a directory includes every file in it (recursively), sorted. */
function dirFiles(fs: RootFs, dir: string): string[] {
  const out: string[] = [];
  for (const name of fs.list(dir)) {
    const p = `${dir.replace(/\/+$/, '')}/${name}`;
    if (fs.isDirectory(p)) out.push(...dirFiles(fs, p));
    else out.push(p);
  }
  return out;
}

/**
 * config.c process_resource_config_fnmatch: each path component with a wildcard is matched with apr_fnmatch
 * (APR_FNM_PERIOD: a leading `.` only explicitly) against the directory's entries, sorted with strcmp; the last
 * component matches files, the others directories. Everything stays inside the RootFs.
 */
export function globApache(fs: RootFs, pattern: string): string[] {
  const parts = pattern.split('/').filter((s) => s !== '');
  let bases = ['/'];
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k] as string;
    const last = k === parts.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      const join = (n: string) => (base === '/' ? `/${n}` : `${base}/${n}`);
      if (!hasMagic(part)) {
        const p = join(part);
        if (last ? fs.exists(p) : fs.isDirectory(p)) next.push(p);
        continue;
      }
      const re = fnmatchRegExp(part);
      const names = fs.list(base).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const name of names) {
        if (name.startsWith('.') && !part.startsWith('.')) continue;
        if (!re.test(name)) continue;
        const p = join(name);
        if (last ? !fs.isDirectory(p) : fs.isDirectory(p)) next.push(p);
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return parts.length === 0 ? [] : bases;
}

function fnmatchRegExp(part: string): RegExp {
  let re = '^';
  for (let i = 0; i < part.length; i++) {
    const c = part[i] as string;
    if (c === '\\' && i + 1 < part.length) re += escapeRe(part[++i] as string);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = part.slice(i + 1, end);
      if (body.startsWith('!') || body.startsWith('^')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(re + '$', 's');
  } catch {
    return /$^/;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** listen.c ap_set_listener() and apr_parse_addr_port(), httpd 2.4. */
function listen(ctx: Ctx, args: string[], loc: Location, l: ApacheLine, file: string | undefined): void {
  const refuse = (why: string) => finding(ctx, 'BC002', loc, `Listen ${args.join(' ')}: apache2 refuses to start ("${why}")`, true);
  if (ctx.inVirtualHost > 0) return refuse('Listen cannot occur within <VirtualHost> section');
  if (args.length < 1 || args.length > 2) return refuse('Listen requires 1 or 2 arguments.');
  const parsed = parseAddrPort(args[0] as string);
  if (!parsed) return refuse('Invalid address or port');
  if (parsed.port === 0) return refuse('Port must be specified');
  const host = parsed.host === '*' ? undefined : parsed.host;
  // find_listeners()/match_address(): the same host text (or both none) and port is an error at config time.
  if (ctx.listens.some((x) => x.port === parsed.port && x.host === host)) return refuse(APACHE_BEHAVIOUR.messages.duplicate);
  const protocol = args[1] !== undefined ? (args[1] as string).toLowerCase() : parsed.port === 443 ? 'https' : 'http';
  const text = file ? (ctx.sources.get(file) ?? '') : '';
  const all = text.split('\n').map((x) => x.replace(/\r$/, ''));
  const lines = file ? all.slice(l.startLine - 1, l.endLine) : [`Listen ${args.join(' ')}`];
  const directive: DirectiveExtent = {
    file: loc.file,
    startLine: loc.line,
    endLine: file ? l.endLine : 0,
    lines,
    disabled: lines.map((x) => '#' + x),
  };
  const rec: ApacheListen = { port: parsed.port, protocol, location: loc, directive, text: `Listen ${args.join(' ')}` };
  if (host !== undefined) rec.host = host;
  ctx.listens.push(rec);
}

/** apr_parse_addr_port(): `port`, `host:port`, `[v6]:port`, `host` alone is an error for Listen (no port). */
export function parseAddrPort(s: string): { host?: string; port: number } | undefined {
  let host: string | undefined;
  let portText: string | undefined;
  if (/^\d+$/.test(s)) portText = s;
  else if (s.startsWith('[')) {
    const m = /^\[([^\]%]+)(?:%[^\]]+)?\](?::(\d*))?$/.exec(s);
    if (!m) return undefined;
    host = m[1];
    portText = m[2];
    if (!host?.includes(':')) return undefined;
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) return { host: s, port: 0 };
    if (s.indexOf(':') !== i) return undefined; // bare IPv6 without brackets
    host = s.slice(0, i);
    portText = s.slice(i + 1);
    if (host === '') return undefined;
  }
  if (portText === undefined || portText === '') return host === undefined ? undefined : { host, port: 0 };
  if (!/^\d+$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return host === undefined ? { port } : { host, port };
}

interface Rec {
  listen: ApacheListen;
  family: 'inet' | 'inet6';
  address: string;
  how: string;
  /** The :: right before this 0.0.0.0 of the same port: this one is bound only if that one fails. */
  fallbackOf?: Rec;
}

/**
 * From Listen records to the sockets open_listeners() binds, in its order:
 * alloc_listener() resolves each with apr_sockaddr_info_get(APR_UNSPEC): no host → getaddrinfo(NULL, AI_PASSIVE)
 * gives 0.0.0.0 then :: (observed: socket(AF_INET) before socket(AF_INET6)); records are appended in config order.
 * open_listeners() then, walking the list: swaps a 0.0.0.0 with a :: on the same port right after it (IPv6 first);
 * skips a 0.0.0.0 when an earlier :: on the same port has IPV6_V6ONLY off (always, in Debian's v4-mapped build);
 * binds the rest with make_sock(): SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY, IPV6_V6ONLY=0 on AF_INET6, bind, listen.
 */
function planSockets(ctx: Ctx): PlannedSocket[] {
  const list: Rec[] = [];
  for (const l of ctx.listens) {
    if (l.host === undefined) {
      list.push({ listen: l, family: 'inet', address: '0.0.0.0', how: 'no address: getaddrinfo(NULL, AI_PASSIVE) gives 0.0.0.0 and ::' });
      list.push({ listen: l, family: 'inet6', address: '::', how: 'no address: getaddrinfo(NULL, AI_PASSIVE) gives 0.0.0.0 and ::' });
      continue;
    }
    const p = parseAddress(l.host);
    if (!p) {
      finding(ctx, 'BC005', l.location, `"${l.host}" is a host name: apache2 resolves it at startup (getaddrinfo) and listens on every address it gets; bindcheck does not predict that`, false);
      continue;
    }
    list.push({ listen: l, family: p.family, address: p.text, how: `"${l.host}" is an ${p.family === 'inet' ? 'IPv4' : 'IPv6'} address` });
  }
  const any4 = (r: Rec | undefined) => r !== undefined && r.family === 'inet' && r.address === '0.0.0.0';
  const any6 = (r: Rec | undefined) => r !== undefined && r.family === 'inet6' && r.address === '::';
  const out: PlannedSocket[] = [];
  const notes = new Map<Rec, string[]>();
  let i = 0;
  while (i < list.length) {
    let lr = list[i] as Rec;
    const nx = list[i + 1];
    if (any4(lr) && any6(nx) && lr.listen.port === (nx as Rec).listen.port) {
      list[i] = nx as Rec;
      list[i + 1] = lr;
      lr = nx as Rec;
      notes.set(lr, [...(notes.get(lr) ?? []), 'open_listeners() binds :: before the 0.0.0.0 that precedes it on the same port']);
    }
    const prev = list[i - 1];
    const earlier6 = list.slice(0, Math.max(0, i - 1)).some((c) => any6(c) && c.listen.port === lr.listen.port);
    if (any4(lr) && !earlier6 && any6(prev) && (prev as Rec).listen.port === lr.listen.port) {
      // Right after a :: of its port: bound only if that :: fails (whose failure is then only a warning).
      lr.fallbackOf = prev as Rec;
      i++;
      continue;
    }
    if (any4(lr) && i > 0 && list.slice(0, i).some((c) => any6(c) && c.listen.port === lr.listen.port)) {
      const by = list.slice(0, i).find((c) => any6(c) && c.listen.port === lr.listen.port) as Rec;
      const n = notes.get(by) ?? [];
      n.push(`0.0.0.0:${lr.listen.port} of ${lr.listen.text} (${fmt(lr.listen.location)}) is skipped: this dual-stack [::]:${lr.listen.port} socket (IPV6_V6ONLY=0) receives IPv4 too`);
      notes.set(by, n);
      list.splice(i, 1);
      continue;
    }
    i++;
  }
  for (const r of list) {
    const l = r.listen;
    const primary = r.fallbackOf ? list.indexOf(r.fallbackOf) : -1;
    const sock: PlannedSocket = {
      daemon: DAEMON,
      name: l.text,
      proto: 'tcp',
      family: r.family,
      address: r.address,
      port: l.port,
      reuseAddr: true,
      reusePort: false,
      uid: 0,
      listens: true,
      source: l.location,
      derivation: [
        `${l.text} (${fmt(l.location)})`,
        r.how,
        `protocol ${l.protocol}${l.text.split(' ').length > 2 ? ' (given)' : ' (default for the port)'}`,
        ...(notes.get(r) ?? []),
        `make_sock(): SO_REUSEADDR, SO_KEEPALIVE, TCP_NODELAY${r.family === 'inet6' ? ', IPV6_V6ONLY=0 (Debian builds APR with IPv4-mapped addresses)' : ''}, bind(), listen(511)`,
      ],
      directive: l.directive,
      optionsKey: `protocol=${l.protocol}`,
    };
    if (r.family === 'inet6') sock.v6Only = false;
    if (primary >= 0) {
      sock.fallbackFor = primary;
      sock.derivation.push(
        `open_listeners(): created only if [::]:${l.port} just before it fails (that failure is then only a warning); when [::]:${l.port} (IPV6_V6ONLY=0) is created it serves IPv4 too and this socket is skipped`,
      );
    }
    out.push(sock);
  }
  return out;
}

function fmt(l: Location): string {
  return `${l.file}:${l.line}`;
}

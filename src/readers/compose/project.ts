import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import { escapeForTerminal } from '../../text/escape.js';
import { inputFinding } from '../common/input-finding.js';
import { interpolate, parseDotEnv } from './interpolate.js';
import { base60Value, parseLongPort, parseShortPort, type PortBinding } from './ports.js';

const DAEMON = 'docker';

/** A Compose project as `docker compose up` would load it: its files in merge order and its variables. */
export interface ComposeProjectRef {
  /** The project directory (relative paths and `.env` are looked up here). */
  dir: string;
  /** Compose files in merge order (the first, then overrides). */
  files: string[];
  /** `-p NAME` given on the command line. */
  name?: string;
  /** `--env-file`; `<dir>/.env` otherwise. */
  envFile?: string;
  /** The environment docker compose runs in (a unit's Environment=); it wins over `.env`. */
  environment: Map<string, string>;
  /** How bindcheck found the project (a unit's ExecStart, or a directory it looks in). */
  origin: string;
  originLocation?: Location;
}

/** One `ports:` entry after interpolation and merging, with where it was written. */
export interface ComposePortEntry {
  /** The entry as written (short syntax text, or `target: 80, published: 8080, …` for the long syntax). */
  text: string;
  bindings: PortBinding[];
  location: Location;
  /** Key compose-go's override.portIndexer gives it: later entries with the same key replace earlier ones. */
  key: string;
}

export interface ComposeService {
  name: string;
  location: Location;
  ports: ComposePortEntry[];
  replicas: number;
  replicasLocation?: Location;
  networkMode?: string;
  profiles: string[];
  /** The compose file where the service was first defined. */
  file: string;
}

export interface ComposeProject {
  ref: ComposeProjectRef;
  /** Project name after normalisation (lower case, [a-z0-9_-]). */
  name: string;
  services: ComposeService[];
  env: Map<string, string>;
  files: string[];
  /** Facts a user should know that are not findings (unset variables, ephemeral ports, host networking). */
  notes: { location: Location; message: string }[];
  /** Errors for which compose refuses the whole project: then `docker compose up` starts no container of it. */
  refused: Finding[];
}

export interface LoadResult {
  project?: ComposeProject;
  findings: Finding[];
  sources: Map<string, string>;
}

/** Read, interpolate and merge a project's compose files. Never throws: problems are findings at file:line:column. */
export function loadComposeProject(fs: RootFs, ref: ComposeProjectRef): LoadResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const notes: ComposeProject['notes'] = [];
  const env = new Map(ref.environment);
  const envFile = ref.envFile ?? joinPath(ref.dir, '.env');
  const envText = fs.readText(envFile);
  if (envText.ok) {
    sources.set(envFile, envText.text);
    for (const e of parseDotEnv(envText.text, ref.environment)) if (!ref.environment.has(e.name)) env.set(e.name, e.value);
  } else if (ref.envFile !== undefined) {
    findings.push(inputFinding('BC001', { file: envFile, line: 0 }, `--env-file ${envFile}: ${envText.message}`, DAEMON));
  }
  const services = new Map<string, ComposeService>();
  let topName: string | undefined;
  const files: string[] = [];
  for (const file of ref.files) {
    const r = fs.readText(file);
    if (!r.ok) {
      const loc = ref.originLocation ?? { file, line: 0 };
      findings.push(inputFinding('BC001', r.failure === 'not-found' ? loc : { file, line: 0 }, `compose file ${file}: ${r.message}`, DAEMON));
      continue;
    }
    files.push(file);
    sources.set(file, r.text);
    const y = parseYaml(file, r.text, findings);
    if (!y) continue;
    const ctx: FileCtx = { file, lc: y.lc, doc: y.doc, env, findings, notes };
    const root = y.doc.contents;
    if (root === null || root === undefined) continue;
    if (!isMap(root)) {
      findings.push(inputFinding('BC002', at(ctx, root), `${file}: the top level must be a mapping; compose refuses the file`, DAEMON));
      continue;
    }
    const nameNode = get(ctx, root, 'name');
    if (nameNode && isScalar(nameNode)) topName = str(ctx, nameNode) ?? topName;
    const svcs = get(ctx, root, 'services');
    if (svcs === undefined || (isScalar(svcs) && svcs.value === null)) continue;
    if (!isMap(svcs)) {
      findings.push(inputFinding('BC002', at(ctx, svcs), 'services must be a mapping of service names to definitions; compose refuses the file', DAEMON));
      continue;
    }
    for (const pair of pairs(ctx, svcs)) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const def = deref(ctx, pair.value as Node | null);
      const loc = at(ctx, pair.key as Node);
      if (!def || !isMap(def)) {
        if (def && !(isScalar(def) && def.value === null)) findings.push(inputFinding('BC002', loc, `service ${name}: its definition must be a mapping; compose refuses the file`, DAEMON));
        if (!services.has(name)) services.set(name, { name, location: loc, ports: [], replicas: 1, profiles: [], file });
        continue;
      }
      let svc = services.get(name);
      if (!svc) {
        svc = { name, location: loc, ports: [], replicas: 1, profiles: [], file };
        services.set(name, svc);
      }
      mergeService(ctx, svc, def);
    }
  }
  if (files.length === 0) return { findings, sources };
  const rawName = ref.name ?? env.get('COMPOSE_PROJECT_NAME') ?? topName ?? ref.dir.replace(/\/+$/, '').split('/').pop() ?? '';
  const refused = findings.filter((f) => f.severity === 'error');
  const project: ComposeProject = { ref, name: normaliseProjectName(rawName), services: [...services.values()], env, files, notes, refused };
  return { project, findings, sources };
}

/** compose-go NormalizeProjectName: lower case, only a-z 0-9 _ - (leading ones must be a letter or digit). */
export function normaliseProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
}

interface FileCtx {
  file: string;
  lc: LineCounter;
  doc: Document;
  env: Map<string, string>;
  findings: Finding[];
  notes: ComposeProject['notes'];
}

function parseYaml(file: string, text: string, findings: Finding[]): { doc: Document; lc: LineCounter } | undefined {
  const lc = new LineCounter();
  // yaml.v3 as compose-go uses it: YAML 1.2 core schema (`22:22` is a string), merge keys, duplicate keys refused.
  const doc = parseDocument(text, { lineCounter: lc, merge: true, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  if (doc.errors.length > 0) {
    for (const e of doc.errors.slice(0, 5)) {
      const p = lc.linePos(e.pos[0]);
      findings.push(inputFinding('BC002', { file, line: p.line, column: p.col }, `YAML: ${oneLine(e.message)}; compose refuses the file`, DAEMON));
    }
    return undefined;
  }
  return { doc, lc };
}

function oneLine(s: string): string {
  return (s.split('\n')[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ');
}

function at(ctx: FileCtx, node: Node | null | undefined): Location {
  const off = node?.range?.[0];
  if (off === undefined) return { file: ctx.file, line: 0 };
  const p = ctx.lc.linePos(off);
  return { file: ctx.file, line: p.line, column: p.col };
}

function deref(ctx: FileCtx, node: Node | null | undefined): Node | undefined {
  if (node === null || node === undefined) return undefined;
  if (isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? undefined;
  return node;
}

/** A mapping's pairs with YAML merge keys (`<<: *base`) applied: own keys first win over merged ones. */
function pairs(ctx: FileCtx, map: YAMLMap): Pair[] {
  const own: Pair[] = [];
  const merged: Pair[] = [];
  for (const p of map.items) {
    const k = isScalar(p.key) ? p.key.value : undefined;
    if (k === '<<') {
      const v = deref(ctx, p.value as Node | null);
      const srcs = v && isSeq(v) ? v.items.map((n) => deref(ctx, n as Node)) : [v];
      for (const s of srcs) if (s && isMap(s)) merged.push(...pairs(ctx, s));
      continue;
    }
    own.push(p);
  }
  const seen = new Set(own.map((p) => (isScalar(p.key) ? String(p.key.value) : '')));
  return [...own, ...merged.filter((p) => !seen.has(isScalar(p.key) ? String(p.key.value) : ''))];
}

function get(ctx: FileCtx, map: YAMLMap, key: string): Node | undefined {
  const p = pairs(ctx, map).find((x) => isScalar(x.key) && String(x.key.value) === key);
  return p ? deref(ctx, p.value as Node | null) : undefined;
}

/** A scalar's value with variables interpolated (strings only; numbers and booleans as YAML typed them). */
function value(ctx: FileCtx, node: Node): unknown {
  if (!isScalar(node)) return undefined;
  if (typeof node.value !== 'string') return node.value;
  const r = interpolate(node.value, ctx.env);
  const loc = at(ctx, node);
  for (const u of new Set(r.unset)) ctx.notes.push({ location: loc, message: `The "${u}" variable is not set. Defaulting to a blank string.` });
  if (r.error !== undefined) {
    ctx.findings.push(inputFinding('BC002', loc, escapeForTerminal(`${r.error}: compose refuses the project`), DAEMON));
    return undefined;
  }
  return r.value;
}

function str(ctx: FileCtx, node: Node): string | undefined {
  const v = value(ctx, node);
  return v === undefined || v === null ? undefined : String(v);
}

function mergeService(ctx: FileCtx, svc: ComposeService, def: YAMLMap): void {
  const portsNode = get(ctx, def, 'ports');
  if (portsNode !== undefined) {
    const tag = portsNode.tag;
    if (tag === '!reset' || tag === '!override') svc.ports = [];
    if (isSeq(portsNode)) {
      for (const item of portsNode.items) {
        const e = portEntry(ctx, svc.name, deref(ctx, item as Node));
        if (!e) continue;
        // override.EnforceUnicity: an entry with an existing key takes that entry's place.
        const i = svc.ports.findIndex((p) => p.key === e.key);
        if (i >= 0) svc.ports[i] = e;
        else svc.ports.push(e);
      }
    } else if (!(isScalar(portsNode) && portsNode.value === null) && tag !== '!reset') {
      ctx.findings.push(inputFinding('BC002', at(ctx, portsNode), `service ${svc.name}: ports must be a list; compose refuses the file`, DAEMON));
    }
  }
  const nm = get(ctx, def, 'network_mode');
  if (nm && isScalar(nm)) {
    const v = str(ctx, nm);
    if (v !== undefined) svc.networkMode = v;
  }
  const prof = get(ctx, def, 'profiles');
  if (prof && isSeq(prof)) svc.profiles = prof.items.map((n) => str(ctx, n as Node) ?? '').filter((s) => s !== '');
  const deploy = get(ctx, def, 'deploy');
  const rep = deploy && isMap(deploy) ? get(ctx, deploy, 'replicas') : undefined;
  const scale = get(ctx, def, 'scale');
  // compose v2: `scale` and `deploy.replicas` must agree when both are set; either gives the container count.
  for (const n of [rep, scale]) {
    if (!n || !isScalar(n)) continue;
    const v = value(ctx, n);
    const k = typeof v === 'number' ? v : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : undefined;
    if (k === undefined || !Number.isInteger(k) || k < 0) {
      ctx.findings.push(inputFinding('BC002', at(ctx, n), `service ${svc.name}: replicas must be a whole number, not ${String(v)}; compose refuses the file`, DAEMON));
      continue;
    }
    svc.replicas = k;
    svc.replicasLocation = at(ctx, n);
  }
}

function portEntry(ctx: FileCtx, service: string, node: Node | undefined): ComposePortEntry | undefined {
  if (!node) return undefined;
  const loc = at(ctx, node);
  const bad = (msg: string): undefined => {
    ctx.findings.push(inputFinding('BC002', loc, escapeForTerminal(`service ${service}: ports entry ${msg}; compose refuses the file`), DAEMON));
    return undefined;
  };
  if (isScalar(node)) {
    const raw = node.value;
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw)) return bad(`${raw} is not a port`);
      const r = parseShortPort(String(raw));
      return r.ok ? { text: String(raw), bindings: r.bindings, location: loc, key: String(raw) } : bad(`${raw}: ${r.message}`);
    }
    if (typeof raw !== 'string') return bad(`${String(raw)} is neither a number nor a string`);
    if (node.type === 'PLAIN') {
      const b60 = base60Value(raw);
      if (b60 !== undefined) {
        const f = inputFinding(
          'BC002',
          loc,
          `service ${service}: unquoted ${raw} is the number ${b60} to docker-compose v1 (YAML 1.1 base 60), which then publishes container port ${b60} on a random host port; compose v2 reads "${raw}". Quote it`,
          DAEMON,
        );
        f.severity = 'warning';
        ctx.findings.push(f);
      }
    }
    const text = str(ctx, node);
    if (text === undefined) return undefined;
    const r = parseShortPort(text);
    if (!r.ok) return bad(`"${text}": ${r.message}`);
    return { text, bindings: r.bindings, location: loc, key: text };
  }
  if (isMap(node)) {
    const fields: Record<string, unknown> = {};
    let pubLoc: Location | undefined;
    for (const p of pairs(ctx, node)) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      const v = deref(ctx, p.value as Node | null);
      fields[k] = v && isScalar(v) ? value(ctx, v) : v === undefined ? null : '(not a scalar)';
      if (k === 'published' && v) pubLoc = at(ctx, v);
    }
    const r = parseLongPort(fields);
    if (!r.ok) return bad(`(long syntax): ${r.message}`);
    const b = r.bindings[0] as PortBinding;
    const pub = fields['published'];
    const text = `${b.hostIp !== '' ? `${b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp}:` : ''}${pub === undefined || pub === null ? '' : String(pub)}:${b.target}/${b.proto}`;
    const key = `${b.hostIp === '' ? '0.0.0.0' : b.hostIp}:${pub === undefined || pub === null ? '' : String(pub)}:${b.target}/${b.proto}`;
    return { text, bindings: r.bindings, location: pubLoc ?? loc, key };
  }
  return bad('must be a string, a number or a mapping');
}

export function joinPath(dir: string, p: string): string {
  if (p.startsWith('/')) return normalise(p);
  return normalise(`${dir.replace(/\/+$/, '')}/${p}`);
}

function normalise(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

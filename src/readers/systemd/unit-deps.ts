import type { RootFs } from '../../fs/root-fs.js';
import type { Location } from '../../model/location.js';
import type { UnitDependency, UnitGraph, UnitNode } from '../../model/unit-graph.js';
import { splitWords } from './unit-syntax.js';
import {
  expandSpecifiers,
  isValidUnitName,
  readLinkInRoot,
  readUnit,
  splitUnitName,
  unitSearchPath,
  unitValue,
  unitValues,
  type UnitFile,
} from './units.js';

/** More units than any real boot pulls in (a Debian server loads ~150); reading stops there. */
const UNIT_LIMIT = 3000;

/** Settings whose units starting this one starts too (unit-dependency-atom.c: UNIT_ATOM_PULL_IN_START…). */
const PULLING = ['Requires', 'Wants', 'BindsTo', 'Upholds'] as const;
/** `<unit>.wants/` and friends: each entry is one more dependency of that kind (unit_load_dropin, load-dropin.c). */
const PULLING_DIRS = { wants: 'Wants', requires: 'Requires', upholds: 'Upholds' } as const;

/** The search path with each directory's entries listed once. */
interface SearchDirs {
  paths: string[];
  entries(dir: string): ReadonlySet<string>;
}

function searchDirs(fs: RootFs): SearchDirs {
  const paths = unitSearchPath(fs);
  const cache = new Map<string, ReadonlySet<string>>();
  return {
    paths,
    entries(dir) {
      let e = cache.get(dir);
      if (!e) cache.set(dir, (e = new Set(fs.list(dir))));
      return e;
    },
  };
}

interface RawDep {
  name: string;
  source: Location;
  text: string;
  implicit?: boolean;
}

interface RawNode {
  id: string;
  aliases: string[];
  state: UnitNode['state'];
  fragment?: Location;
  serviceType?: string;
  defaultDependencies: boolean;
  after: RawDep[];
  before: RawDep[];
  pulls: RawDep[];
  conflicts: RawDep[];
  /** Requires=, Requisite=, Wants=, BindsTo= (not the directories' symlinks told apart): what a target orders itself after. */
  targetQueue: RawDep[];
}

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(s)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(s)) return false;
  return undefined;
}

/** The unit names one dependency setting lists, specifiers expanded; invalid names are left out as systemd skips them. */
function namesOf(unit: UnitFile, key: string): RawDep[] {
  const out: RawDep[] = [];
  for (const v of unitValues(unit, 'Unit', key)) {
    const words = splitWords(v.value)?.words ?? [];
    for (const w of words) {
      const name = expandSpecifiers(unit, w).text;
      if (!isValidUnitName(name)) continue;
      out.push({ name, source: v.location, text: `${key}=${v.value}` });
    }
  }
  return out;
}

/** Entries of `<name>.wants/` (…) in every search directory; a name seen in a higher-precedence directory wins. */
function dirDeps(fs: RootFs, dirs: SearchDirs, unit: UnitFile, suffix: keyof typeof PULLING_DIRS): RawDep[] {
  const names = [unit.id, ...unit.aliases.filter((a) => a !== unit.id)];
  if (unit.template && !names.includes(unit.template)) names.push(unit.template);
  const seen = new Set<string>();
  const out: RawDep[] = [];
  for (const dir of dirs.paths) {
    for (const n of names) {
      const d = `${dir}/${n}.${suffix}`;
      // One listing per search directory instead of a stat per unit, suffix and directory.
      if (!dirs.entries(dir).has(`${n}.${suffix}`) || !fs.isDirectory(d)) continue;
      for (const entry of fs.list(d).sort()) {
        if (!isValidUnitName(entry) || seen.has(entry)) continue;
        seen.add(entry);
        const link = readLinkInRoot(fs, `${d}/${entry}`);
        if (link !== undefined && link.replace(/\/+$/, '') === '/dev/null') continue;
        out.push({ name: entry, source: { file: `${d}/${entry}`, line: 0 }, text: `${d}/${entry}`, implicit: true });
      }
    }
  }
  return out;
}

function implicitDep(unit: UnitFile, name: string, why: string): RawDep {
  return { name, source: { file: unit.fragmentPath ?? unit.id, line: 0 }, text: why, implicit: true };
}

function readNode(fs: RootFs, dirs: SearchDirs, name: string): RawNode {
  const r = readUnit(fs, name);
  const unit = r.unit;
  const empty = (): Pick<RawNode, 'after' | 'before' | 'pulls' | 'conflicts' | 'targetQueue' | 'defaultDependencies'> => ({
    after: [],
    before: [],
    pulls: [],
    conflicts: [],
    targetQueue: [],
    defaultDependencies: true,
  });
  if (!unit) return { id: name, aliases: [], state: 'not-found', ...empty() };
  const aliases = unit.aliases.filter((a) => a !== unit.id);
  if (unit.masked !== undefined) return { id: unit.id, aliases, state: 'masked', fragment: { file: unit.masked, line: 0 }, ...empty() };
  const node: RawNode = { id: unit.id, aliases, state: 'loaded', ...empty() };
  if (unit.fragmentPath !== undefined) node.fragment = { file: unit.fragmentPath, line: 0 };
  node.defaultDependencies = parseBool(unitValue(unit, 'Unit', 'DefaultDependencies')?.value) ?? true;
  node.after.push(...namesOf(unit, 'After'));
  node.before.push(...namesOf(unit, 'Before'));
  node.conflicts.push(...namesOf(unit, 'Conflicts'));
  for (const key of PULLING) node.pulls.push(...namesOf(unit, key));
  for (const [suffix, key] of Object.entries(PULLING_DIRS) as [keyof typeof PULLING_DIRS, string][]) {
    const deps = dirDeps(fs, dirs, unit, suffix).map((d) => ({ ...d, text: `${key}= by symlink ${d.text}` }));
    node.pulls.push(...deps);
    if (suffix !== 'upholds') node.targetQueue.push(...deps);
  }
  for (const key of ['Requires', 'Requisite', 'Wants', 'BindsTo']) node.targetQueue.push(...namesOf(unit, key));

  const type = splitUnitName(unit.id).suffix;
  if (type === '.service') node.serviceType = unitValue(unit, 'Service', 'Type')?.value ?? (unitValue(unit, 'Service', 'BusName') ? 'dbus' : 'simple');
  if (node.defaultDependencies) addDefaultDependencies(unit, type, node);
  if (type === '.socket') {
    // socket_add_extras(): a socket is ordered before the service it activates (UNIT_BEFORE + UNIT_TRIGGERS);
    // with Accept=yes each connection gets its own instance of a template, which no boot order involves.
    const accept = parseBool(unitValue(unit, 'Socket', 'Accept')?.value) ?? false;
    if (!accept) {
      const service = unitValue(unit, 'Socket', 'Service')?.value ?? `${splitUnitName(unit.id).prefix}.service`;
      if (isValidUnitName(service)) node.before.push(implicitDep(unit, service, `${unit.id} activates ${service}: systemd orders the socket before it`));
    }
  }
  return node;
}

/**
 * What DefaultDependencies=yes adds (systemd v252): service_add_default_dependencies() (After= and Requires=
 * sysinit.target, After=basic.target, Before= and Conflicts=shutdown.target), socket_add_default_dependencies()
 * (Before=sockets.target, After= and Requires=sysinit.target, Before=shutdown.target) and
 * target_add_default_dependencies() (Before=shutdown.target; the After= on what the target pulls in is added
 * once every unit is known, in `addTargetOrdering`).
 */
function addDefaultDependencies(unit: UnitFile, type: string, node: RawNode): void {
  const why = (what: string): string => `DefaultDependencies=yes: ${what}`;
  if (type === '.service') {
    node.after.push(implicitDep(unit, 'sysinit.target', why('After=sysinit.target')));
    node.pulls.push(implicitDep(unit, 'sysinit.target', why('Requires=sysinit.target')));
    node.after.push(implicitDep(unit, 'basic.target', why('After=basic.target')));
  } else if (type === '.socket') {
    node.before.push(implicitDep(unit, 'sockets.target', why('Before=sockets.target')));
    node.after.push(implicitDep(unit, 'sysinit.target', why('After=sysinit.target')));
    node.pulls.push(implicitDep(unit, 'sysinit.target', why('Requires=sysinit.target')));
  } else if (type !== '.target' || unit.id === 'shutdown.target') {
    return;
  }
  node.before.push(implicitDep(unit, 'shutdown.target', why('Before=shutdown.target')));
  node.conflicts.push(implicitDep(unit, 'shutdown.target', why('Conflicts=shutdown.target')));
}

/**
 * unit_add_default_target_dependency(): a target with default dependencies is ordered after every unit it pulls
 * in that has them too, unless that unit is already ordered after the target (no loop is made).
 */
function addTargetOrdering(nodes: Map<string, RawNode>, idOf: (name: string) => string): void {
  for (const t of nodes.values()) {
    if (!t.id.endsWith('.target') || t.state !== 'loaded' || !t.defaultDependencies) continue;
    for (const dep of t.targetQueue) {
      const other = nodes.get(idOf(dep.name));
      if (!other || other.state !== 'loaded' || !other.defaultDependencies || other.id === t.id) continue;
      const targetBeforeOther =
        t.before.some((b) => idOf(b.name) === other.id) || other.after.some((a) => idOf(a.name) === t.id);
      // Dependencies are sets in systemd (unit_add_dependency() on an existing edge changes nothing).
      if (targetBeforeOther || t.after.some((a) => idOf(a.name) === other.id)) continue;
      t.after.push({
        name: other.id,
        source: dep.source,
        text: `DefaultDependencies=yes: ${t.id} pulls in ${other.id} (${dep.text}), so it is ordered after it`,
        implicit: true,
      });
    }
  }
}

/**
 * Read the units a boot can reach from the root: default.target and everything it pulls in (Requires=, Wants=,
 * `.wants/` symlinks…), and the given units (a daemon's own, enabled or not) with what they pull in. Each unit
 * is loaded as systemd would (search-path precedence, aliases, drop-ins, masks; src/readers/systemd/units.ts).
 */
export function readUnitGraph(fs: RootFs, startUnits: readonly string[]): UnitGraph {
  const dirs = searchDirs(fs);
  const nodes = new Map<string, RawNode>();
  const idByName = new Map<string, string>();
  const queue: string[] = [];
  const graph: UnitGraph = { units: [] };

  const def = readUnit(fs, 'default.target').unit;
  if (def && def.masked === undefined && def.fragmentPath !== undefined) {
    graph.defaultTarget = { id: def.id, source: { file: def.aliases.length > 0 ? firstPath(dirs.paths, fs, 'default.target') : def.fragmentPath, line: 0 } };
    queue.push('default.target');
  }
  for (const u of startUnits) queue.push(u.includes('.') ? u : `${u}.service`);

  for (let qi = 0; qi < queue.length; qi++) {
    const name = queue[qi] as string;
    if (idByName.has(name)) continue;
    if (nodes.size >= UNIT_LIMIT) {
      graph.truncated = true;
      break;
    }
    const node = readNode(fs, dirs, name);
    idByName.set(name, node.id);
    for (const a of node.aliases) idByName.set(a, node.id);
    if (nodes.has(node.id)) continue;
    nodes.set(node.id, node);
    // Ordering alone loads a unit too, but only units with a start job order anything (job_is_runnable()):
    // following what is pulled in is enough; names only ordered against are read to resolve their aliases.
    for (const d of [...node.pulls, ...node.after, ...node.before, ...node.conflicts]) if (!idByName.has(d.name)) queue.push(d.name);
  }
  const idOf = (name: string): string => idByName.get(name) ?? name;
  addTargetOrdering(nodes, idOf);

  const resolve = (deps: RawDep[]): UnitDependency[] =>
    deps.map((d) => ({ unit: idOf(d.name), source: d.source, text: d.text, ...(d.implicit ? { implicit: true } : {}) }));
  graph.units = [...nodes.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((n) => {
      const out: UnitNode = {
        id: n.id,
        aliases: n.aliases,
        state: n.state,
        after: resolve(n.after),
        before: resolve(n.before),
        pulls: resolve(n.pulls),
        conflicts: resolve(n.conflicts),
      };
      if (n.fragment) out.fragment = n.fragment;
      if (n.serviceType !== undefined) out.serviceType = n.serviceType;
      return out;
    });
  return graph;
}

/** The first search-path entry of a name (where `default.target`'s link is). */
function firstPath(dirs: string[], fs: RootFs, name: string): string {
  for (const d of dirs) {
    const p = `${d}/${name}`;
    if (readLinkInRoot(fs, p) !== undefined || fs.exists(p)) return p;
  }
  return name;
}

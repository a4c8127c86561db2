import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import { inputFinding } from '../common/input-finding.js';
import { parseUnitText, type UnitAssignment } from './unit-syntax.js';
import { appendAll } from '../../model/append.js';

/**
 * systemd's system unit search path, highest precedence first (systemd.unit(5), "System Unit Search Path";
 * src/basic/path-lookup.c). `/lib/systemd/system` is last: on merged-/usr systems it is the same directory as
 * `/usr/lib/systemd/system`, which `unitSearchPath` notices through RootFs and lists once.
 */
export const UNIT_SEARCH_PATH = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/usr/lib/systemd/system',
  '/lib/systemd/system',
] as const;

/** A setting's value with where it was written. */
export interface UnitValue {
  value: string;
  location: Location;
}

/** A unit as systemd would load it: fragment, then drop-ins in order, empty assignments resetting lists. */
export interface UnitFile {
  /** The name asked for (`mail-transport-agent.service`, `getty@tty1.service`). */
  name: string;
  /** The unit's own name after following alias symlinks (`sendmail.service`). */
  id: string;
  /** Names that led to this unit through alias symlinks, in the order followed. */
  aliases: string[];
  /** Where the unit was found in the search path, as seen in the root. */
  fragmentPath?: string;
  /** The file whose text was read, after symlinks (inside the root). */
  resolvedPath?: string;
  /** Drop-in files applied, in the order applied. */
  dropInPaths: string[];
  /** Set when the unit is masked: the path that masks it (a symlink to /dev/null, or an empty file). */
  masked?: string;
  /** For an instance of a template unit: `foo@.service` and the instance string. */
  template?: string;
  instance?: string;
  /**
   * Settings by section then key, each the list of values in effect (an empty assignment empties the list, as it
   * does for systemd's list settings; for single-valued settings the last value wins and an empty list means
   * "default").
   */
  sections: Map<string, Map<string, UnitValue[]>>;
  /** Every assignment as read, in order (fragment first, then drop-ins), for explanations. */
  assignments: UnitAssignment[];
}

export interface ReadUnitResult {
  unit?: UnitFile;
  findings: Finding[];
  /** Text of every file read, keyed by in-root path. */
  sources: Map<string, string>;
}

/** Effective search path for a root: the standard directories, with aliases of one another listed once. */
export function unitSearchPath(fs: RootFs): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of UNIT_SEARCH_PATH) {
    const r = fs.resolve(dir);
    const key = r.ok ? r.inRoot : dir;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(dir);
  }
  return out;
}

/** The link text of `inRootPath` when its last component is a symlink; the parent is resolved inside the root. */
export function readLinkInRoot(fs: RootFs, inRootPath: string): string | undefined {
  // RootFs has no readlink; resolve the parent through it (so parents never lead out of the root) and read
  // the last component's link text without following it.
  const parent = fs.resolve(path.posix.dirname(inRootPath));
  if (!parent.ok) return undefined;
  const host = path.join(parent.hostPath, path.posix.basename(inRootPath));
  try {
    if (!nodeFs.lstatSync(host).isSymbolicLink()) return undefined;
    return nodeFs.readlinkSync(host);
  } catch {
    return undefined;
  }
}

const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)$/;

export function isValidUnitName(name: string): boolean {
  return name.length <= 255 && UNIT_NAME.test(name);
}

/** `foo@bar.service` → `{ prefix: 'foo', instance: 'bar', suffix: '.service', template: 'foo@.service' }`. */
export function splitUnitName(name: string): { prefix: string; instance?: string; suffix: string; template?: string } {
  const dot = name.lastIndexOf('.');
  const base = dot > 0 ? name.slice(0, dot) : name;
  const suffix = dot > 0 ? name.slice(dot) : '';
  const at = base.indexOf('@');
  if (at < 0) return { prefix: base, suffix };
  return { prefix: base.slice(0, at), instance: base.slice(at + 1), suffix, template: base.slice(0, at) + '@' + suffix };
}

interface Located {
  /** Path in the search directory. */
  path: string;
  kind: 'file' | 'masked' | 'alias';
  /** For an alias: the unit name it points to. */
  target?: string;
  /** In-root path after symlinks (for files). */
  resolved?: string;
}

function isMaskTarget(link: string): boolean {
  return path.posix.normalize(link) === '/dev/null';
}

/** Look a name up in the search path: the first directory holding an entry of that name wins. */
function locate(fs: RootFs, dirs: string[], name: string): Located | undefined {
  for (const dir of dirs) {
    const p = `${dir}/${name}`;
    const link = readLinkInRoot(fs, p);
    if (link !== undefined) {
      if (isMaskTarget(link)) return { path: p, kind: 'masked' };
      const r = fs.resolve(p);
      if (r.ok && r.inRoot === '/dev/null') return { path: p, kind: 'masked' };
      const targetName = path.posix.basename(r.ok ? r.inRoot : link);
      if (targetName !== name && isValidUnitName(targetName)) return { path: p, kind: 'alias', target: targetName, ...(r.ok ? { resolved: r.inRoot } : {}) };
      // A link with the same name (`systemctl link`, or /etc → /usr/lib): the target is the fragment.
      return { path: p, kind: 'file', ...(r.ok ? { resolved: r.inRoot } : {}) };
    }
    if (fs.exists(p)) {
      const r = fs.resolve(p);
      return { path: p, kind: 'file', resolved: r.ok ? r.inRoot : p };
    }
  }
  return undefined;
}

/**
 * Read a unit as systemd would load it from the scanned root: find the fragment in the search path (aliases
 * followed, masks reported), fall back to the template for an instance name, then apply drop-ins.
 */
export function readUnit(fs: RootFs, name: string): ReadUnitResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const dirs = unitSearchPath(fs);
  const notAt: Location = { file: dirs[0] ?? '/etc/systemd/system', line: 0 };

  if (!name.includes('.')) name += '.service';
  if (!isValidUnitName(name)) {
    findings.push(inputFinding('BC001', notAt, `${JSON.stringify(name)} is not a valid unit name`, 'systemd'));
    return { findings, sources };
  }

  const aliases: string[] = [];
  let current = name;
  let found: Located | undefined;
  let template: string | undefined;
  let instance: string | undefined;
  for (let hops = 0; hops < 32; hops++) {
    found = locate(fs, dirs, current);
    if (!found) {
      const parts = splitUnitName(current);
      if (parts.template && parts.instance) {
        // An instance without its own file loads from the template (unit_load_fragment tries `foo@.service`).
        const t = locate(fs, dirs, parts.template);
        if (t) {
          template = parts.template;
          instance = parts.instance;
          found = t;
        }
      }
    }
    if (!found || found.kind !== 'alias' || found.target === undefined) break;
    aliases.push(current);
    if (aliases.includes(found.target)) {
      findings.push(inputFinding('BC004', { file: found.path, line: 0 }, `alias loop at ${found.path}`, 'systemd'));
      return { findings, sources };
    }
    // An alias keeps the instance: `foo@a.service → bar@.service` is `bar@a.service`.
    const t = splitUnitName(found.target);
    const c = splitUnitName(current);
    current = t.template && t.instance === '' && c.instance ? `${t.prefix}@${c.instance}${t.suffix}` : found.target;
    if (found.resolved !== undefined && fs.exists(found.resolved) && !dirs.includes(path.posix.dirname(found.resolved))) {
      // Alias pointing outside the search path: the target file itself is the fragment.
      found = { path: found.path, kind: 'file', resolved: found.resolved };
      break;
    }
  }

  if (!found) {
    findings.push(inputFinding('BC001', notAt, `unit ${name} not found in ${dirs.join(', ')}`, 'systemd'));
    return { findings, sources };
  }
  if (found.kind === 'alias') {
    findings.push(inputFinding('BC004', { file: found.path, line: 0 }, `${found.path} points to ${found.target}, which is not in the unit search path`, 'systemd'));
    return { findings, sources };
  }
  const unitParts = splitUnitName(current);
  const unit: UnitFile = {
    name,
    id: current,
    aliases,
    fragmentPath: found.path,
    dropInPaths: [],
    sections: new Map(),
    assignments: [],
  };
  if (template === undefined && unitParts.template && unitParts.instance) {
    // Reached an instance name through an alias; its fragment may still be the template.
    if (path.posix.basename(found.path) === unitParts.template) template = unitParts.template;
    instance = unitParts.instance;
  }
  if (template !== undefined) unit.template = template;
  if (instance !== undefined) unit.instance = instance;

  if (found.kind === 'masked') {
    unit.masked = found.path;
    findings.push(inputFinding('BC001', { file: found.path, line: 0 }, `${unit.id} is masked: ${found.path} is a symlink to /dev/null, so systemd refuses to start it`, 'systemd'));
    return { unit, findings, sources };
  }

  const read = fs.readText(found.path);
  if (!read.ok) {
    findings.push(inputFinding('BC001', { file: found.path, line: 0 }, `cannot read unit file: ${read.message}`, 'systemd'));
    return { unit, findings, sources };
  }
  unit.resolvedPath = read.resolved;
  if (read.text.length === 0) {
    // load_from_path(): null_or_empty() — an empty file masks the unit just as /dev/null does.
    unit.masked = found.path;
    findings.push(inputFinding('BC001', { file: found.path, line: 0 }, `${unit.id} is masked: ${found.path} is empty`, 'systemd'));
    return { unit, findings, sources };
  }
  applyText(unit, read.text, found.path, findings, sources);

  for (const dropIn of findDropIns(fs, dirs, unit)) {
    if (dropIn.masked) continue;
    const r = fs.readText(dropIn.path);
    if (!r.ok) {
      findings.push(inputFinding('BC001', { file: dropIn.path, line: 0 }, `cannot read drop-in: ${r.message}`, 'systemd'));
      continue;
    }
    unit.dropInPaths.push(dropIn.path);
    applyText(unit, r.text, dropIn.path, findings, sources);
  }
  return { unit, findings, sources };
}

function applyText(unit: UnitFile, text: string, file: string, findings: Finding[], sources: Map<string, string>): void {
  sources.set(file, text);
  const parsed = parseUnitText(text, file);
  appendAll(findings, parsed.findings);
  for (const a of parsed.assignments) {
    unit.assignments.push(a);
    let sec = unit.sections.get(a.section);
    if (!sec) unit.sections.set(a.section, (sec = new Map()));
    const list = sec.get(a.key) ?? [];
    // config_parse_exec, config_parse_environ, config_parse_strv…: an empty assignment resets the list.
    if (a.value === '') sec.set(a.key, []);
    else sec.set(a.key, [...list, { value: a.value, location: a.location }]);
  }
}

/**
 * Drop-in directories for a unit, in systemd's order (unit_file_find_dropin_paths): for every search directory,
 * `<type>.d` (v246+), the dash-truncated prefixes (`foo-.service.d`, v246+), the template's and the unit's own
 * `.d` and those of its aliases. `.conf` files are collected across all of them, a file name seen in an earlier
 * (higher-precedence) directory hides the same name later, and the survivors apply sorted by file name.
 */
function findDropIns(fs: RootFs, dirs: string[], unit: UnitFile): { path: string; masked: boolean }[] {
  const names: string[] = [];
  const parts = splitUnitName(unit.id);
  const typeName = parts.suffix.slice(1);
  names.push(typeName);
  const base = parts.prefix;
  const dashes = [...base.matchAll(/-/g)].map((m) => m.index as number);
  for (const d of dashes) names.push(base.slice(0, d + 1) + parts.suffix);
  if (parts.template) names.push(parts.template);
  for (const alias of unit.aliases) if (!names.includes(alias)) names.push(alias);
  if (!names.includes(unit.id)) names.push(unit.id);

  const byName = new Map<string, { path: string; masked: boolean }>();
  for (const dir of dirs) {
    for (const n of names) {
      const d = `${dir}/${n}.d`;
      if (!fs.isDirectory(d)) continue;
      for (const f of fs.list(d)) {
        if (!f.endsWith('.conf') || byName.has(f)) continue;
        const p = `${d}/${f}`;
        const link = readLinkInRoot(fs, p);
        const masked = link !== undefined && isMaskTarget(link);
        if (!masked && !fs.exists(p)) continue;
        byName.set(f, { path: p, masked });
      }
    }
  }
  return [...byName.keys()].sort(compareFileNames).map((k) => byName.get(k) as { path: string; masked: boolean });
}

/** strcmp order (conf_files_list sorts by basename with strcmp, not locale collation). */
function compareFileNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface UnitEntry {
  /** The unit name (file name in its directory). */
  name: string;
  /** The first search-path entry of that name, as seen in the root. */
  path: string;
  kind: 'file' | 'alias' | 'masked';
  /** For an alias: the unit name it points to. */
  target?: string;
}

/**
 * Every unit name in the search path (the highest-precedence entry of each name), sorted by name, optionally
 * filtered by name. Directories that are not unit files (`foo.service.d`, `multi-user.target.wants`) are skipped.
 */
export function findUnits(fs: RootFs, predicate?: (name: string) => boolean): UnitEntry[] {
  const dirs = unitSearchPath(fs);
  const names = new Set<string>();
  for (const dir of dirs) for (const n of fs.list(dir)) if (isValidUnitName(n)) names.add(n);
  const out: UnitEntry[] = [];
  for (const n of [...names].sort(compareFileNames)) {
    if (predicate && !predicate(n)) continue;
    const l = locate(fs, dirs, n);
    if (!l) continue;
    if (l.kind === 'file' && fs.isDirectory(l.path)) continue;
    const e: UnitEntry = { name: n, path: l.path, kind: l.kind };
    if (l.target !== undefined) e.target = l.target;
    out.push(e);
  }
  return out;
}

/** The values of a setting in effect (after resets), or an empty list. */
export function unitValues(unit: UnitFile, section: string, key: string): UnitValue[] {
  return unit.sections.get(section)?.get(key) ?? [];
}

/** The last value of a single-valued setting, or undefined when unset (or reset to its default). */
export function unitValue(unit: UnitFile, section: string, key: string): UnitValue | undefined {
  const v = unitValues(unit, section, key);
  return v[v.length - 1];
}

/** systemd's unit_name_unescape: `\xNN` decoded, `-` becomes `/` (what `%I` and `%P` show). */
export function unescapeUnitNamePart(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})|-/g, (m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : '/'));
}

function userSpecifiers(unit: UnitFile): Record<string, string> {
  const user = unitValue(unit, 'Service', 'User')?.value;
  // Without User= the service runs as root; with it, the uid and home need the root's passwd (not read here).
  if (user === undefined || user === 'root' || user === '0') return { u: 'root', U: '0', h: '/root' };
  return { u: user };
}

/**
 * Resolve the unit specifiers systemd knows without a running manager (systemd.unit(5), "Specifiers").
 * Unknown or host-dependent ones are left as written and named in `unresolved`.
 */
export function expandSpecifiers(unit: UnitFile, text: string, extra: Record<string, string> = {}): { text: string; unresolved: string[] } {
  const parts = splitUnitName(unit.id);
  const table: Record<string, string | undefined> = {
    n: unit.id,
    N: unit.id.slice(0, unit.id.length - parts.suffix.length),
    p: parts.prefix,
    P: unescapeUnitNamePart(parts.prefix),
    i: parts.instance ?? unit.instance ?? '',
    I: unescapeUnitNamePart(parts.instance ?? unit.instance ?? ''),
    j: parts.prefix.includes('-') ? parts.prefix.slice(parts.prefix.lastIndexOf('-') + 1) : parts.prefix,
    f: '/' + unescapeUnitNamePart(parts.instance ?? parts.prefix),
    t: '/run',
    S: '/var/lib',
    C: '/var/cache',
    L: '/var/log',
    E: '/etc',
    T: '/tmp',
    V: '/var/tmp',
    ...userSpecifiers(unit),
    ...extra,
  };
  const unresolved: string[] = [];
  const out = text.replace(/%(.)/g, (m, c: string) => {
    if (c === '%') return '%';
    const v = table[c];
    if (v === undefined) {
      if (!unresolved.includes(m)) unresolved.push(m);
      return m;
    }
    return v;
  });
  return { text: out, unresolved };
}

import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import { inputFinding } from '../common/input-finding.js';
import { expandExecStart, findUnits, readUnit, unitValue } from '../systemd/index.js';
import { COMPOSE_BEHAVIOUR } from './behaviour.js';
import { joinPath, type ComposeProjectRef } from './project.js';

/** What `docker compose …` / `docker-compose …` on a command line says about the project it runs. */
export interface ComposeCommand {
  files: string[];
  projectDirectory?: string;
  projectName?: string;
  envFile?: string;
  profiles: string[];
  /** The compose subcommand (`up`, `down`, …). */
  subcommand?: string;
}

const VALUE_FLAGS: Record<string, keyof Omit<ComposeCommand, 'files' | 'profiles' | 'subcommand'> | 'files' | 'profiles' | 'skip'> = {
  '-f': 'files',
  '--file': 'files',
  '-p': 'projectName',
  '--project-name': 'projectName',
  '--project-directory': 'projectDirectory',
  '--env-file': 'envFile',
  '--profile': 'profiles',
  '--ansi': 'skip',
  '--parallel': 'skip',
  '--progress': 'skip',
  '-H': 'skip',
  '--host': 'skip',
  '-c': 'skip',
  '--context': 'skip',
  '--log-level': 'skip',
  '-l': 'skip',
  '--config': 'skip',
};

/**
 * Recognise a compose invocation in argv (`/usr/bin/docker compose -f /srv/app/compose.yaml up -d`,
 * `docker-compose --project-directory /opt/x up`); undefined when argv runs something else.
 */
export function composeCommand(argv: readonly string[]): ComposeCommand | undefined {
  const base = (argv[0] ?? '').split('/').pop() ?? '';
  let i: number;
  if (base === 'docker-compose') i = 1;
  else if (base === 'docker') {
    // docker's own global flags come before the `compose` plugin name.
    i = 1;
    while (i < argv.length && (argv[i] as string).startsWith('-')) {
      const a = argv[i] as string;
      i += !a.includes('=') && VALUE_FLAGS[a] === 'skip' ? 2 : 1;
    }
    if (argv[i] !== 'compose') return undefined;
    i++;
  } else return undefined;
  const c: ComposeCommand = { files: [], profiles: [] };
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('-')) {
      c.subcommand = a;
      break;
    }
    const eq = a.indexOf('=');
    let flag = eq >= 0 ? a.slice(0, eq) : a;
    let v: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (eq < 0 && /^-[fp]./.test(a)) {
      flag = a.slice(0, 2);
      v = a.slice(2);
    }
    const kind = VALUE_FLAGS[flag];
    if (kind === undefined) continue;
    if (v === undefined) v = argv[++i];
    if (v === undefined) break;
    if (kind === 'files') c.files.push(v);
    else if (kind === 'profiles') c.profiles.push(v);
    else if (kind !== 'skip') c[kind] = v;
  }
  return c;
}

/** The project a compose command line runs, relative paths resolved against the directory it runs in. */
export function projectFromCommand(fs: RootFs, cmd: ComposeCommand, cwd: string, environment: Map<string, string>, origin: string, loc?: Location): ComposeProjectRef | undefined {
  const files = cmd.files.map((f) => joinPath(cwd, f));
  // compose-go: the project directory is --project-directory, else the first file's directory, else the cwd.
  const dir = cmd.projectDirectory !== undefined ? joinPath(cwd, cmd.projectDirectory) : files[0] !== undefined ? dirOf(files[0]) : cwd;
  const ref: ComposeProjectRef = { dir, files, environment, origin };
  if (loc) ref.originLocation = loc;
  if (cmd.projectName !== undefined) ref.name = cmd.projectName;
  if (cmd.envFile !== undefined) ref.envFile = joinPath(cwd, cmd.envFile);
  if (cmd.profiles.length > 0) environment.set('COMPOSE_PROFILES', [environment.get('COMPOSE_PROFILES'), ...cmd.profiles].filter(Boolean).join(','));
  if (files.length === 0) {
    const found = defaultFiles(fs, dir);
    if (found.length === 0) return undefined;
    ref.files = found;
  }
  return ref;
}

/** cli.WithDefaultConfigPath: the first of the default names present, then the first override name present. */
export function defaultFiles(fs: RootFs, dir: string): string[] {
  const names = fs.list(dir);
  const first = COMPOSE_BEHAVIOUR.fileNames.find((n) => names.includes(n));
  if (first === undefined) return [];
  const over = COMPOSE_BEHAVIOUR.overrideFileNames.find((n) => names.includes(n));
  return over === undefined ? [joinPath(dir, first)] : [joinPath(dir, first), joinPath(dir, over)];
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export interface DiscoverOptions {
  /** Project directories to read (each as `docker compose up` run there); replaces the default parent scan. */
  projectDirs?: readonly string[];
}

/**
 * Every compose project bindcheck can see in the root: those a systemd unit starts (`ExecStart=docker compose …
 * up`, WorkingDirectory= and Environment= applied), then each directory below /opt, /srv and
 * /etc/docker/compose (or the given list) holding a compose file. A project found twice is read once.
 */
export function discoverProjects(fs: RootFs, opts: DiscoverOptions = {}): { refs: ComposeProjectRef[]; findings: Finding[]; sources: Map<string, string> } {
  const refs: ComposeProjectRef[] = [];
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const seen = new Set<string>();
  const add = (r: ComposeProjectRef | undefined) => {
    if (!r) return;
    const key = r.files.join('\0');
    if (seen.has(key)) return;
    seen.add(key);
    refs.push(r);
  };
  for (const entry of findUnits(fs, (n) => n.endsWith('.service') && !n.includes('@'))) {
    if (entry.kind !== 'file') continue;
    const u = readUnit(fs, entry.name);
    if (!u.unit || u.unit.masked) continue;
    const exec = expandExecStart(u.unit, fs);
    const cmd = composeCommand(exec.argv);
    if (!cmd || cmd.subcommand !== 'up') continue;
    for (const [k, v] of u.sources) sources.set(k, v);
    for (const [k, v] of exec.sources) sources.set(k, v);
    const env = new Map<string, string>();
    for (const [k, v] of exec.environment) if (v.from !== 'manager') env.set(k, v.value);
    const wd = unitValue(u.unit, 'Service', 'WorkingDirectory')?.value.replace(/^-/, '');
    const cwd = wd !== undefined && wd.startsWith('/') ? wd : '/';
    const r = projectFromCommand(fs, cmd, cwd, env, `${u.unit.id} (ExecStart)`, exec.source);
    if (!r) {
      findings.push(inputFinding('BC001', exec.source, `${u.unit.id} runs docker compose up, but no compose file (${COMPOSE_BEHAVIOUR.fileNames.join(', ')}) is in ${cmd.projectDirectory ?? cwd}`, 'docker'));
      continue;
    }
    add(r);
  }
  const dirs = opts.projectDirs ?? COMPOSE_BEHAVIOUR.projectParents.flatMap((p) => fs.list(p).map((n) => joinPath(p, n)).filter((d) => fs.isDirectory(d)));
  for (const dir of dirs) {
    const files = defaultFiles(fs, dir);
    if (files.length === 0) continue;
    add({ dir, files, environment: new Map(), origin: `${dir} (a directory bindcheck looks in)` });
  }
  return { refs, findings, sources };
}

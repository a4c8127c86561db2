import { analyze, type Analysis, type KnownLiveOptions } from './analysis/analyze.js';
import { applyBaseline, applyInlineSuppressions, type Baseline, type Suppressed } from './baseline/suppress.js';
import { CHECKS, runChecks } from './checks/registry.js';
import type { Check } from './checks/types.js';
import { RootFs } from './fs/root-fs.js';
import { assumedHostFacts, readHostFacts, readLiveSockets } from './live/index.js';
import type { Finding } from './model/finding.js';
import type { Inventory, UnseenNote } from './model/inventory.js';
import type { Family, Proto } from './model/endpoint.js';
import type { LiveSocket, TcpState } from './model/live.js';
import { READERS, type DaemonReader } from './readers/index.js';
import { defaultConfigPaths, readDistro } from './readers/distro.js';
import { readMailers, runningMailers } from './readers/mailers.js';
import { readDaemonUnits } from './readers/units.js';
import { readUnitGraph } from './readers/systemd/unit-deps.js';
import { appendAll } from './model/append.js';
import { capRepeatedFindings } from './analysis/cap-findings.js';

/** A socket known to be held on the host, with options /proc cannot show (tests, strace, the caller's knowledge). */
export interface ExtraLiveSocket {
  proto: Proto;
  family: Family;
  address: string;
  port: number;
  state: TcpState;
  uid?: number;
  reuseAddr?: boolean;
  reusePort?: boolean;
  v6Only?: boolean;
  /** Who holds it, for the report. */
  owner?: { pid: number; comm: string; unit?: string };
}

export interface ScanOptions {
  /** The root to scan: `/` for this host, or an appliance image. */
  root?: string;
  /** Read live state (sockets, host facts) from ROOT/proc. Default: true. */
  live?: boolean;
  extraLiveSockets?: ExtraLiveSocket[];
  /** Addresses to treat as local in addition to those read from ROOT/proc (or assumed). */
  extraLocalAddresses?: string[];
  /** Restrict to these daemons (reader names). */
  daemons?: string[];
  /** Use these readers instead of the registered ones (tests of a reader before it is registered). */
  readers?: readonly DaemonReader[];
  checks?: readonly Check[];
  /** Accepted findings (a parsed baseline file) and the file's name, for the report. */
  baseline?: { baseline: Baseline; file: string };
}

export interface ScanResult {
  inventory: Inventory;
  analysis: Analysis;
  /** Findings after inline suppressions and the baseline. */
  findings: Finding[];
  suppressed: Suppressed[];
}

/** discover → read → analyze → check. Reporters render the result; nothing here prints. */
export function scanInventory(opts: ScanOptions = {}): ScanResult {
  const root = opts.root ?? '/';
  const fs = new RootFs(root);
  const readers: DaemonReader[] = (opts.readers ?? READERS).filter((r) => !opts.daemons || opts.daemons.includes(r.daemon));
  const sources = new Map<string, string>();
  const inputFindings: Finding[] = [];
  const unseen: UnseenNote[] = [];
  const daemons: Inventory['daemons'] = [];
  const units: Inventory['units'] = [];
  const distro = readDistro(fs);
  for (const reader of readers) {
    const u = readDaemonUnits(fs, reader.daemon, reader.units);
    appendAll(units, u.units);
    const argv = u.units.find((x) => x.execStart)?.execStart?.argv;
    let r = reader.read(fs, { ...(u.configPath !== undefined ? { configPath: u.configPath } : {}), ...(argv ? { argv } : {}) });
    if (!r.found && u.configPath === undefined) {
      // Nothing where the reader looks by default: try where this distribution keeps the daemon's config
      // (Exim is /etc/exim/exim.conf on Red Hat, /var/lib/exim4/… on Debian).
      const alt = defaultConfigPaths(distro, reader.daemon).find((p) => fs.exists(p));
      if (alt !== undefined) r = reader.read(fs, { configPath: alt, ...(argv ? { argv } : {}) });
    }
    const creds = u.credentials;
    if (creds) {
      for (const plan of r.plans) {
        for (const sock of plan.sockets) {
          if (creds.uid !== undefined) sock.uid = creds.uid;
          if (creds.capNetBindService !== undefined) sock.capNetBindService = creds.capNetBindService;
          appendAll(sock.derivation, creds.derivation);
        }
      }
    }
    if (r.found) {
      appendAll(inputFindings, u.findings);
      for (const [k, v] of u.sources) sources.set(k, v);
    }
    appendAll(daemons, r.plans);
    appendAll(inputFindings, r.findings);
    for (const [k, v] of r.sources) sources.set(k, v);
  }
  // Which of two daemons starts first is only asked when there are two (src/analysis/boot-order.ts).
  const unitGraph = daemons.length >= 2 ? readUnitGraph(fs, [...new Set(daemons.flatMap((d) => d.units))]) : undefined;
  const wantLive = opts.live ?? true;
  const hasProc = wantLive && fs.isDirectory('/proc/net');
  const liveSockets: LiveSocket[] = [];
  if (hasProc) {
    const live = readLiveSockets(fs.root, { owners: true, states: 'all' });
    appendAll(liveSockets, live.sockets);
    appendAll(unseen, live.unseen);
  } else if (wantLive) {
    unseen.push({ what: 'live sockets', why: `${root === '/' ? '/proc' : `${root}/proc`} has no network tables; only the configuration was checked` });
  }
  const known = new Map<LiveSocket, KnownLiveOptions>();
  for (const [i, x] of (opts.extraLiveSockets ?? []).entries()) {
    const s = extraToLive(x, i);
    liveSockets.push(s);
    known.set(s, { reuseAddr: x.reuseAddr, reusePort: x.reusePort, v6Only: x.v6Only });
  }
  const hostFacts = hasProc ? readHostFacts(fs.root) : assumedHostFacts();
  if (opts.extraLocalAddresses && opts.extraLocalAddresses.length > 0) {
    const la = hostFacts.localAddresses;
    hostFacts.localAddresses = { ...la, value: [...la.value, ...opts.extraLocalAddresses], source: `${la.source}, given by caller` };
  }
  const mailers = readMailers(fs);
  const running = runningMailers(liveSockets);
  if (running.length > 0) mailers.facts.running = running;
  for (const [k, v] of mailers.sources) sources.set(k, v);
  const inventory: Inventory = {
    distro,
    mailers: mailers.facts,
    root,
    live: hasProc && fs.root === '/',
    daemons,
    units,
    ...(unitGraph ? { unitGraph } : {}),
    liveSockets,
    hostFacts,
    sources,
    // A damaged file can yield a finding per line: the first of each code per file, and one that counts the rest.
    inputFindings: capRepeatedFindings(inputFindings),
    unseen,
  };
  const analysis = analyze(inventory, known);
  const all = sortFindings(runChecks({ inventory, analysis }, opts.checks ?? CHECKS));
  const inline = applyInlineSuppressions(all, sources);
  const base = opts.baseline ? applyBaseline(inline.kept, sources, opts.baseline.baseline, opts.baseline.file) : { kept: inline.kept, suppressed: [] };
  return { inventory, analysis, findings: base.kept, suppressed: [...inline.suppressed, ...base.suppressed] };
}

function extraToLive(x: ExtraLiveSocket, i: number): LiveSocket {
  const s: LiveSocket = {
    proto: x.proto,
    family: x.family,
    address: x.address,
    port: x.port,
    remoteAddress: x.family === 'inet' ? '0.0.0.0' : '::',
    remotePort: 0,
    state: x.state,
    uid: x.uid ?? 0,
    inode: 0,
    owners: x.owner ? [{ pid: x.owner.pid, comm: x.owner.comm, cmdline: x.owner.comm, uid: x.uid ?? 0, ...(x.owner.unit ? { unit: x.owner.unit } : {}) }] : [],
    ownersKnown: x.owner !== undefined,
    source: { file: '(given by caller)', line: i + 1 },
  };
  return s;
}

const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) ||
      a.location.line - b.location.line ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      a.code.localeCompare(b.code),
  );
}

import type { RootFs } from '../../fs/root-fs.js';
import { addressFamily, embeddedIPv4, tryCanonicalAddress } from '../../kernel/index.js';
import type { Family } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, PlannedSocket } from '../../model/planned.js';
import { escapeForTerminal } from '../../text/escape.js';
import { inputFinding } from '../common/input-finding.js';
import { COMPOSE_BEHAVIOUR } from './behaviour.js';
import { discoverProjects, type DiscoverOptions } from './discover.js';
import { loadComposeProject, type ComposePortEntry, type ComposeProject, type ComposeService } from './project.js';
import type { PortBinding } from './ports.js';
import { appendAll } from '../../model/append.js';

const DAEMON = 'docker';

/** dockerd's settings that decide how a published port is bound. */
export interface DockerDaemonSettings {
  userlandProxy: boolean;
  /** `ip` / `--ip`: the host IP of bindings that name none. */
  defaultIp: string;
  /** `ipv6`: containers get IPv6 addresses (then the [::] binding exists even without the userland proxy). */
  ipv6: boolean;
  /** Where each setting came from, for explanations. */
  derivation: string[];
  source?: Location;
}

export interface ComposeReadOptions extends DiscoverOptions {
  /** dockerd's command line from docker.service (`--userland-proxy=false`, `--ip`, `--config-file`). */
  argv?: string[];
}

export interface ComposeReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  projects: ComposeProject[];
  daemon: DockerDaemonSettings;
  /** Facts that are not findings: unset variables, ephemeral host ports, host networking, SCTP, profiles. */
  notes: { location: Location; message: string }[];
}

/**
 * Predict the sockets Docker (engine 20.10.24) binds for every Compose project in the root: one DaemonPlan per
 * container (service replica), one socket per published port and address family, in port_mapping.go's order.
 * Never throws on bad input: problems become BC0xx findings with file:line:column.
 */
export function readCompose(fs: RootFs, opts: ComposeReadOptions = {}): ComposeReadResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const notes: ComposeReadResult['notes'] = [];
  const d = readDaemonSettings(fs, opts.argv, findings, sources);
  const disc = discoverProjects(fs, opts);
  appendAll(findings, disc.findings);
  for (const [k, v] of disc.sources) sources.set(k, v);
  const projects: ComposeProject[] = [];
  const plans: DaemonPlan[] = [];
  // portallocator.Get() is one allocator per dockerd, keyed by host IP text, protocol and port.
  const allocated = new Set<string>();
  for (const ref of disc.refs) {
    const r = loadComposeProject(fs, ref);
    appendAll(findings, r.findings);
    for (const [k, v] of r.sources) sources.set(k, v);
    if (!r.project) continue;
    projects.push(r.project);
    appendAll(notes, r.project.notes);
    appendAll(plans, planProject(r.project, d, allocated, notes));
  }
  // Findings, notes and socket names quote config text (port entries, service names): never raw to a terminal.
  for (const f of findings) f.message = escapeForTerminal(f.message);
  for (const p of plans) {
    for (const s of p.sockets) {
      s.name = escapeForTerminal(s.name);
      s.derivation = s.derivation.map(escapeForTerminal);
    }
  }
  const safeNotes = notes.map((n) => ({ location: n.location, message: escapeForTerminal(n.message) }));
  return { plans, findings, sources, found: disc.refs.length > 0, projects, daemon: d, notes: safeNotes };
}

function planProject(p: ComposeProject, d: DockerDaemonSettings, allocated: Set<string>, notes: ComposeReadResult['notes']): DaemonPlan[] {
  const plans: DaemonPlan[] = [];
  if (p.refused.length > 0) {
    const first = p.refused[0] as Finding;
    notes.push({ location: first.location, message: `compose refuses project ${p.name} (${p.refused.length} error${p.refused.length > 1 ? 's' : ''}, the first at ${first.location.file}:${first.location.line}): none of its containers start, so none of its ports are bound` });
    return plans;
  }
  const active = (p.env.get('COMPOSE_PROFILES') ?? '').split(',').filter((s) => s !== '');
  for (const svc of p.services) {
    if (svc.profiles.length > 0 && !svc.profiles.some((x) => active.includes(x) || x === '*') && !active.includes('*')) {
      notes.push({ location: svc.location, message: `service ${svc.name} has profiles ${svc.profiles.join(', ')}, none active: docker compose up does not start it` });
      continue;
    }
    if (svc.ports.length === 0) continue;
    if (svc.networkMode === 'host') {
      notes.push({ location: svc.location, message: `service ${svc.name} uses network_mode: host: Docker discards its ports (the container binds on the host itself; its own configuration decides where)` });
      continue;
    }
    if (svc.networkMode !== undefined && /^(service|container):/.test(svc.networkMode)) {
      notes.push({ location: svc.location, message: `service ${svc.name} shares another container's network (network_mode: ${svc.networkMode}): Docker refuses to publish its ports ("conflicting options: port publishing and the container type network mode")` });
      continue;
    }
    for (let replica = 1; replica <= svc.replicas; replica++) {
      const plan = planContainer(p, svc, replica, d, allocated, notes);
      if (plan.sockets.length > 0) plans.push(plan);
    }
  }
  return plans;
}

/** nat.SortPortMap, roughly: larger host port first, then larger container port, tcp before udp (see docs). */
function sortedBindings(ports: ComposePortEntry[]): { entry: ComposePortEntry; b: PortBinding }[] {
  const all = ports.flatMap((entry) => entry.bindings.map((b) => ({ entry, b })));
  return all.sort((x, y) => y.b.hostPortStart - x.b.hostPortStart || y.b.target - x.b.target || (x.b.proto === 'tcp' ? -1 : 0) - (y.b.proto === 'tcp' ? -1 : 0));
}

function planContainer(p: ComposeProject, svc: ComposeService, replica: number, d: DockerDaemonSettings, allocated: Set<string>, notes: ComposeReadResult['notes']): DaemonPlan {
  const container = `${p.name}-${svc.name}-${replica}`;
  const sockets: PlannedSocket[] = [];
  for (const { entry, b } of sortedBindings(svc.ports)) {
    if (replica === 1 && b.hostPortStart === 0) {
      notes.push({ location: entry.location, message: `${svc.name}: "${entry.text}" publishes container port ${b.target}/${b.proto} on a host port dockerd picks at start: nothing to predict` });
    }
    if (b.hostPortStart === 0) continue;
    if (b.proto === 'sctp') {
      if (replica === 1) notes.push({ location: entry.location, message: `${svc.name}: "${entry.text}" is SCTP, which bindcheck's kernel model does not cover` });
      continue;
    }
    for (const fam of bindingFamilies(b, d)) {
      const port = allocatePort(allocated, fam.ipText, b);
      const s = socketFor(svc, replica, entry, b, fam, port, d, container);
      sockets.push(s);
    }
  }
  return {
    daemon: DAEMON,
    config: svc.file,
    files: p.files,
    sockets,
    startup: 'bind-listen-each',
    units: [...COMPOSE_BEHAVIOUR.units],
    processNames: [...COMPOSE_BEHAVIOUR.processNames],
    // allocatePortsInternal: the first failure releases the container's ports and the container does not start.
    onFailure: 'exit',
  };
}

interface BindFamily {
  family: Family;
  address: string;
  /** The allocator's key text (Go's net.IP.String()). */
  ipText: string;
  why: string;
}

/** validatePortBindingIPv4 / validatePortBindingIPv6 (port_mapping.go, 20.10.24): which host addresses a binding gets. */
export function bindingFamilies(b: PortBinding, d: DockerDaemonSettings): BindFamily[] {
  const out: BindFamily[] = [];
  const given = b.hostIp === '' ? undefined : canonicalGoIp(b.hostIp);
  const def = canonicalGoIp(d.defaultIp) ?? { family: 'inet' as Family, address: '0.0.0.0' };
  if (given) {
    if (given.family === 'inet') out.push({ ...given, ipText: given.address, why: `host IP ${b.hostIp} given: IPv4 only` });
    // The IPv6 binding needs a container address to forward to: its IPv6 one, or (userland proxy on) its IPv4 one.
    else if (d.userlandProxy || d.ipv6) out.push({ ...given, ipText: given.address, why: `host IP ${b.hostIp} given: IPv6 only` });
    return out;
  }
  if (def.family === 'inet') out.push({ ...def, ipText: def.address, why: `no host IP: dockerd's default ${def.address}${d.defaultIp === COMPOSE_BEHAVIOUR.defaultBindIp ? '' : ' (ip setting)'}` });
  if (d.userlandProxy || d.ipv6) {
    if (def.address === '0.0.0.0') out.push({ family: 'inet6', address: '::', ipText: '::', why: 'no host IP and the default is 0.0.0.0: also [::] (IPv6 binding, 20.10)' });
    else if (def.family === 'inet6') out.push({ ...def, ipText: def.address, why: `no host IP: dockerd's default ${def.address} (ip setting)` });
  }
  return out;
}

/** Go's net.IP.To4(): an IPv4-mapped IPv6 address is an IPv4 address to dockerd. */
function canonicalGoIp(text: string): { family: Family; address: string } | undefined {
  const a = tryCanonicalAddress(text);
  if (a === undefined) return undefined;
  const v4 = embeddedIPv4(a);
  return v4 !== undefined ? { family: 'inet', address: v4 } : { family: addressFamily(a), address: a };
}

/** portallocator.RequestPortInRange: a fixed port as asked; a range gives its first port not yet allocated. */
function allocatePort(allocated: Set<string>, ipText: string, b: PortBinding): number {
  let port = b.hostPortStart;
  if (b.hostPortEnd !== b.hostPortStart) {
    for (let q = b.hostPortStart; q <= b.hostPortEnd; q++) {
      if (!allocated.has(`${ipText}/${b.proto}/${q}`)) {
        port = q;
        break;
      }
    }
  }
  allocated.add(`${ipText}/${b.proto}/${port}`);
  return port;
}

function socketFor(svc: ComposeService, replica: number, entry: ComposePortEntry, b: PortBinding, fam: BindFamily, port: number, d: DockerDaemonSettings, container: string): PlannedSocket {
  const tcp = b.proto === 'tcp';
  const who = d.userlandProxy ? 'docker-proxy' : 'dockerd (userland-proxy off: its placeholder listener)';
  const label = replica === 1 ? svc.name : `${svc.name}#${replica}`;
  const derivation = [
    `${entry.location.file}:${entry.location.line}: ports "${entry.text}" of service ${svc.name} (container ${container})`,
    fam.why,
    `${who} binds ${fam.family === 'inet6' ? `${b.proto}6 [${fam.address}]` : `${b.proto}4 ${fam.address}`}:${port}${tcp ? ' with SO_REUSEADDR and listens' : ''}${fam.family === 'inet6' ? ', IPV6_V6ONLY on' : ''}`,
    ...d.derivation,
  ];
  if (b.hostPortEnd !== b.hostPortStart) derivation.push(`host port range ${b.hostPortStart}-${b.hostPortEnd}: dockerd takes the first port its allocator has not given out (${port} here, counting the projects read before)`);
  if (replica > 1) derivation.push(`replica ${replica} of ${svc.replicas}: the same fixed host port as replica 1`);
  const s: PlannedSocket = {
    daemon: DAEMON,
    name: `${label}/${b.hostPortStart === b.hostPortEnd ? port : `${b.hostPortStart}-${b.hostPortEnd}`}:${b.target}/${b.proto}`,
    proto: tcp ? 'tcp' : 'udp',
    family: fam.family,
    address: fam.address,
    port,
    reuseAddr: tcp,
    reusePort: false,
    uid: 0,
    listens: tcp,
    source: replica > 1 && svc.replicasLocation ? svc.replicasLocation : entry.location,
    derivation,
    optionsKey: `docker:${container}:${b.target}/${b.proto}`,
  };
  if (fam.family === 'inet6') s.v6Only = true;
  return s;
}

/** /etc/docker/daemon.json and dockerd's flags: userland-proxy, ip, ipv6 (daemon/config, cmd/dockerd, 20.10). */
export function readDaemonSettings(fs: RootFs, argv: string[] | undefined, findings: Finding[], sources: Map<string, string>): DockerDaemonSettings {
  const d: DockerDaemonSettings = { userlandProxy: COMPOSE_BEHAVIOUR.userlandProxy, defaultIp: COMPOSE_BEHAVIOUR.defaultBindIp, ipv6: false, derivation: [] };
  const flags = dockerdFlags(argv ?? []);
  const file = flags.get('config-file') ?? COMPOSE_BEHAVIOUR.daemonJson;
  const r = fs.readText(file);
  if (r.ok) {
    sources.set(file, r.text);
    let json: unknown;
    try {
      json = JSON.parse(r.text);
    } catch (e) {
      findings.push(inputFinding('BC002', { file, line: 0 }, `${file} is not valid JSON (${String((e as Error).message).replace(/[\u0000-\u001f\u007f]/g, ' ')}): dockerd refuses to start`, DAEMON));
    }
    if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
      const o = json as Record<string, unknown>;
      const line = (k: string): Location => {
        const i = r.text.split('\n').findIndex((l) => l.includes(`"${k}"`));
        return { file, line: i + 1 };
      };
      if (typeof o['userland-proxy'] === 'boolean') {
        d.userlandProxy = o['userland-proxy'];
        d.derivation.push(`${file}: "userland-proxy": ${String(d.userlandProxy)}`);
        d.source = line('userland-proxy');
      }
      if (typeof o['ip'] === 'string') {
        d.defaultIp = o['ip'];
        d.derivation.push(`${file}: "ip": "${o['ip']}" (host IP of ports that name none)`);
      }
      if (typeof o['ipv6'] === 'boolean') d.ipv6 = o['ipv6'];
    }
  }
  const up = flags.get('userland-proxy');
  if (up !== undefined) {
    d.userlandProxy = up !== 'false' && up !== '0';
    d.derivation.push(`dockerd --userland-proxy=${up}`);
  }
  const ip = flags.get('ip');
  if (ip !== undefined) {
    d.defaultIp = ip;
    d.derivation.push(`dockerd --ip=${ip}`);
  }
  if (flags.has('ipv6')) d.ipv6 = flags.get('ipv6') !== 'false';
  return d;
}

function dockerdFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const withValue = new Set(['ip', 'config-file']);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) continue;
    const name = m[1] as string;
    if (!['userland-proxy', 'ip', 'ipv6', 'config-file'].includes(name)) continue;
    let v = m[2];
    if (v === undefined && withValue.has(name)) v = argv[++i];
    out.set(name, v ?? 'true');
  }
  return out;
}

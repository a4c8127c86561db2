import type { RootFs } from '../../fs/root-fs.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, DirectiveExtent, PlannedSocket } from '../../model/planned.js';
import { inputFinding } from '../common/input-finding.js';
import { expandSpecifiers, readUnit, splitUnitName, type UnitFile } from '../systemd/units.js';
import type { UnitAssignment } from '../systemd/unit-syntax.js';
import { parseSystemdBoolean, SOCKET_UNIT_BEHAVIOUR } from './behaviour.js';
import { findEnabledSocketUnits, type EnabledSocketUnit } from './enabled.js';
import { parseListenAddress } from './listen-address.js';
import { appendAll } from '../../model/append.js';

const DAEMON = SOCKET_UNIT_BEHAVIOUR.daemon;

export type ListenKind = 'ListenStream' | 'ListenDatagram' | 'ListenSequentialPacket' | 'ListenNetlink' | 'ListenFIFO' | 'ListenSpecial' | 'ListenMessageQueue' | 'ListenUSBFunction';
const LISTEN_KEYS: readonly string[] = ['ListenStream', 'ListenDatagram', 'ListenSequentialPacket', 'ListenNetlink', 'ListenFIFO', 'ListenSpecial', 'ListenMessageQueue', 'ListenUSBFunction'];

/** One entry of the unit's port list (Socket.ports), in config order, whether bindcheck models it or not. */
export interface SocketUnitPort {
  directive: ListenKind;
  /** The value as written and after specifiers. */
  value: string;
  expanded: string;
  location: Location;
  /** The inet socket it becomes, when it is one; otherwise why bindcheck leaves it out. */
  socket?: PlannedSocket;
  skipped?: string;
}

/** What the reader learned about one socket unit. */
export interface SocketUnitInfo {
  unit: string;
  /** Names that led here (the wants link's name when it is an alias). */
  aliases: string[];
  fragment?: string;
  dropIns: string[];
  wantedBy: string[];
  links: string[];
  description?: string;
  /** The service the socket activates (`Service=`, else the unit's own name with `.service`); for Accept=yes the template. */
  service?: string;
  accept: boolean;
  bindIPv6Only: 'default' | 'both' | 'ipv6-only';
  ports: SocketUnitPort[];
  /** Set when systemd will not start this socket unit at all (masked, not found, its service missing). */
  notStarted?: string;
}

export interface SocketUnitsReadResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  found: boolean;
  units: SocketUnitInfo[];
  /** Whether the root has IPv6 (`/proc/net/if_inet6`), which decides what a port-only value means. */
  ipv6: { value: boolean; origin: 'read' | 'assumed' };
}

interface Settings {
  bindIPv6Only: { value: 'default' | 'both' | 'ipv6-only'; location?: Location };
  reusePort: { value: boolean; location?: Location };
  freeBind: { value: boolean; location?: Location };
  transparent: { value: boolean; location?: Location };
  device: { value?: string; location?: Location };
  backlog: { value: number; location?: Location };
  accept: { value: boolean; location?: Location };
  service: { value?: string; location?: Location };
  protocol: { value?: 'udplite' | 'sctp'; location?: Location };
}

interface PendingPort {
  directive: ListenKind;
  value: string;
  expanded: string;
  location: Location;
  endLine: number;
  address?: ReturnType<typeof parseListenAddress>;
}

/**
 * Predict the sockets systemd (pid 1) creates at boot for every enabled `.socket` unit of the root, in config order
 * per unit and units sorted by name. Never throws on bad input: values systemd ignores become BC002 findings with
 * their file:line, and units systemd refuses to start are listed with the reason.
 */
export function readSocketUnits(fs: RootFs): SocketUnitsReadResult {
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const hasProcNet = fs.isDirectory('/proc/net');
  // socket_ipv6_is_supported(): access("/proc/net/if_inet6") — on an image without /proc, assume the usual IPv6.
  const ipv6 = hasProcNet ? { value: fs.exists('/proc/net/if_inet6'), origin: 'read' as const } : { value: true, origin: 'assumed' as const };
  const enabled = findEnabledSocketUnits(fs);
  const result: SocketUnitsReadResult = { plans: [], findings, sources, found: enabled.length > 0, units: [], ipv6 };
  const seen = new Set<string>();
  for (const e of enabled) {
    const r = readUnit(fs, e.name);
    for (const [k, v] of r.sources) sources.set(k, v);
    const unit = r.unit;
    if (unit && seen.has(unit.id)) continue;
    if (unit) seen.add(unit.id);
    const info = readOne(fs, e, unit, ipv6.value, findings);
    if (unit) {
      // A masked unit is not a problem of its own: the administrator switched it off.
      appendAll(findings, r.findings.filter((f) => !(unit.masked !== undefined && f.code === 'BC001')));
    } else {
      // A dangling wants link: systemd logs that it cannot load the unit and starts nothing for it.
      const link = e.links[0] ?? e.name;
      findings.push(inputFinding('BC001', { file: link, line: 0 }, `${link} pulls in ${e.name}, but no unit file of that name exists in the unit search path`, DAEMON));
    }
    result.units.push(info);
    if (info.notStarted !== undefined || !unit) continue;
    const sockets = info.ports.flatMap((p) => (p.socket ? [p.socket] : []));
    if (sockets.length === 0) continue;
    result.plans.push({
      daemon: DAEMON,
      config: unit.fragmentPath ?? e.links[0] ?? e.name,
      files: [...(unit.fragmentPath ? [unit.fragmentPath] : []), ...unit.dropInPaths],
      sockets,
      startup: 'bind-listen-each',
      units: [unit.id, ...unit.aliases.filter((a) => a !== unit.id)],
      processNames: [SOCKET_UNIT_BEHAVIOUR.processName],
      onFailure: SOCKET_UNIT_BEHAVIOUR.onFailure,
    });
  }
  return result;
}

function readOne(fs: RootFs, e: EnabledSocketUnit, unit: UnitFile | undefined, ipv6: boolean, findings: Finding[]): SocketUnitInfo {
  const info: SocketUnitInfo = {
    unit: unit?.id ?? e.name,
    aliases: unit?.aliases ?? [],
    dropIns: unit?.dropInPaths ?? [],
    wantedBy: e.wantedBy,
    links: e.links,
    accept: false,
    bindIPv6Only: 'default',
    ports: [],
  };
  if (!unit) {
    info.notStarted = `${e.name} is pulled in by ${e.links.join(', ')} but no unit file of that name exists`;
    return info;
  }
  if (unit.fragmentPath) info.fragment = unit.fragmentPath;
  if (unit.masked !== undefined) {
    info.notStarted = `${unit.id} is masked (${unit.masked}): systemd refuses to start it`;
    return info;
  }
  const bad = (loc: Location, message: string) => findings.push(inputFinding('BC002', loc, message, DAEMON));
  const st: Settings = {
    bindIPv6Only: { value: 'default' },
    reusePort: { value: false },
    freeBind: { value: false },
    transparent: { value: false },
    device: {},
    backlog: { value: SOCKET_UNIT_BEHAVIOUR.defaultBacklog },
    accept: { value: false },
    service: {},
    protocol: {},
  };
  let pending: PendingPort[] = [];
  for (const a of unit.assignments) {
    if (a.section === 'Unit' && a.key === 'Description') info.description = a.value;
    if (a.section === 'Unit' && a.key === 'ConditionPathExists' && info.notStarted === undefined) {
      const failed = pathConditionFails(fs, a.value);
      if (failed) info.notStarted = `${a.key}=${a.value} at ${a.location.file}:${a.location.line} does not hold in this root (${failed}): systemd skips ${unit.id} and opens none of its sockets`;
    }
    if (a.section !== 'Socket') continue;
    if (LISTEN_KEYS.includes(a.key)) {
      // config_parse_socket_listen: an empty value frees every port of the unit, whatever its Listen*= kind.
      if (a.value === '') {
        pending = [];
        continue;
      }
      const x = expandSpecifiers(unit, a.value);
      const p: PendingPort = { directive: a.key as ListenKind, value: a.value, expanded: x.text, location: a.location, endLine: a.endLine };
      if (x.unresolved.length > 0) {
        bad(a.location, `${a.key}=${a.value}: bindcheck cannot resolve ${x.unresolved.join(', ')} without a running systemd; the value is used as written`);
      }
      if (a.key === 'ListenStream' || a.key === 'ListenDatagram' || a.key === 'ListenSequentialPacket') {
        const addr = parseListenAddress(x.text, ipv6);
        if (addr.kind === 'invalid') {
          bad(a.location, `${a.key}=${a.value}: ${addr.reason}; systemd ignores the line ("Failed to parse address value, ignoring")`);
          continue;
        }
        if (addr.kind === 'inet' && a.key === 'ListenSequentialPacket') {
          bad(a.location, `${a.key}=${a.value}: SOCK_SEQPACKET is for AF_UNIX only; systemd ignores the line ("Address family not supported, ignoring")`);
          continue;
        }
        p.address = addr;
      }
      pending.push(p);
      continue;
    }
    applySetting(a, st, bad);
  }
  info.accept = st.accept.value;
  info.bindIPv6Only = st.bindIPv6Only.value;
  const parts = splitUnitName(unit.id);
  info.service = st.service.value ?? (st.accept.value ? `${parts.prefix}@.service` : `${parts.prefix}${parts.instance !== undefined ? `@${parts.instance}` : ''}.service`);
  // unit_start() tests conditions before socket_start() looks for the service.
  const serviceProblem = info.notStarted === undefined ? missingService(fs, info, st) : undefined;
  if (serviceProblem) {
    info.notStarted = serviceProblem;
    findings.push(inputFinding('BC001', st.service.location ?? { file: unit.fragmentPath ?? e.name, line: 0 }, serviceProblem, DAEMON));
  }
  for (const p of pending) info.ports.push(toPort(fs, unit, p, st, e));
  return info;
}

/**
 * condition_test_path_exists() for a plain (non-`|`) ConditionPathExists=: `!` negates. Triggering (`|`) conditions
 * are ORed with each other and are left unevaluated here.
 */
function pathConditionFails(fs: RootFs, value: string): string | undefined {
  if (value === '' || value.startsWith('|')) return undefined;
  const negate = value.startsWith('!');
  const path = negate ? value.slice(1) : value;
  if (!path.startsWith('/')) return undefined;
  const exists = fs.exists(path);
  if (negate && exists) return `${path} exists`;
  if (!negate && !exists) return `${path} does not exist`;
  return undefined;
}

function applySetting(a: UnitAssignment, st: Settings, bad: (loc: Location, message: string) => void): void {
  const bool = (slot: { value: boolean; location?: Location }) => {
    const b = parseSystemdBoolean(a.value);
    if (b === undefined) return bad(a.location, `${a.key}=${a.value} is not a boolean; systemd ignores the line ("Failed to parse boolean value, ignoring")`);
    slot.value = b;
    slot.location = a.location;
  };
  switch (a.key) {
    case 'BindIPv6Only': {
      // config_parse_socket_bind: default|both|ipv6-only, or a boolean (yes = ipv6-only, no = both).
      const v = a.value;
      const named = v === 'default' || v === 'both' || v === 'ipv6-only' ? v : undefined;
      const b = named === undefined ? parseSystemdBoolean(v) : undefined;
      if (named === undefined && b === undefined) return bad(a.location, `BindIPv6Only=${v}: systemd knows default, both, ipv6-only or a boolean and ignores the line`);
      st.bindIPv6Only = { value: named ?? (b ? 'ipv6-only' : 'both'), location: a.location };
      return;
    }
    case 'ReusePort':
      return bool(st.reusePort);
    case 'FreeBind':
      return bool(st.freeBind);
    case 'Transparent':
      return bool(st.transparent);
    case 'Accept':
      return bool(st.accept);
    case 'BindToDevice': {
      // config_parse_socket_bindtodevice: empty or `*` unsets it; an invalid interface name is ignored.
      if (a.value === '' || a.value === '*') {
        st.device = { location: a.location };
        return;
      }
      if (a.value.length >= 16 || /[\s:/%]/.test(a.value) || a.value === '.' || a.value === '..') {
        return bad(a.location, `BindToDevice=${a.value} is not an interface name; systemd ignores the line`);
      }
      st.device = { value: a.value, location: a.location };
      return;
    }
    case 'Backlog': {
      if (!/^\+?[0-9]+$/.test(a.value) || Number(a.value) > 4294967295) return bad(a.location, `Backlog=${a.value} is not a number; systemd ignores the line`);
      st.backlog = { value: Number(a.value), location: a.location };
      return;
    }
    case 'Service':
      if (a.value !== '') st.service = { value: a.value.includes('.') ? a.value : `${a.value}.service`, location: a.location };
      return;
    case 'SocketProtocol':
      if (a.value === 'udplite' || a.value === 'sctp') st.protocol = { value: a.value, location: a.location };
      else if (a.value === '') st.protocol = {};
      else bad(a.location, `SocketProtocol=${a.value}: systemd knows udplite and sctp and ignores the line`);
      return;
    default:
      return;
  }
}

/**
 * socket_start(): "Socket service %s not loaded, refusing." — an Accept=no socket needs its service (Service= or
 * the unit's own name) loaded, or systemd never opens its ports. Accept=yes spawns instances of `NAME@.service`.
 */
function missingService(fs: RootFs, info: SocketUnitInfo, st: Settings): string | undefined {
  if (st.accept.value || info.service === undefined) return undefined;
  const r = readUnit(fs, info.service);
  if (r.unit && r.unit.masked === undefined) return undefined;
  const why = r.unit?.masked !== undefined ? 'is masked' : 'does not exist';
  return `${info.unit} activates ${info.service}, which ${why}: systemd refuses to start ${info.unit} ("Socket service ${info.service} not loaded, refusing.") and opens none of its sockets`;
}

function toPort(fs: RootFs, unit: UnitFile, p: PendingPort, st: Settings, e: EnabledSocketUnit): SocketUnitPort {
  const port: SocketUnitPort = { directive: p.directive, value: p.value, expanded: p.expanded, location: p.location };
  const addr = p.address;
  if (!addr) {
    port.skipped = `${p.directive}= is not an IP socket (bindcheck models AF_INET/AF_INET6 only)`;
    return port;
  }
  if (addr.kind === 'unix' || addr.kind === 'vsock') {
    port.skipped = `${p.directive}=${p.value} is an ${addr.kind === 'unix' ? 'AF_UNIX' : 'AF_VSOCK'} socket (bindcheck models AF_INET/AF_INET6 only)`;
    return port;
  }
  if (addr.kind !== 'inet') return port;
  if (st.protocol.value !== undefined) {
    port.skipped = `SocketProtocol=${st.protocol.value}: not TCP or UDP, which bindcheck models`;
    return port;
  }
  const stream = p.directive === 'ListenStream';
  const derivation: string[] = [];
  derivation.push(`${unit.id} is pulled in by ${e.links.join(', ')} (wanted by ${e.wantedBy.join(', ')})`);
  if (addr.portOnly) {
    derivation.push(
      addr.family === 'inet6'
        ? `${p.directive}=${p.expanded} names a port only: systemd binds [::]:${addr.port} (IPv6 is available)`
        : `${p.directive}=${p.expanded} names a port only: systemd binds 0.0.0.0:${addr.port} (no /proc/net/if_inet6: no IPv6)`,
    );
  }
  if (p.expanded !== p.value) derivation.push(`${p.value} is ${p.expanded} after specifiers`);
  if (addr.ifname !== undefined) derivation.push(`%${addr.ifname}: the IPv6 scope id of interface ${addr.ifname}; systemd ignores the line when that interface does not exist when it loads the unit`);
  let v6Only: boolean | undefined;
  if (addr.family === 'inet6') {
    if (st.bindIPv6Only.value === 'default') derivation.push('BindIPv6Only=default: IPV6_V6ONLY is left at net.ipv6.bindv6only');
    else {
      v6Only = st.bindIPv6Only.value === 'ipv6-only';
      derivation.push(`BindIPv6Only=${st.bindIPv6Only.value}: IPV6_V6ONLY=${v6Only ? 1 : 0}`);
    }
  }
  derivation.push('systemd always sets SO_REUSEADDR (socket_address_listen)');
  if (st.reusePort.value) derivation.push('ReusePort=yes: SO_REUSEPORT');
  if (st.freeBind.value) derivation.push('FreeBind=yes: IP_FREEBIND');
  if (st.transparent.value) derivation.push('Transparent=yes: IP_TRANSPARENT');
  if (st.device.value !== undefined) derivation.push(`BindToDevice=${st.device.value}: SO_BINDTODEVICE`);
  if (stream) derivation.push(`listen(fd, ${st.backlog.value})${st.backlog.location ? ' (Backlog=)' : ' (default backlog SOMAXCONN_DELUXE; the kernel caps it at net.core.somaxconn)'}`);
  if (st.accept.value) derivation.push('Accept=yes: systemd accepts connections itself and starts one service instance per connection');
  else if (st.service.value !== undefined || stream || p.directive === 'ListenDatagram') derivation.push(`activates ${unitServiceName(unit, st)} on the first ${stream ? 'connection' : 'datagram'}`);
  const s: PlannedSocket = {
    daemon: DAEMON,
    name: unit.id,
    proto: stream ? 'tcp' : 'udp',
    family: addr.family,
    address: addr.address,
    port: addr.port,
    reuseAddr: true,
    reusePort: st.reusePort.value,
    uid: 0,
    capNetBindService: true,
    listens: stream,
    source: p.location,
    derivation,
    optionsKey: `${unit.id};${p.directive};accept=${st.accept.value}`,
  };
  if (v6Only !== undefined) s.v6Only = v6Only;
  if (st.freeBind.value || st.transparent.value) s.freeBind = true;
  if (st.device.value !== undefined) s.device = st.device.value;
  const directive = directiveExtent(fs, p);
  if (directive) s.directive = directive;
  port.socket = s;
  return port;
}

function unitServiceName(unit: UnitFile, st: Settings): string {
  if (st.service.value !== undefined) return st.service.value;
  const parts = splitUnitName(unit.id);
  return `${parts.prefix}${parts.instance !== undefined ? `@${parts.instance}` : ''}.service`;
}

function directiveExtent(fs: RootFs, p: PendingPort): DirectiveExtent | undefined {
  const r = fs.readText(p.location.file);
  if (!r.ok) return undefined;
  const lines = r.text.split('\n').slice(p.location.line - 1, p.endLine).map((l) => l.replace(/\r$/, ''));
  if (lines.length === 0) return undefined;
  return { file: p.location.file, startLine: p.location.line, endLine: p.endLine, lines, disabled: lines.map((l) => `#${l}`) };
}

import type { RootFs } from '../../fs/root-fs.js';
import type { Family } from '../../model/endpoint.js';
import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DaemonPlan, PlannedSocket } from '../../model/planned.js';
import { addressFamily, canonicalAddress, tryCanonicalAddress } from '../../kernel/index.js';
import { inputFinding } from '../common/input-finding.js';
import { readServices, SERVICES_PATH, type ServiceTable } from '../common/services.js';
import type { ReaderResult, ReadOptions } from '../index.js';
import { LazyHosts } from '../sendmail/hosts.js';
import { SourceText } from '../sendmail/source-text.js';
import { POSTFIX_BEHAVIOUR } from './behaviour.js';
import { ParamEvaluator, parseMainCf, POSTFIX_DEFAULTS, type MainCf } from './main-cf.js';
import { parseMasterCf, splitServiceName, type MasterEntry } from './master-cf.js';

export const POSTFIX_CONFIG_DIR = '/etc/postfix';
const DAEMON = 'postfix';
export const POSTFIX_UNITS = ['postfix.service', 'postfix@-.service'] as const;

/** What one master.cf inet entry became. */
export interface PostfixService {
  entry: MasterEntry;
  /** master's internal name: `25`, `[127.0.0.1]:25` (master_ent.c canonicalises it). */
  canonicalName: string;
  sockets: PlannedSocket[];
  /** Why it has no sockets (disabled, duplicate, unresolvable). */
  skippedReason?: string;
}

export interface PostfixReadResult extends ReaderResult {
  services: PostfixService[];
  /** inet_interfaces / inet_protocols as evaluated. */
  inetInterfaces?: string;
  inetProtocols?: Family[];
}

/** `-c DIR` (or a path to main.cf) → the config directory. */
function configDir(p: string | undefined): string {
  if (p === undefined) return POSTFIX_CONFIG_DIR;
  const t = p.replace(/\/+$/, '') || '/';
  return /\/(main|master)\.cf$/.test(t) ? t.slice(0, t.lastIndexOf('/')) || '/' : t;
}

export function readPostfix(fs: RootFs, opts: ReadOptions = {}): PostfixReadResult {
  const dir = configDir(opts.configPath);
  const mainPath = `${dir === '/' ? '' : dir}/main.cf`;
  const masterPath = `${dir === '/' ? '' : dir}/master.cf`;
  const findings: Finding[] = [];
  const sources = new Map<string, string>();
  const result: PostfixReadResult = { plans: [], findings, sources, found: false, services: [] };
  if (opts.configPath === undefined && !fs.exists(mainPath) && !fs.exists(masterPath)) return result;
  result.found = true;
  const files: string[] = [];

  // mail_conf.c: a missing main.cf is fatal ("open /etc/postfix/main.cf: No such file or directory").
  const mainRead = fs.readText(mainPath);
  let mainCf: MainCf = { file: mainPath, params: new Map() };
  if (!mainRead.ok) {
    findings.push(inputFinding('BC001', { file: mainPath, line: 0 }, `${mainRead.message}; postfix cannot start without it (mail_conf.c: fatal: open ${mainPath})`, DAEMON));
  } else {
    sources.set(mainPath, mainRead.text);
    files.push(mainPath);
    mainCf = parseMainCf(new SourceText(mainPath, mainRead.text), findings);
  }
  const masterRead = fs.readText(masterPath);
  if (!masterRead.ok) {
    findings.push(inputFinding('BC001', { file: masterPath, line: 0 }, `${masterRead.message}; postfix master cannot start without it (master_ent.c: fatal: open ${masterPath})`, DAEMON));
    return result;
  }
  sources.set(masterPath, masterRead.text);
  files.push(masterPath);
  const masterSrc = new SourceText(masterPath, masterRead.text);
  const entries = parseMasterCf(masterSrc, findings);

  const ev = new ParamEvaluator(mainCf, { ...POSTFIX_DEFAULTS, config_directory: dir });
  const describe = (name: string, value: string) => {
    const p = ev.param(name);
    const raw = ev.raw(name) ?? '';
    const shown = raw === value ? value : `${raw} → ${value}`;
    return p ? `${name} = ${shown} (${mainPath.split('/').pop()}:${p.location.line})` : `${name} = ${shown} (postconf -d default: not set in ${mainPath})`;
  };
  const paramLoc = (name: string): Location => ev.param(name)?.location ?? { file: mainPath, line: 0 };

  // --- inet_protocols (util/inet_proto.c): all | ipv4 | ipv6 | a list; empty disables every inet service.
  const protoX = ev.expand('inet_protocols');
  if (protoX.error) findings.push(inputFinding('BC002', paramLoc('inet_protocols'), `inet_protocols: ${protoX.error}`, DAEMON));
  const protocols: Family[] = [];
  let protoBad = false;
  for (const w of protoX.value.toLowerCase().split(/[ \t,]+/).filter(Boolean)) {
    if (w === 'all') protocols.push('inet', 'inet6');
    else if (w === 'ipv4') protocols.push('inet');
    else if (w === 'ipv6') protocols.push('inet6');
    else {
      protoBad = true;
      findings.push(inputFinding('BC002', paramLoc('inet_protocols'), `fatal: invalid inet_protocols parameter value: "${w}" (inet_proto.c): postfix does not start`, DAEMON));
    }
  }
  // sa_family_list is always AF_INET before AF_INET6 (inet_proto.c), whatever order the value lists them in.
  const families = (['inet', 'inet6'] as const).filter((f) => protocols.includes(f));
  result.inetProtocols = [...families];
  const protoNote = describe('inet_protocols', protoX.value);

  // --- inet_interfaces (global/own_inet_addr.c), evaluated once when master starts.
  const ifX = ev.expand('inet_interfaces');
  if (ifX.error) findings.push(inputFinding('BC002', paramLoc('inet_interfaces'), `inet_interfaces: ${ifX.error}`, DAEMON));
  result.inetInterfaces = ifX.value;
  const ifNote = describe('inet_interfaces', ifX.value);

  const services = readServices(fs);
  let servicesUsed = false;
  const hosts = new LazyHosts(fs, (p, text) => {
    sources.set(p, text);
    files.push(p);
  });

  /** inet_addr_host(): a numeric address (brackets allowed) or a host name looked up in /etc/hosts, filtered by inet_protocols. */
  const hostAddresses = (host: string): { addresses: { family: Family; address: string; note: string }[]; unresolved?: string } => {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const canon = tryCanonicalAddress(bare);
    if (canon !== undefined) {
      const family = addressFamily(canon);
      if (!families.includes(family)) return { addresses: [], unresolved: `${bare} is ${family === 'inet' ? 'IPv4' : 'IPv6'}, which inet_protocols leaves out` };
      return { addresses: [{ family, address: canon, note: `address ${bare}` }] };
    }
    const found: { family: Family; address: string; note: string }[] = [];
    for (const f of families) {
      const r = hosts.lookup(bare, f);
      if (r) found.push({ family: f, address: canonicalAddress(r.address), note: `host name "${bare}" resolved to ${r.address} via ${r.where}` });
    }
    return found.length > 0 ? { addresses: found } : { addresses: [], unresolved: `host name "${bare}" has no ${families.map((f) => (f === 'inet' ? 'IPv4' : 'IPv6')).join(' or ')} address in /etc/hosts` };
  };

  // The address list every service without a host part binds (master_ent.c: wildcard_inet_addr_list() for
  // "all", else own_inet_addr_list()). Computed lazily: a master.cf with only host:port services never needs it.
  let defaultList: { family: Family; address: string; note: string }[] | undefined;
  let defaultListError: string | undefined;
  const interfaceList = () => {
    if (defaultList !== undefined) return defaultList;
    defaultList = [];
    const v = ifX.value.trim();
    if (v.toLowerCase() === 'all') {
      for (const f of families) {
        defaultList.push({
          family: f,
          address: f === 'inet' ? '0.0.0.0' : '::',
          note: `${ifNote}: one wildcard socket per protocol (master_ent.c wildcard_inet_addr_list), IPv4 first`,
        });
      }
    } else if (v === 'loopback-only') {
      // own_inet_addr.c: the loopback addresses among the interfaces' addresses. bindcheck cannot list a root's
      // interfaces; lo carries 127.0.0.1 and ::1 on Linux.
      for (const f of families) {
        defaultList.push({ family: f, address: f === 'inet' ? '127.0.0.1' : '::1', note: `${ifNote}: the loopback interface's address (own_inet_addr.c; assumed: lo has 127.0.0.1 and ::1)` });
      }
    } else {
      const seen = new Set<string>();
      for (const h of v.split(/[ \t,]+/).filter(Boolean)) {
        const r = hostAddresses(h);
        if (r.unresolved !== undefined) {
          defaultListError = `fatal: config variable inet_interfaces: host not found: ${h} (${r.unresolved}; own_inet_addr.c)`;
          findings.push(inputFinding('BC002', paramLoc('inet_interfaces'), `${defaultListError}: postfix does not start`, DAEMON));
          continue;
        }
        for (const a of r.addresses) {
          // inet_addr_list_uniq(): duplicates (one address under several names) are dropped.
          if (seen.has(a.address)) continue;
          seen.add(a.address);
          defaultList.push({ ...a, note: `${ifNote}: ${a.note}; master binds each address separately (own_inet_addr.c)` });
        }
      }
    }
    return defaultList;
  };

  const disabled = ev.expand('master_service_disable').value.split(/[ \t,]+/).filter(Boolean);
  const isDisabled = (name: string, type: string) =>
    disabled.some((d) => d === type || d === `${name}/${type}`) || (families.length === 0 && !protoBad && type === 'inet');

  const seenNames = new Map<string, PostfixService>();
  for (const e of entries) {
    if (e.type !== 'inet') continue; // unix, unix-dgram, fifo, pass: no network socket.
    const svc: PostfixService = { entry: e, canonicalName: e.service, sockets: [] };
    result.services.push(svc);
    if (isDisabled(e.service, e.type)) {
      svc.skippedReason = families.length === 0 ? `inet_protocols is empty: master disables every inet service (master_ent.c set_master_ent)` : `master_service_disable matches ${e.service}/${e.type}`;
      continue;
    }
    if (e.private !== 'n') {
      svc.skippedReason = 'inet service cannot be private';
      findings.push(inputFinding('BC002', e.location, `fatal: ${masterPath}: line ${e.location.line}: inet service cannot be private — the private column must be "n" ("-" means y) (master_ent.c): postfix does not start`, DAEMON));
      continue;
    }
    const split = splitServiceName(e.service);
    if ('error' in split) {
      svc.skippedReason = split.error;
      findings.push(inputFinding('BC002', e.location, `fatal: ${masterPath}: line ${e.location.line}: ${split.error} (host_port.c): postfix does not start`, DAEMON));
      continue;
    }
    // Port: numeric, or a service name getservbyname() resolves for tcp.
    let port: number | undefined;
    const portNotes: string[] = [];
    if (/^\d+$/.test(split.port)) {
      port = Number(split.port);
      if (port > 65535) port = undefined;
    } else {
      servicesUsed = true;
      const r = (services as ServiceTable).lookup(split.port, 'tcp');
      if (r) {
        port = r.port;
        portNotes.push(`port ${services.describe(split.port, 'tcp')} (getaddrinfo)`);
      }
    }
    if (port === undefined) {
      svc.skippedReason = `unknown port ${split.port}`;
      findings.push(
        inputFinding(
          /^\d+$/.test(split.port) ? 'BC002' : 'BC003',
          e.location,
          `${e.service}: ${/^\d+$/.test(split.port) ? `port ${split.port} is out of range` : services.describe(split.port, 'tcp')}: master fails ("fatal: ${split.host || '*'}:${split.port}: Servname not supported for ai_socktype", inet_listen.c)`,
          DAEMON,
        ),
      );
      continue;
    }
    let addrs: { family: Family; address: string; note: string }[];
    if (split.host !== '') {
      const r = hostAddresses(split.host);
      if (r.unresolved !== undefined) {
        svc.skippedReason = r.unresolved;
        findings.push(inputFinding('BC002', e.location, `fatal: ${masterPath}: line ${e.location.line}: bad hostname or network address: ${e.service} (${r.unresolved}; master_ent.c): postfix does not start`, DAEMON));
        continue;
      }
      addrs = r.addresses.map((a) => ({ ...a, note: `${a.note} in the service name ${e.service} (${masterPath.split('/').pop()}:${e.location.line}); inet_interfaces does not apply` }));
      const first = r.addresses[0]!;
      svc.canonicalName = `[${tryCanonicalAddress(split.host.replace(/^\[|\]$/g, '')) !== undefined ? first.address : split.host.replace(/^\[|\]$/g, '')}]:${port}`;
    } else {
      addrs = interfaceList();
      svc.canonicalName = String(port);
      if (addrs.length === 0) {
        svc.skippedReason = defaultListError ?? 'inet_interfaces gives no address';
        if (defaultListError === undefined && families.length > 0) {
          findings.push(inputFinding('BC002', e.location, `fatal: service definition requires valid host name or address, or non-empty inet_interfaces setting (master_ent.c)`, DAEMON));
        }
        continue;
      }
    }
    // master_conf.c: a second entry with the same canonical name and type only updates the first (its sockets stay).
    const dup = seenNames.get(`${e.type}/${svc.canonicalName}`);
    if (dup) {
      svc.skippedReason = `duplicate master.cf entry for service "${e.service}" (${svc.canonicalName}): master keeps the sockets of ${masterPath}:${dup.entry.location.line} and only takes this entry's command (master_conf.c)`;
      findings.push(
        inputFinding('BC005', e.location, `postfix logs "warning: duplicate master.cf entry for service \\"${dup.entry.service}\\" (${svc.canonicalName}) -- using the last entry" and creates no socket for this line (master_conf.c)`, DAEMON),
      );
      continue;
    }
    seenNames.set(`${e.type}/${svc.canonicalName}`, svc);
    const ignored = e.overrides.filter((o) => o.name === 'inet_interfaces' || o.name === 'inet_protocols');
    const optionsKey = `postfix;type=inet;command=${e.command};args=${e.args.join(' ')}`;
    for (const a of addrs) {
      const derivation = [
        `master.cf service ${e.service} type inet (${masterPath}:${e.location.line})`,
        ...(split.host === '' ? [`no host in the service name: master binds the inet_interfaces addresses`] : []),
        a.note,
        protoNote,
        ...portNotes,
        ...ignored.map(
          (o) => `-o ${o.name}=${o.value} is passed to ${e.command} only: master binds from main.cf's ${o.name} (master_ent.c reads the saved global value)`,
        ),
        `inet_listen.c: ${a.family === 'inet6' ? 'IPV6_V6ONLY, ' : ''}SO_REUSEADDR and SO_REUSEPORT set, then bind() and listen() before the next socket`,
      ];
      svc.sockets.push({
        daemon: DAEMON,
        name: e.service,
        proto: 'tcp',
        family: a.family,
        address: a.address,
        port,
        ...(a.family === 'inet6' ? { v6Only: true } : {}),
        reuseAddr: true,
        reusePort: true,
        uid: 0,
        listens: true,
        source: e.location,
        derivation,
        directive: e.directive,
        optionsKey,
      });
    }
  }
  if (servicesUsed && services.text !== undefined) {
    sources.set(SERVICES_PATH, services.text);
    files.push(SERVICES_PATH);
  }

  result.plans.push({
    daemon: DAEMON,
    config: mainPath,
    files,
    sockets: result.services.flatMap((s) => s.sockets),
    startup: POSTFIX_BEHAVIOUR.startup,
    units: [...POSTFIX_UNITS],
    processNames: ['master'],
    // inet_listen.c: msg_fatal("bind %s port %s: %m") — master exits 1 at the first failure, without retrying.
    onFailure: 'exit',
    retry: { attempts: 0, intervalSeconds: 0, exitStatus: POSTFIX_BEHAVIOUR.exitStatus },
  } satisfies DaemonPlan);
  return result;
}

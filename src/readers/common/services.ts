import type { RootFs } from '../../fs/root-fs.js';

/** The ports one service name (or alias) maps to, as getservbyname(3) would answer per protocol. */
export interface ServicePorts {
  tcp?: number;
  udp?: number;
  /** 1-based line in /etc/services of the tcp entry, when read from the root. */
  tcpLine?: number;
  /** 1-based line in /etc/services of the udp entry, when read from the root. */
  udpLine?: number;
}

export const SERVICES_PATH = '/etc/services';

/**
 * Well-known ports used when the root has no /etc/services (an appliance image without netbase, a fixture).
 * Every answer taken from here is marked `assumed` so the derivation can say so.
 */
const BUILTIN_SERVICES: ReadonlyArray<readonly [names: string[], port: number, protos: ('tcp' | 'udp')[]]> = [
  [['ssh'], 22, ['tcp']],
  [['smtp', 'mail'], 25, ['tcp']],
  [['domain'], 53, ['tcp', 'udp']],
  [['http', 'www'], 80, ['tcp']],
  [['pop3', 'pop-3'], 110, ['tcp']],
  [['imap', 'imap2'], 143, ['tcp']],
  [['https'], 443, ['tcp', 'udp']],
  [['submissions', 'ssmtp', 'smtps', 'urd'], 465, ['tcp']],
  [['submission'], 587, ['tcp']],
  [['imaps'], 993, ['tcp']],
  [['pop3s'], 995, ['tcp']],
];

/**
 * A service-name table. It is a plain `Map` (name or alias → ports) that also says where it came from:
 * `read` from the root's /etc/services, or `assumed` from the built-in well-known ports when the root has none.
 */
export class ServiceTable extends Map<string, ServicePorts> {
  constructor(
    readonly origin: 'read' | 'assumed',
    /** `/etc/services`, or a description of the built-in table. */
    readonly source: string,
    /** The file text, when it was read from the root (for a reader's `sources`). */
    readonly text?: string,
  ) {
    super();
  }

  /** getservbyname(name, proto): exact, case-sensitive match on a name or alias, first entry wins (glibc nss_files). */
  lookup(name: string, proto: 'tcp' | 'udp'): { port: number; line?: number } | undefined {
    const e = this.get(name);
    if (e === undefined) return undefined;
    const port = proto === 'tcp' ? e.tcp : e.udp;
    if (port === undefined) return undefined;
    const line = proto === 'tcp' ? e.tcpLine : e.udpLine;
    return line === undefined ? { port } : { port, line };
  }

  /** How a lookup was answered, for derivation strings. */
  describe(name: string, proto: 'tcp' | 'udp'): string {
    const r = this.lookup(name, proto);
    if (r === undefined) {
      return this.origin === 'read'
        ? `"${name}/${proto}" is not in ${this.source}`
        : `"${name}/${proto}" is not in bindcheck's built-in table (assumed: the root has no ${SERVICES_PATH})`;
    }
    return this.origin === 'read'
      ? `"${name}" resolved to ${r.port}/${proto} via ${this.source}${r.line !== undefined ? `:${r.line}` : ''}`
      : `"${name}" resolved to ${r.port}/${proto} via bindcheck's built-in table (assumed: the root has no ${SERVICES_PATH})`;
  }
}

/** Parse /etc/services text the way glibc's nss_files does: `name port/proto [aliases…] [# comment]`. */
export function parseServices(text: string, source = SERVICES_PATH): ServiceTable {
  const table = new ServiceTable('read', source, text);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const fields = line.split(/[ \t\r\f\v]+/).filter((f) => f.length > 0);
    if (fields.length < 2) continue;
    const m = /^(\d+)\/([A-Za-z0-9_-]+)$/.exec(fields[1] as string);
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2];
    if (!Number.isSafeInteger(port) || port > 65535) continue;
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const names = [fields[0] as string, ...fields.slice(2)];
    for (const name of names) {
      let e = table.get(name);
      if (e === undefined) {
        e = {};
        table.set(name, e);
      }
      // First entry wins, as getservbyname returns the first matching line.
      if (proto === 'tcp' && e.tcp === undefined) {
        e.tcp = port;
        e.tcpLine = i + 1;
      } else if (proto === 'udp' && e.udp === undefined) {
        e.udp = port;
        e.udpLine = i + 1;
      }
    }
  }
  return table;
}

/** The built-in well-known ports, marked `assumed`. */
export function builtinServices(): ServiceTable {
  const table = new ServiceTable('assumed', 'built-in well-known ports');
  for (const [names, port, protos] of BUILTIN_SERVICES) {
    for (const name of names) {
      const e: ServicePorts = table.get(name) ?? {};
      for (const p of protos) e[p] = port;
      table.set(name, e);
    }
  }
  return table;
}

/**
 * Service names of the scanned root: its /etc/services when it has one (even an empty or unreadable one is the
 * root's answer — getservbyname would fail there too), else the built-in well-known ports, marked `assumed`.
 */
export function readServices(fs: RootFs): ServiceTable {
  const r = fs.readText(SERVICES_PATH);
  if (r.ok) return parseServices(r.text, SERVICES_PATH);
  if (r.failure === 'not-found') return builtinServices();
  // Present but unreadable: the daemon's own lookup would fail the same way; answer nothing.
  return new ServiceTable('read', `${SERVICES_PATH} (unreadable: ${r.message})`);
}

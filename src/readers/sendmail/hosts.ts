import type { RootFs } from '../../fs/root-fs.js';
import { anynetPton6, formatIPv4, formatIPv6, inetAton } from './inet-addr.js';

export const HOSTS_PATH = '/etc/hosts';

interface HostsEntry {
  family: 'inet' | 'inet6';
  address: string;
  names: string[];
  line: number;
}

/** Resolves `Addr=<host name>` for one address family; undefined when the name is unknown. */
export interface HostResolver {
  lookup(name: string, family: 'inet' | 'inet6'): { address: string; where: string } | undefined;
}

/**
 * The root's /etc/hosts, used to resolve `Addr=<host name>` offline. glibc's files backend returns the first
 * line whose address has the requested family and whose canonical name or alias matches, case-insensitively.
 */
export class HostsTable implements HostResolver {
  constructor(
    private readonly entries: HostsEntry[],
    /** Whether the root has a readable /etc/hosts. */
    readonly present: boolean,
  ) {}

  lookup(name: string, family: 'inet' | 'inet6'): { address: string; where: string } | undefined {
    const n = name.toLowerCase();
    for (const e of this.entries) {
      if (e.family !== family) continue;
      if (e.names.some((x) => x.toLowerCase() === n)) return { address: e.address, where: `${HOSTS_PATH}:${e.line}` };
    }
    return undefined;
  }
}

export function parseHosts(text: string): HostsTable {
  const entries: HostsEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const f = line.split(/[ \t\r\f\v]+/).filter((x) => x.length > 0);
    if (f.length < 2) continue;
    const addr = f[0] as string;
    // glibc's files backend parses addresses with inet_pton, so only plain dotted quads and IPv6 text count.
    if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(addr)) {
      const v = inetAton(addr);
      if (v === undefined) continue;
      entries.push({ family: 'inet', address: formatIPv4(v), names: f.slice(1), line: i + 1 });
    } else if (addr.includes(':')) {
      const g = anynetPton6(addr);
      if (g === undefined || addr.toLowerCase().startsWith('ipv6:')) continue;
      entries.push({ family: 'inet6', address: formatIPv6(g), names: f.slice(1), line: i + 1 });
    }
  }
  return new HostsTable(entries, true);
}

/** Read the root's /etc/hosts; `text` is returned so the caller can keep it in `sources`. */
export function readHosts(fs: RootFs): { table: HostsTable; text?: string } {
  const r = fs.readText(HOSTS_PATH);
  if (!r.ok) return { table: new HostsTable([], false) };
  return { table: parseHosts(r.text), text: r.text };
}

/** Reads the root's /etc/hosts on the first lookup only, so a config without host names reads nothing extra. */
export class LazyHosts implements HostResolver {
  private table: HostsTable | undefined;

  constructor(
    private readonly fs: RootFs,
    private readonly onRead: (path: string, text: string) => void,
  ) {}

  lookup(name: string, family: 'inet' | 'inet6'): { address: string; where: string } | undefined {
    if (this.table === undefined) {
      const h = readHosts(this.fs);
      this.table = h.table;
      if (h.text !== undefined) this.onRead(HOSTS_PATH, h.text);
    }
    return this.table.lookup(name, family);
  }
}

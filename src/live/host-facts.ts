import { RootFs } from '../fs/root-fs.js';
import type { Fact, HostFacts } from '../model/live.js';
import { readWhole } from './proc-files.js';
import { ipv6Text } from './proc-net.js';

/** Linux defaults, for an image that has no /proc: what a fresh network namespace starts with. */
const DEFAULT_LOCAL = ['127.0.0.0/8', '::1'];

/**
 * The host facts that decide whether a bind() succeeds, read from the root's /proc: local addresses
 * (/proc/net/fib_trie, /proc/net/if_inet6) and the sysctls of the reader's network namespace. Anything missing is
 * the Linux default, marked `assumed`. Like /proc/net, /proc/sys/net describes the reading process's namespace.
 */
export function readHostFacts(root: string): HostFacts {
  const rootFs = new RootFs(root);
  const fib = readProcText(rootFs, '/proc/net/fib_trie');
  const inet6 = readProcText(rootFs, '/proc/net/if_inet6');
  const netDir = rootFs.isDirectory('/proc/net');
  const v4 = fib !== undefined ? parseFibTrieLocal(fib) : undefined;
  const v6 = inet6 !== undefined ? parseIfInet6(inet6) : undefined;
  const localAddresses: Fact<string[]> =
    v4 === undefined && v6 === undefined
      ? { value: DEFAULT_LOCAL, origin: 'assumed', source: '/proc/net/fib_trie' }
      : {
          value: [...(v4 ?? ['127.0.0.0/8']), ...(v6 ?? [])],
          origin: 'read',
          source: [v4 !== undefined ? '/proc/net/fib_trie' : '', v6 !== undefined ? '/proc/net/if_inet6' : ''].filter(Boolean).join(', '),
        };
  return {
    localAddresses,
    bindV6Only: boolSysctl(rootFs, '/proc/sys/net/ipv6/bindv6only', false),
    unprivilegedPortStart: intSysctl(rootFs, '/proc/sys/net/ipv4/ip_unprivileged_port_start', 1024),
    ipNonlocalBind: boolSysctl(rootFs, '/proc/sys/net/ipv4/ip_nonlocal_bind', false),
    ipv6NonlocalBind: boolSysctl(rootFs, '/proc/sys/net/ipv6/ip_nonlocal_bind', false),
    // With /proc/net present, a missing if_inet6 means the kernel has no IPv6 (ipv6.disable=1); with no /proc at all
    // nothing is known and the Linux default (IPv6 on) is assumed.
    // A file that is there but could not be read (a FIFO, a device, too large) says nothing either way.
    ipv6: inet6 !== undefined ? { value: true, origin: 'read', source: '/proc/net/if_inet6' } : netDir && !rootFs.exists('/proc/net/if_inet6') ? { value: false, origin: 'read', source: '/proc/net/if_inet6' } : { value: true, origin: 'assumed', source: '/proc/net/if_inet6' },
  };
}

function readProcText(rootFs: RootFs, file: string): string | undefined {
  const r = rootFs.resolve(file);
  if (!r.ok) return undefined;
  const read = readWhole(r.hostPath);
  return 'buf' in read ? read.buf.toString('latin1') : undefined;
}

function intSysctl(rootFs: RootFs, file: string, dflt: number): Fact<number> {
  const text = readProcText(rootFs, file);
  const n = text !== undefined && /^\s*-?\d+\s*$/.test(text) ? Number(text.trim()) : undefined;
  return n !== undefined ? { value: n, origin: 'read', source: file } : { value: dflt, origin: 'assumed', source: file };
}

function boolSysctl(rootFs: RootFs, file: string, dflt: boolean): Fact<boolean> {
  const f = intSysctl(rootFs, file, dflt ? 1 : 0);
  return { value: f.value !== 0, origin: f.origin, source: f.source };
}

/**
 * Local IPv4 addresses from /proc/net/fib_trie: a `|-- ADDR` leaf followed by `/LEN host LOCAL` is a local route
 * (net/ipv4/fib_trie.c fib_route_seq_show). /32 entries are single addresses; a wider one (127.0.0.0/8) makes
 * the whole prefix local and is kept as CIDR. The Main and Local tables repeat entries; each is kept once.
 */
export function parseFibTrieLocal(text: string): string[] {
  const out = new Set<string>();
  let leaf: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('|-- ')) {
      leaf = line.slice(4).trim();
      continue;
    }
    const m = /^\/(\d+) host LOCAL$/.exec(line);
    if (m && leaf !== undefined) out.add(m[1] === '32' ? leaf : `${leaf}/${m[1]}`);
  }
  return [...out];
}

/** /proc/net/if_inet6: `ADDR IFINDEX PREFIXLEN SCOPE FLAGS IFNAME`, ADDR as 32 hex digits in network order. */
export function parseIfInet6(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[0] ?? '';
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) continue;
    const bytes: number[] = [];
    for (let i = 0; i < 32; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
    out.add(ipv6Text(bytes));
  }
  return [...out];
}

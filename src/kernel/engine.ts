import type { Family, Proto } from '../model/endpoint.js';
import {
  type KernelAddress,
  type LocalAddresses,
  isLocalIn,
  localAddressSet,
  needsScopeId,
  isMulticast,
  isWildcard,
  kernelAddress,
  parseAddress,
  rcvSaddrEqual,
} from './address.js';
import type { BindErrno, NamespaceConfig } from './types.js';

/**
 * The concrete kernel: every flag known. This file is a transcription of the decisions Linux 6.x makes in
 * __inet_bind / __inet6_bind, inet_csk_get_port, inet_csk_bind_conflict / inet_bhash2_conflict,
 * inet_csk_update_fastreuse / sk_reuseport_match, inet_csk_listen_start and udp_lib_get_port /
 * udp_lib_lport_inuse. SimulatedNamespace replays its history through this engine once per assignment of
 * unknown flags.
 */

export type KState = 'unbound' | 'bound' | 'listening' | 'time-wait' | 'established' | 'closed';

export interface KSockOptions {
  proto: Proto;
  family: Family;
  reuseAddr: boolean;
  reusePort: boolean;
  v6Only: boolean;
  uid: number;
  /** CAP_NET_BIND_SERVICE, which __inet_bind checks (inet_port_requires_bind_service + ns_capable). */
  capNetBindService: boolean;
  freeBind: boolean;
  device?: string;
}

export interface KSock extends KSockOptions {
  id: number;
  state: KState;
  addr?: KernelAddress;
  port?: number;
  /** sk_ipv6only as the kernel holds it now (forced on by __inet6_bind for specific IPv6 addresses). */
  ipv6only: boolean;
}

export type ConflictRule =
  | 'tcp-no-reuse'
  | 'tcp-holder-listening'
  | 'tcp-reuseport-uid'
  | 'udp-no-reuse'
  | 'udp-reuseport-uid';

export type KResult =
  | { ok: true; port?: number }
  | { ok: false; errno: BindErrno; detail: string; holder?: number; rule?: ConflictRule };

/** FASTREUSEPORT_ANY / FASTREUSEPORT_STRICT from include/net/inet_hashtables.h. */
const FASTREUSEPORT_ANY = 1;
const FASTREUSEPORT_STRICT = 2;

/** struct inet_bind_bucket: one per TCP port, with the "fast path" summary of its owners. */
interface TcpBucket {
  fastReuse: number;
  fastReusePort: number;
  fastUid: number;
  fastAddr?: KernelAddress;
  fastIpv6Only: boolean;
  owners: KSock[];
}

const EPHEMERAL_LOW = 32768;

export class KernelState {
  private readonly socks = new Map<number, KSock>();
  private readonly tcp = new Map<number, TcpBucket>();
  /** UDP primary hash slot per port, newest first (udp_lib_get_port adds with sk_add_node_rcu at the head). */
  private readonly udp = new Map<number, KSock[]>();
  private readonly local: LocalAddresses;

  constructor(private readonly cfg: Required<NamespaceConfig>) {
    this.local = localAddressSet(cfg.localAddresses);
  }

  get(id: number): KSock | undefined {
    return this.socks.get(id);
  }

  create(id: number, o: KSockOptions): void {
    this.socks.set(id, { ...o, id, state: 'unbound', ipv6only: o.family === 'inet6' && o.v6Only });
  }

  /** Places a socket seen live into the tables, as if it had been bound (and listened) in adoption order. */
  adopt(id: number, o: KSockOptions, address: string, port: number, state: Exclude<KState, 'unbound' | 'closed'>): void {
    const addr = kernelAddress(o.family, address);
    // A bound or listening socket went through __inet6_bind(), which forces V6ONLY for a specific address; a
    // connected one may not have (accepted children inherit the listener's flag, connect() never sets it).
    const forced = (state === 'bound' || state === 'listening') && addr.v6Type === 'other';
    const sk: KSock = { ...o, id, state, addr, port, ipv6only: o.family === 'inet6' && (o.v6Only || forced) };
    this.socks.set(id, sk);
    if (o.proto === 'udp') {
      this.udpSlot(port).unshift(sk);
      return;
    }
    const tb = this.tcpBucket(port);
    updateFastReuse(tb, sk, sk.reuseAddr && state !== 'listening');
    tb.owners.push(sk);
  }

  bind(id: number, address: string, port: number): KResult {
    const sk = this.mustGet(id);
    const pre = this.validateBind(sk, address, port);
    if (pre) return pre;
    const addr = kernelAddress(sk.family, parseAddress(address)?.text ?? address);
    const savedIpv6only = sk.ipv6only;
    // __inet6_bind(): "if (addr_type != IPV6_ADDR_ANY && addr_type != IPV6_ADDR_MAPPED) sk->sk_ipv6only = 1",
    // set before get_port() and restored if it fails.
    if (sk.family === 'inet6' && addr.v6Type === 'other') sk.ipv6only = true;
    sk.addr = addr;
    const chosen = port === 0 ? this.ephemeralPort(sk.proto) : port;
    const r = sk.proto === 'tcp' ? this.tcpGetPort(sk, chosen, false) : this.udpGetPort(sk, chosen);
    if (!r.ok) {
      sk.ipv6only = savedIpv6only;
      delete sk.addr;
      return r;
    }
    sk.port = chosen;
    sk.state = 'bound';
    return port === 0 ? { ok: true, port: chosen } : { ok: true };
  }

  listen(id: number): KResult {
    const sk = this.mustGet(id);
    // inet_dgram_ops.listen is sock_no_listen.
    if (sk.proto === 'udp') return { ok: false, errno: 'EOPNOTSUPP', detail: 'listen() is not supported on UDP sockets' };
    if (sk.state === 'listening') return { ok: true }; // inet_listen() only updates the backlog
    if (sk.state !== 'unbound' && sk.state !== 'bound') {
      return { ok: false, errno: 'EINVAL', detail: `listen() on a socket in state ${sk.state}` };
    }
    if (sk.state === 'unbound') {
      // inet_csk_listen_start() -> get_port(sk, 0): autobind to an ephemeral port on the wildcard.
      sk.addr = kernelAddress(sk.family, sk.family === 'inet' ? '0.0.0.0' : '::');
      const port = this.ephemeralPort('tcp');
      const prev = sk.state;
      sk.state = 'listening';
      const r = this.tcpGetPort(sk, port, true);
      if (!r.ok) {
        sk.state = prev;
        delete sk.addr;
        return r;
      }
      sk.port = port;
      return { ok: true, port };
    }
    // inet_csk_listen_start(): the state becomes TCP_LISTEN *before* get_port() re-validates the port, so the
    // socket no longer counts as reusable (reuse = sk_reuse && state != LISTEN) and holders that are listening
    // now conflict even though bind() succeeded next to them.
    sk.state = 'listening';
    const r = this.tcpGetPort(sk, sk.port ?? 0, true);
    if (!r.ok) sk.state = 'bound'; // inet_sk_set_state(sk, TCP_CLOSE): still bound
    return r;
  }

  close(id: number): void {
    const sk = this.socks.get(id);
    if (!sk || sk.state === 'closed') return;
    if (sk.port !== undefined) {
      if (sk.proto === 'udp') {
        const slot = this.udp.get(sk.port);
        if (slot) {
          const rest = slot.filter((s) => s !== sk);
          if (rest.length) this.udp.set(sk.port, rest);
          else this.udp.delete(sk.port);
        }
      } else {
        const tb = this.tcp.get(sk.port);
        if (tb) {
          tb.owners = tb.owners.filter((s) => s !== sk);
          // inet_bind_bucket_destroy() once no bhash2 bucket (owner) is left: the fast-path summary resets.
          if (tb.owners.length === 0) this.tcp.delete(sk.port);
        }
      }
    }
    sk.state = 'closed';
  }

  private mustGet(id: number): KSock {
    const sk = this.socks.get(id);
    if (!sk) throw new Error(`unknown socket ${id}`);
    return sk;
  }

  private tcpBucket(port: number): TcpBucket {
    let tb = this.tcp.get(port);
    if (!tb) {
      tb = { fastReuse: 0, fastReusePort: 0, fastUid: 0, fastIpv6Only: false, owners: [] };
      this.tcp.set(port, tb);
    }
    return tb;
  }

  private udpSlot(port: number): KSock[] {
    let s = this.udp.get(port);
    if (!s) {
      s = [];
      this.udp.set(port, s);
    }
    return s;
  }

  /** Port 0 is modelled simply: the lowest port from 32768 that nothing of this protocol uses. */
  private ephemeralPort(proto: Proto): number {
    const used = proto === 'tcp' ? this.tcp : this.udp;
    let p = EPHEMERAL_LOW;
    while (used.has(p)) p++;
    return p;
  }

  /** Address, privilege and state checks, in the order __inet_bind() / __inet6_bind() make them. */
  private validateBind(sk: KSock, address: string, port: number): KResult | undefined {
    const p = parseAddress(address);
    if (!p) return { ok: false, errno: 'EINVAL', detail: `${JSON.stringify(address)} is not an address` };
    return sk.family === 'inet' ? this.validateInet(sk, p.text, p.family, port) : this.validateInet6(sk, p.text, p.family, port);
  }

  private privileged(sk: KSock, port: number): boolean {
    // inet_port_requires_bind_service(): port < ip_unprivileged_port_start needs CAP_NET_BIND_SERVICE.
    return port !== 0 && port < this.cfg.unprivilegedPortStart && !sk.capNetBindService;
  }

  private v4Usable(v4: string, nonlocalOk: boolean): boolean {
    // inet_addr_valid_or_nonlocal(): nonlocal allowed, INADDR_ANY, or inet_addr_type() LOCAL/MULTICAST/BROADCAST.
    if (nonlocalOk || v4 === '0.0.0.0') return true;
    if (isLocalIn(this.local, v4)) return true;
    return v4 === '255.255.255.255' || isMulticast(v4);
  }

  private validateInet(sk: KSock, text: string, fam: Family, port: number): KResult | undefined {
    // __inet_bind(): sin_family != AF_INET -> EAFNOSUPPORT (a sockaddr_in6 is long enough to get this far).
    if (fam !== 'inet') {
      return { ok: false, errno: 'EAFNOSUPPORT', detail: `${text} is an IPv6 address but the socket is AF_INET` };
    }
    // __inet_bind() checks the address before the port privilege.
    if (!this.v4Usable(text, this.cfg.nonLocalBind || sk.freeBind)) {
      return { ok: false, errno: 'EADDRNOTAVAIL', detail: `${text} is not a local address (and neither IP_FREEBIND nor ip_nonlocal_bind is set)` };
    }
    if (this.privileged(sk, port)) {
      return { ok: false, errno: 'EACCES', detail: `port ${port} is below ip_unprivileged_port_start (${this.cfg.unprivilegedPortStart}) and the binder (uid ${sk.uid}) lacks CAP_NET_BIND_SERVICE` };
    }
    if (sk.state !== 'unbound') return { ok: false, errno: 'EINVAL', detail: 'the socket is already bound' };
    return undefined;
  }

  private validateInet6(sk: KSock, text: string, fam: Family, port: number): KResult | undefined {
    // inet6_bind_sk(): addr_len < SIN6_LEN_RFC2133 (a sockaddr_in) -> EINVAL.
    if (fam !== 'inet6') {
      return { ok: false, errno: 'EINVAL', detail: `${text} is an IPv4 address but the socket is AF_INET6 (use ::ffff:${text})` };
    }
    const mapped = kernelAddress('inet6', text).v6Type === 'mapped';
    // __inet6_bind(): multicast on SOCK_STREAM is rejected before anything else.
    if (!mapped && isMulticast(text) && sk.proto === 'tcp') {
      return { ok: false, errno: 'EINVAL', detail: `${text} is multicast and the socket is TCP` };
    }
    // __inet6_bind() checks the port privilege *before* the address (unlike __inet_bind()).
    if (this.privileged(sk, port)) {
      return { ok: false, errno: 'EACCES', detail: `port ${port} is below ip_unprivileged_port_start (${this.cfg.unprivilegedPortStart}) and the binder (uid ${sk.uid}) lacks CAP_NET_BIND_SERVICE` };
    }
    if (sk.state !== 'unbound') return { ok: false, errno: 'EINVAL', detail: 'the socket is already bound' };
    if (mapped) {
      if (sk.ipv6only) {
        return { ok: false, errno: 'EINVAL', detail: `${text} is v4-mapped but the socket has IPV6_V6ONLY` };
      }
      // "Reproduce AF_INET checks": the IPv4 sysctl ip_nonlocal_bind governs mapped addresses.
      const v4 = kernelAddress('inet6', text).v4;
      if (!this.v4Usable(v4, this.cfg.nonLocalBind || sk.freeBind)) {
        return { ok: false, errno: 'EADDRNOTAVAIL', detail: `${v4} is not a local address (and neither IP_FREEBIND nor ip_nonlocal_bind is set)` };
      }
      return undefined;
    }
    if (isWildcard(text)) return undefined;
    const bare = text.split('%')[0] ?? text;
    if (needsScopeId(bare) && !sk.device && !text.includes('%')) {
      return { ok: false, errno: 'EINVAL', detail: `${text} is link-scoped and needs a scope id or SO_BINDTODEVICE` };
    }
    if (isMulticast(bare)) return undefined;
    if (this.cfg.ipv6NonLocalBind || sk.freeBind) return undefined;
    // ipv6_chk_addr(net, addr, dev, 0): host- and link-scoped addresses (::1, fe80::/10) only count on their device.
    const local = isLocalIn(this.local, bare) && !(bare === '::1' && sk.device !== undefined && sk.device !== 'lo');
    if (!local) {
      return { ok: false, errno: 'EADDRNOTAVAIL', detail: `${text} is not a local address (and neither IPV6_FREEBIND nor ipv6 ip_nonlocal_bind is set)` };
    }
    return undefined;
  }

  /** inet_csk_get_port() for a given port, including the fast paths and inet_csk_update_fastreuse(). */
  private tcpGetPort(sk: KSock, port: number, listening: boolean): KResult {
    const reuse = sk.reuseAddr && !listening;
    const existing = this.tcp.get(port);
    let check = true;
    if (existing && existing.owners.length > 0) {
      // Fast paths: the bucket's summary says every owner is compatible (fastreuse / sk_reuseport_match()).
      if ((existing.fastReuse > 0 && reuse) || reuseportMatch(existing, sk)) check = false;
    }
    if (check && existing) {
      const c = tcpFindConflict(sk, existing.owners);
      if (c) {
        return {
          ok: false,
          errno: 'EADDRINUSE',
          detail: 'address already in use',
          holder: c.holder.id,
          rule: c.rule,
        };
      }
    }
    const tb = this.tcpBucket(port);
    updateFastReuse(tb, sk, reuse);
    if (!tb.owners.includes(sk)) tb.owners.push(sk);
    return { ok: true };
  }

  /** udp_lib_get_port() with a small slot (hslot->count <= 10): udp_lib_lport_inuse() on the primary hash. */
  private udpGetPort(sk: KSock, port: number): KResult {
    const slot = this.udpSlot(port);
    for (const sk2 of slot) {
      if (sk2 === sk) continue;
      if (sk2.reuseAddr && sk.reuseAddr) continue;
      if (!devicesMeet(sk, sk2)) continue;
      if (!sk.addr || !sk2.addr || !rcvSaddrEqual(sk.addr, sk.ipv6only, sk2.addr, sk2.ipv6only, true)) continue;
      // The first overlapping entry decides: a SO_REUSEPORT match returns "not in use" without looking further.
      if (sk2.reusePort && sk.reusePort && sk.uid === sk2.uid) break;
      const rule: ConflictRule = sk.reusePort && sk2.reusePort ? 'udp-reuseport-uid' : 'udp-no-reuse';
      return { ok: false, errno: 'EADDRINUSE', detail: 'address already in use', holder: sk2.id, rule };
    }
    slot.unshift(sk);
    return { ok: true };
  }
}

/** sk_bound_dev_if check shared by inet_bind_conflict() and udp_lib_lport_inuse(). */
export function devicesMeet(a: { device?: string | undefined }, b: { device?: string | undefined }): boolean {
  return !a.device || !b.device || a.device === b.device;
}

/**
 * inet_bind_conflict() with relax = true, reuseport_ok = true (the bind()/listen() case): do the two sockets'
 * flags and states forbid sharing, provided their addresses overlap?
 */
export function tcpFlagsConflict(sk: KSock, sk2: KSock): ConflictRule | undefined {
  if (!devicesMeet(sk, sk2)) return undefined;
  if (sk.reuseAddr && sk2.reuseAddr && sk2.state !== 'listening') return undefined;
  if (sk.reusePort && sk2.reusePort && (sk2.state === 'time-wait' || sk.uid === sk2.uid)) return undefined;
  if (sk.reusePort && sk2.reusePort) return 'tcp-reuseport-uid';
  if (sk.reuseAddr && sk2.reuseAddr) return 'tcp-holder-listening';
  return 'tcp-no-reuse';
}

/** inet_use_bhash2_on_bind(): specific addresses are checked through the (port, address) buckets. */
function useBhash2(sk: KSock): boolean {
  const a = sk.addr;
  if (!a) return false;
  if (a.family === 'inet6') {
    if (a.v6Type === 'any') return false;
    if (a.v6Type === 'other') return true;
  }
  return a.v4 !== '0.0.0.0';
}

/** inet_bind2_bucket_match_addr_any(): is sk2's (port, address) bucket a wildcard one that covers sk? */
function bucketIsAnyFor(sk2: KernelAddress, sk: KernelAddress): boolean {
  if (sk2.family === 'inet6' && sk2.v6Type === 'any') return true;
  if (sk2.v6Type !== 'mapped') return false;
  if (sk.family === 'inet6' && sk.v6Type !== 'mapped') return false;
  return sk2.v4 === '0.0.0.0';
}

/** inet_bind2_bucket_addr_match(): same (port, address) bucket; AF_INET addresses are stored v4-mapped. */
function sameBucket(sk2: KernelAddress, sk: KernelAddress): boolean {
  if (sk.family === 'inet6') {
    if (sk.v6Type === 'mapped') return sk2.v6Type === 'mapped' && sk2.v4 === sk.v4;
    return sk2.family === 'inet6' && sk2.text === sk.text;
  }
  return sk2.v6Type === 'mapped' && sk2.v4 === sk.v4;
}

/**
 * inet_csk_bind_conflict() plus, for a specific address, inet_bhash2_addr_any_conflict(): the first owner that
 * forbids the bind, or undefined.
 */
export function tcpFindConflict(sk: KSock, owners: readonly KSock[]): { holder: KSock; rule: ConflictRule } | undefined {
  const a = sk.addr;
  if (!a) return undefined;
  const bhash2 = useBhash2(sk);
  for (const sk2 of owners) {
    if (sk2 === sk || !sk2.addr) continue;
    if (bhash2) {
      if (!bucketIsAnyFor(sk2.addr, a) && !sameBucket(sk2.addr, a)) continue;
      // __inet_bhash2_conflict(): a V6ONLY holder never meets an IPv4 (or v4-mapped) socket.
      if (sk2.ipv6only && (sk.family === 'inet' || a.v6Type === 'mapped')) continue;
      const rule = tcpFlagsConflict(sk, sk2);
      if (rule) return { holder: sk2, rule };
    } else {
      const rule = tcpFlagsConflict(sk, sk2);
      if (rule && rcvSaddrEqual(a, sk.ipv6only, sk2.addr, sk2.ipv6only, true)) return { holder: sk2, rule };
    }
  }
  return undefined;
}

/** sk_reuseport_match(): the bucket's SO_REUSEPORT summary admits sk without walking the owners. */
function reuseportMatch(tb: TcpBucket, sk: KSock): boolean {
  if (tb.fastReusePort <= 0 || !sk.reusePort || tb.fastUid !== sk.uid) return false;
  if (tb.fastReusePort === FASTREUSEPORT_ANY) return true;
  const fast = tb.fastAddr;
  if (!fast || !sk.addr) return false;
  // ipv6_rcv_saddr_equal / ipv4_rcv_saddr_equal with the bucket's address as sk1 (wildcard allowed), sk2 exact.
  return fastAddrCovers(fast, tb.fastIpv6Only, sk.addr, sk.ipv6only);
}

function fastAddrCovers(fast: KernelAddress, fastV6Only: boolean, a: KernelAddress, aV6Only: boolean): boolean {
  if (fast.family === 'inet6') {
    if (fast.v6Type === 'mapped' && a.v6Type === 'mapped') {
      if (aV6Only) return false;
      return fast.v4 === a.v4 || fast.v4 === '0.0.0.0';
    }
    if (fast.v6Type === 'any' && a.v6Type === 'any') return true;
    if (fast.v6Type === 'any' && !(fastV6Only && a.v6Type === 'mapped')) return true;
    return a.family === 'inet6' && a.text === fast.text;
  }
  if (aV6Only) return false;
  return fast.v4 === a.v4 || fast.v4 === '0.0.0.0';
}

/** inet_csk_update_fastreuse(): keep the bucket's summary in step with the owner being (re)validated. */
function updateFastReuse(tb: TcpBucket, sk: KSock, reuse: boolean): void {
  const record = (mode: number): void => {
    tb.fastReusePort = mode;
    tb.fastUid = sk.uid;
    if (sk.addr) tb.fastAddr = sk.addr;
    tb.fastIpv6Only = sk.ipv6only;
  };
  // "if (hlist_empty(&tb->bhash2))": the first owner of a fresh bucket sets the summary outright.
  if (tb.owners.length === 0) {
    tb.fastReuse = reuse ? 1 : 0;
    if (sk.reusePort) record(FASTREUSEPORT_ANY);
    else tb.fastReusePort = 0;
    return;
  }
  if (!reuse) tb.fastReuse = 0;
  if (sk.reusePort) {
    if (!reuseportMatch(tb, sk)) record(FASTREUSEPORT_STRICT);
  } else {
    tb.fastReusePort = 0;
  }
}

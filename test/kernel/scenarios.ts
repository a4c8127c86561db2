import fc from 'fast-check';
import type { Family, Proto } from '../../src/model/endpoint.js';
import {
  type BindResult,
  type NamespaceConfig,
  type SimSocket,
  SimulatedNamespace,
  addressesOverlap,
  effectiveV6Only,
  parseAddress,
} from '../../src/kernel/index.js';

/** Operations understood by test/kernel/oracle.py (field names are the oracle's). */
export interface SocketOp {
  op: 'socket';
  s: number;
  proto: Proto;
  family: Family;
  reuseaddr: boolean;
  reuseport: boolean;
  v6only: boolean | null;
  freebind: boolean;
  device: string | null;
  uid: number;
}
export type OracleOp =
  | SocketOp
  | { op: 'bind'; s: number; addr: string; port: number }
  | { op: 'listen'; s: number }
  | { op: 'close'; s: number }
  | { op: 'accept'; s: number; child: number; connect: string }
  | { op: 'timewait'; s: number };

export interface Scenario {
  name: string;
  sysctl?: Record<string, string>;
  ops: OracleOp[];
}

/** Addresses oracle.py --setup makes local; 192.0.2.99 / 2001:db8::99 stay non-local. */
export const ORACLE_LOCALS = ['192.0.2.10', '2001:db8::10'];

export const SYSCTL = {
  nonLocal: 'net/ipv4/ip_nonlocal_bind',
  nonLocal6: 'net/ipv6/ip_nonlocal_bind',
  bindV6Only: 'net/ipv6/bindv6only',
  portStart: 'net/ipv4/ip_unprivileged_port_start',
} as const;

function configFor(sc: Scenario): NamespaceConfig {
  const s = sc.sysctl ?? {};
  const cfg: NamespaceConfig = { localAddresses: ORACLE_LOCALS };
  if (s[SYSCTL.nonLocal] !== undefined) cfg.nonLocalBind = s[SYSCTL.nonLocal] === '1';
  if (s[SYSCTL.nonLocal6] !== undefined) cfg.ipv6NonLocalBind = s[SYSCTL.nonLocal6] === '1';
  if (s[SYSCTL.bindV6Only] !== undefined) cfg.bindV6Only = s[SYSCTL.bindV6Only] === '1';
  if (s[SYSCTL.portStart] !== undefined) cfg.unprivilegedPortStart = Number(s[SYSCTL.portStart]);
  return cfg;
}

export function verdict(r: BindResult): string {
  if (r.ok === true) return 'ok';
  if (r.ok === 'unknown') return `UNKNOWN(${r.errno})`;
  return r.errno;
}

/** The local address of a connection accepted by `listener` when a client connects to `target`. */
function childAddress(listener: SimSocket, target: string): string {
  if (listener.options.family === 'inet6' && !target.includes(':')) return `::ffff:${target}`;
  return parseAddress(target)?.text ?? target;
}

/** Runs a scenario through SimulatedNamespace, returning one verdict per operation (same shape as the oracle). */
export function runModel(sc: Scenario): string[] {
  const ns = new SimulatedNamespace(configFor(sc));
  const socks = new Map<number, SimSocket>();
  const out: string[] = [];
  const get = (i: number): SimSocket => {
    const s = socks.get(i);
    if (!s) throw new Error(`${sc.name}: socket ${i} used before creation`);
    return s;
  };
  for (const op of sc.ops) {
    switch (op.op) {
      case 'socket': {
        const s = ns.socket({
          proto: op.proto,
          family: op.family,
          reuseAddr: op.reuseaddr,
          reusePort: op.reuseport,
          ...(op.v6only === null ? {} : { v6Only: op.v6only }),
          uid: op.uid,
          freeBind: op.freebind,
          ...(op.device === null ? {} : { device: op.device }),
          label: `s${op.s}`,
        });
        socks.set(op.s, s);
        out.push('ok');
        break;
      }
      case 'bind':
        out.push(verdict(ns.bind(get(op.s), op.addr, op.port)));
        break;
      case 'listen':
        out.push(verdict(ns.listen(get(op.s))));
        break;
      case 'close':
        ns.close(get(op.s));
        socks.delete(op.s);
        out.push('ok');
        break;
      case 'accept': {
        const l = get(op.s);
        const tf = op.connect.includes(':') ? 'inet6' : 'inet';
        const reaches = (a: string): boolean => addressesOverlap(l.options.family, a, l.options.v6Only === true, tf, op.connect, false);
        if (l.state !== 'listening' || l.port === undefined || l.address === undefined || !reaches(l.address)) {
          out.push('ECONNREFUSED');
          break;
        }
        const o = l.options;
        const child = ns.adopt({
          proto: 'tcp',
          family: o.family,
          address: childAddress(l, op.connect),
          port: l.port,
          state: 'established',
          uid: o.uid,
          reuseAddr: o.reuseAddr,
          reusePort: o.reusePort,
          // sk_clone_lock() copies sk_ipv6only, including the value __inet6_bind() forced on the listener.
          v6Only: effectiveV6Only(o.family, l.address, o.v6Only === true),
          ...(o.device === undefined ? {} : { device: o.device }),
          label: `s${op.child}`,
        });
        socks.set(op.child, child);
        out.push('ok');
        break;
      }
      case 'timewait': {
        if (!socks.has(op.s)) {
          out.push('NOCHILD');
          break;
        }
        const c = get(op.s);
        ns.close(c);
        socks.delete(op.s);
        const o = c.options;
        ns.adopt({
          proto: 'tcp',
          family: o.family,
          address: c.address ?? '',
          port: c.port ?? 0,
          state: 'time-wait',
          uid: o.uid,
          reuseAddr: o.reuseAddr,
          reusePort: o.reusePort,
          v6Only: o.v6Only,
          label: `tw${op.s}`,
        });
        out.push('ok');
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Generation

export interface SockConf {
  family: Family;
  addr: string;
  reuseaddr: boolean;
  reuseport: boolean;
  v6only: boolean | null;
  uid: number;
  device?: string | null;
  freebind?: boolean;
}

const V4_ADDRS = ['0.0.0.0', '127.0.0.1', '127.0.0.2'];
const V6_ADDRS = ['::', '::1', '::ffff:127.0.0.1'];
const UIDS = [0, 65534];

/** Every socket configuration of the pair grid: 3 IPv4 + 3 IPv6 addresses × reuseaddr × reuseport × v6only × uid. */
export function pairConfs(): SockConf[] {
  const out: SockConf[] = [];
  for (const family of ['inet', 'inet6'] as const) {
    for (const addr of family === 'inet' ? V4_ADDRS : V6_ADDRS) {
      for (const reuseaddr of [false, true]) {
        for (const reuseport of [false, true]) {
          for (const v6only of family === 'inet' ? [null] : [false, true]) {
            for (const uid of UIDS) out.push({ family, addr, reuseaddr, reuseport, v6only, uid });
          }
        }
      }
    }
  }
  return out;
}

export function sockOp(s: number, proto: Proto, c: SockConf): SocketOp {
  return {
    op: 'socket',
    s,
    proto,
    family: c.family,
    reuseaddr: c.reuseaddr,
    reuseport: c.reuseport,
    v6only: c.v6only,
    freebind: c.freebind ?? false,
    device: c.device ?? null,
    uid: c.uid,
  };
}

export function confName(c: SockConf): string {
  const f = [c.reuseaddr ? 'RA' : '', c.reuseport ? 'RP' : '', c.v6only ? 'V6O' : '', c.device ? `dev=${c.device}` : '', c.freebind ? 'FB' : '']
    .filter(Boolean)
    .join('+');
  return `${c.family}/${c.addr}${f ? `[${f}]` : ''}/u${c.uid}`;
}

/** TCP orders over a pair: A then B bind, then listens in both orders; and A listening before B binds. */
export type PairOrder = 'bind-bind-listenA-listenB' | 'bind-bind-listenB-listenA' | 'A-listens-then-B' | 'udp';

export function pairScenario(proto: Proto, order: PairOrder, a: SockConf, b: SockConf, port: number): Scenario {
  const ops: OracleOp[] = [sockOp(0, proto, a), sockOp(1, proto, b)];
  const bindA: OracleOp = { op: 'bind', s: 0, addr: a.addr, port };
  const bindB: OracleOp = { op: 'bind', s: 1, addr: b.addr, port };
  switch (order) {
    case 'udp':
      ops.push(bindA, bindB);
      break;
    case 'bind-bind-listenA-listenB':
      ops.push(bindA, bindB, { op: 'listen', s: 0 }, { op: 'listen', s: 1 });
      break;
    case 'bind-bind-listenB-listenA':
      ops.push(bindA, bindB, { op: 'listen', s: 1 }, { op: 'listen', s: 0 });
      break;
    case 'A-listens-then-B':
      ops.push(bindA, { op: 'listen', s: 0 }, bindB, { op: 'listen', s: 1 });
      break;
  }
  return { name: `${proto} ${order}: A=${confName(a)} B=${confName(b)}`, ops };
}

/** Allocates ports: a small reusable pool for scenarios that leave nothing behind, unique ones otherwise. */
export class PortPlan {
  private pool = 0;
  private unique = 21000;
  private priv = 0;
  reusable(): number {
    return 20000 + (this.pool++ % 1000);
  }
  fresh(): number {
    if (this.unique >= 32700) throw new Error('out of unique ports');
    return this.unique++;
  }
  privileged(): number {
    return 600 + (this.priv++ % 400);
  }
}

/** Single-socket validity scenarios: addresses (local, non-local, mapped, multicast), privilege, sysctls, order. */
export function validityScenarios(ports: PortPlan): Scenario[] {
  const out: Scenario[] = [];
  const addrs = [
    '0.0.0.0', '127.0.0.1', '127.0.0.2', '192.0.2.10', '192.0.2.99', '224.0.0.1', '255.255.255.255',
    '::', '::1', '2001:db8::10', '2001:db8::99', '::ffff:127.0.0.1', '::ffff:192.0.2.99', '::ffff:0.0.0.0', 'ff02::1', 'fe80::1',
  ];
  const sysctls: Record<string, string>[] = [
    {},
    { [SYSCTL.nonLocal]: '1' },
    { [SYSCTL.nonLocal6]: '1' },
    { [SYSCTL.portStart]: '700' },
  ];
  for (const sysctl of sysctls) {
    for (const proto of ['tcp', 'udp'] as const) {
      for (const family of ['inet', 'inet6'] as const) {
        for (const addr of addrs) {
          for (const uid of UIDS) {
            for (const freebind of [false, true]) {
              for (const v6only of family === 'inet' ? [null] : [false, true]) {
                for (const privileged of [false, true]) {
                  const port = privileged ? ports.privileged() : ports.reusable();
                  const c: SockConf = { family, addr, reuseaddr: false, reuseport: false, v6only, uid, freebind };
                  // A second bind on the same socket probes EINVAL ("already bound") against the other checks.
                  const again = privileged ? '192.0.2.99' : '127.0.0.1';
                  out.push({
                    name: `${proto} ${confName(c)} port ${port} ${JSON.stringify(sysctl)}`,
                    ...(Object.keys(sysctl).length ? { sysctl } : {}),
                    ops: [
                      sockOp(0, proto, c),
                      { op: 'bind', s: 0, addr, port },
                      { op: 'bind', s: 0, addr: family === 'inet' ? again : '2001:db8::99', port },
                    ],
                  });
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** bindv6only sysctl: the IPV6_V6ONLY default, against an IPv4 wildcard. */
export function bindV6OnlyScenarios(ports: PortPlan): Scenario[] {
  const out: Scenario[] = [];
  for (const val of ['0', '1']) {
    for (const proto of ['tcp', 'udp'] as const) {
      for (const v4 of ['0.0.0.0', '127.0.0.1']) {
        const port = ports.reusable();
        const a: SockConf = { family: 'inet6', addr: '::', reuseaddr: false, reuseport: false, v6only: null, uid: 0 };
        const b: SockConf = { family: 'inet', addr: v4, reuseaddr: false, reuseport: false, v6only: null, uid: 0 };
        out.push({
          name: `bindv6only=${val} ${proto} [::] then ${v4}`,
          sysctl: { [SYSCTL.bindV6Only]: val },
          ops: [sockOp(0, proto, a), { op: 'bind', s: 0, addr: '::', port }, sockOp(1, proto, b), { op: 'bind', s: 1, addr: v4, port }, { op: 'bind', s: 0, addr: '::ffff:127.0.0.1', port }],
        });
      }
    }
  }
  return out;
}

/** SO_BINDTODEVICE pairs over lo / v0 / v1 / none. */
export function deviceScenarios(ports: PortPlan): Scenario[] {
  const out: Scenario[] = [];
  const devs = [null, 'lo', 'v0', 'v1'];
  const addrs: [Family, string][] = [['inet', '0.0.0.0'], ['inet', '127.0.0.1'], ['inet6', '::'], ['inet6', '::1'], ['inet6', '2001:db8::10']];
  for (const proto of ['tcp', 'udp'] as const) {
    for (const da of devs) {
      for (const db of devs) {
        for (const [fa, aa] of addrs) {
          for (const [fb, ab] of addrs) {
            const port = ports.reusable();
            const a: SockConf = { family: fa, addr: aa, reuseaddr: false, reuseport: false, v6only: null, uid: 0, device: da };
            const b: SockConf = { family: fb, addr: ab, reuseaddr: false, reuseport: false, v6only: null, uid: 0, device: db };
            const ops: OracleOp[] = [sockOp(0, proto, a), sockOp(1, proto, b), { op: 'bind', s: 0, addr: aa, port }];
            if (proto === 'tcp') ops.push({ op: 'listen', s: 0 });
            ops.push({ op: 'bind', s: 1, addr: ab, port });
            out.push({ name: `${proto} devices A=${confName(a)} B=${confName(b)}`, ops });
          }
        }
      }
    }
  }
  return out;
}

/** Established children and TIME_WAIT holders: listener L, a connection, optionally TIME_WAIT, then B binds. */
export function connectionScenarios(ports: PortPlan): Scenario[] {
  const out: Scenario[] = [];
  const listeners: [Family, string, string][] = [
    ['inet', '0.0.0.0', '127.0.0.1'],
    ['inet', '127.0.0.1', '127.0.0.1'],
    ['inet6', '::', '::1'],
    ['inet6', '::', '127.0.0.1'],
    ['inet6', '::1', '::1'],
  ];
  const bs: [Family, string][] = [['inet', '0.0.0.0'], ['inet', '127.0.0.1'], ['inet', '127.0.0.6'], ['inet6', '::'], ['inet6', '::1']];
  for (const [lf, la, target] of listeners) {
    for (const lra of [false, true]) {
      for (const lrp of [false, true]) {
        for (const tw of [false, true]) {
          for (const [bf, ba] of bs) {
            for (const bra of [false, true]) {
              for (const brp of [false, true]) {
                for (const buid of [0, 65534]) {
                  if (buid !== 0 && !brp) continue;
                  const port = ports.fresh();
                  const l: SockConf = { family: lf, addr: la, reuseaddr: lra, reuseport: lrp, v6only: null, uid: 0 };
                  const b: SockConf = { family: bf, addr: ba, reuseaddr: bra, reuseport: brp, v6only: null, uid: buid };
                  const ops: OracleOp[] = [
                    sockOp(0, 'tcp', l),
                    { op: 'bind', s: 0, addr: la, port },
                    { op: 'listen', s: 0 },
                    { op: 'accept', s: 0, child: 1, connect: target },
                  ];
                  if (tw) ops.push({ op: 'timewait', s: 1 });
                  ops.push({ op: 'close', s: 0 }, sockOp(2, 'tcp', b), { op: 'bind', s: 2, addr: ba, port }, { op: 'listen', s: 2 });
                  out.push({ name: `L=${confName(l)} via ${target}${tw ? ' TIME_WAIT' : ' ESTABLISHED'}; B=${confName(b)}`, ops });
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

const RANDOM_ADDRS: [Family, string][] = [
  ['inet', '0.0.0.0'], ['inet', '127.0.0.1'], ['inet', '127.0.0.2'], ['inet', '192.0.2.99'],
  ['inet6', '::'], ['inet6', '::1'], ['inet6', '::ffff:127.0.0.1'], ['inet6', '::ffff:0.0.0.0'],
];

/** fast-check sequences: up to 5 sockets, random binds / listens / closes / connections on two ports. */
export function randomScenarios(ports: PortPlan, count: number, seed: number): Scenario[] {
  const confArb = fc.record({
    proto: fc.constantFrom<Proto>('tcp', 'udp'),
    family: fc.constantFrom<Family>('inet', 'inet6'),
    reuseaddr: fc.boolean(),
    reuseport: fc.boolean(),
    v6only: fc.constantFrom<boolean | null>(null, true, false),
    uid: fc.constantFrom(0, 65534),
  });
  const stepArb = fc.record({
    kind: fc.constantFrom('bind', 'bind', 'bind', 'listen', 'listen', 'close', 'accept', 'timewait'),
    sock: fc.nat(4),
    addr: fc.nat(RANDOM_ADDRS.length - 1),
    portIdx: fc.nat(1),
  });
  const seqArb = fc.record({ confs: fc.array(confArb, { minLength: 2, maxLength: 5 }), steps: fc.array(stepArb, { minLength: 3, maxLength: 10 }) });
  const samples = fc.sample(seqArb, { numRuns: count, seed });
  return samples.map((seq, n) => {
    const p = [ports.fresh(), ports.fresh()];
    const ops: OracleOp[] = [];
    const created = new Map<number, { proto: Proto; family: Family; bound?: string }>();
    const children = new Map<number, number>();
    let nextChild = 10;
    for (const step of seq.steps) {
      const i = step.sock % seq.confs.length;
      const c = seq.confs[i];
      if (!c) continue;
      if (!created.has(i)) {
        ops.push({ op: 'socket', s: i, proto: c.proto, family: c.family, reuseaddr: c.reuseaddr, reuseport: c.reuseport, v6only: c.family === 'inet6' ? c.v6only : null, freebind: false, device: null, uid: c.uid });
        created.set(i, { proto: c.proto, family: c.family });
      }
      const st = created.get(i);
      if (!st) continue;
      const port = p[step.portIdx] ?? 0;
      const pick = RANDOM_ADDRS.filter(([f]) => f === c.family);
      const [, addr] = pick[step.addr % pick.length] ?? ['inet', '127.0.0.1'];
      switch (step.kind) {
        case 'bind':
          ops.push({ op: 'bind', s: i, addr, port });
          if (st.bound === undefined) st.bound = addr;
          break;
        case 'listen':
          if (st.proto === 'tcp') ops.push({ op: 'listen', s: i });
          break;
        case 'close':
          ops.push({ op: 'close', s: i });
          created.delete(i);
          break;
        case 'accept': {
          if (st.proto !== 'tcp' || st.bound === undefined || st.bound === '192.0.2.99' || children.size >= 2) break;
          const b = st.bound;
          const target = b === '0.0.0.0' || b === '::ffff:0.0.0.0' || b === '::ffff:127.0.0.1' ? '127.0.0.1' : b === '::' ? (step.addr % 2 ? '::1' : '127.0.0.1') : b;
          // Only connect when the model says this socket listens on its first bind; otherwise the oracle would
          // reach whatever else listens there.
          ops.push({ op: 'accept', s: i, child: nextChild, connect: target });
          children.set(nextChild, i);
          nextChild++;
          break;
        }
        case 'timewait': {
          const first = [...children.keys()][0];
          if (first === undefined) break;
          ops.push({ op: 'timewait', s: first });
          children.delete(first);
          break;
        }
      }
    }
    return { name: `random #${n} (seed ${seed})`, ops };
  });
}

/**
 * Two kernel behaviours the model reproduces on purpose: the TCP fast path (a FASTREUSEPORT_STRICT summary admits a
 * socket the owner walk would refuse) and UDP's first-match walk (a SO_REUSEPORT match ends the search early).
 */
export function quirkScenarios(ports: PortPlan): Scenario[] {
  const c = (reuseaddr: boolean, reuseport: boolean, uid: number, addr: string): SockConf => ({ family: 'inet', addr, reuseaddr, reuseport, v6only: null, uid });
  const tcpPort = ports.fresh();
  const udpPort = ports.fresh();
  return [
    {
      name: 'tcp sk_reuseport_match() STRICT fast path admits 127.0.0.1 despite a uid-65534 SO_REUSEPORT wildcard',
      ops: [
        sockOp(0, 'tcp', c(true, true, 0, '127.0.0.1')), sockOp(1, 'tcp', c(true, true, 65534, '0.0.0.0')), sockOp(2, 'tcp', c(false, true, 0, '127.0.0.1')),
        { op: 'bind', s: 0, addr: '127.0.0.1', port: tcpPort }, { op: 'bind', s: 1, addr: '0.0.0.0', port: tcpPort },
        { op: 'listen', s: 0 }, { op: 'bind', s: 2, addr: '127.0.0.1', port: tcpPort },
      ],
    },
    {
      name: 'udp_lib_lport_inuse() stops at the newest overlapping holder',
      ops: [
        sockOp(0, 'udp', c(true, false, 0, '127.0.0.1')), sockOp(1, 'udp', c(true, true, 0, '0.0.0.0')), sockOp(2, 'udp', c(false, true, 0, '127.0.0.1')),
        { op: 'bind', s: 0, addr: '127.0.0.1', port: udpPort }, { op: 'bind', s: 1, addr: '0.0.0.0', port: udpPort },
        { op: 'bind', s: 2, addr: '127.0.0.1', port: udpPort },
      ],
    },
  ];
}

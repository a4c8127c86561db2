import { SimulatedNamespace, type SimSocketView as SimSocket } from '../kernel/index.js';
import type { HostFacts, LiveSocket } from '../model/live.js';
import { formatEndpoint } from '../model/endpoint.js';
import { failurePolicy, type DaemonPlan, type PlannedSocket } from '../model/planned.js';

/** A socket that stood in the way: one of a daemon's planned sockets, or a live socket on the host. */
export type Holder =
  | { kind: 'planned'; daemon: number; socket: number }
  | { kind: 'live'; socket: number };

export type SocketOutcome =
  | { ok: true }
  | {
      ok: false;
      call: 'bind' | 'listen';
      errno: string;
      reason: string;
      holder?: Holder;
      /** Set when the verdict rests on a socket option /proc cannot show. */
      dependsOn?: string[];
    }
  | {
      ok: false;
      call: 'none';
      reason: string;
      /** Never created because the socket it stands in for was (PlannedSocket.fallbackFor): not a failure. */
      notNeeded?: true;
      /** Bound, then closed by the daemon itself when another socket of its set failed (PlannedSocket.group). */
      closedByGroup?: true;
    };

export interface DaemonPrediction {
  /** Index into Inventory.daemons. */
  daemon: number;
  /** One outcome per planned socket, in the daemon's order. */
  outcomes: SocketOutcome[];
  /** Whether the daemon comes up with every non-optional socket. */
  starts: boolean;
}

/** A live socket a daemon must share the host with, plus what is known of its options. */
export interface LiveHolder {
  index: number;
  socket: LiveSocket;
  reuseAddr?: boolean;
  reusePort?: boolean;
  v6Only?: boolean;
}

export function namespaceFor(facts: HostFacts): SimulatedNamespace {
  return new SimulatedNamespace({
    localAddresses: facts.localAddresses.value,
    unprivilegedPortStart: facts.unprivilegedPortStart.value,
    nonLocalBind: facts.ipNonlocalBind.value,
    ipv6NonLocalBind: facts.ipv6NonlocalBind.value,
    bindV6Only: facts.bindV6Only.value,
  });
}

/** Whether a live socket belongs to the daemon itself (its own running instance is no conflict). */
export function isOwnSocket(plan: DaemonPlan, live: LiveSocket): boolean {
  return live.owners.some(
    (p) => plan.processNames.includes(p.comm) || (p.unit !== undefined && plan.units.includes(p.unit)),
  );
}

function liveState(s: LiveSocket): 'listening' | 'bound' | 'time-wait' | 'established' {
  if (s.proto === 'udp') return s.state === 'ESTABLISHED' ? 'established' : 'bound';
  if (s.state === 'LISTEN') return 'listening';
  if (s.state === 'TIME_WAIT') return 'time-wait';
  return 'established';
}

/** Put live sockets into a namespace; flags /proc cannot show stay unknown unless the caller knows them. */
export function adoptLive(ns: SimulatedNamespace, holders: LiveHolder[], refs: Map<SimSocket, Holder>): void {
  for (const h of holders) {
    const s = h.socket;
    const sim = ns.adopt({
      proto: s.proto,
      family: s.family,
      address: s.address,
      port: s.port,
      state: liveState(s),
      uid: s.uid,
      reuseAddr: h.reuseAddr ?? 'unknown',
      reusePort: h.reusePort ?? 'unknown',
      v6Only: h.v6Only ?? 'unknown',
      label: `live ${s.proto} ${s.address}:${s.port}`,
    });
    refs.set(sim, { kind: 'live', socket: h.index });
  }
}

function openSocket(ns: SimulatedNamespace, p: PlannedSocket): SimSocket {
  const opts: Parameters<SimulatedNamespace['socket']>[0] = {
    proto: p.proto,
    family: p.family,
    reuseAddr: p.reuseAddr,
    reusePort: p.reusePort,
    uid: p.uid,
    label: `${p.daemon} ${p.name}`,
  };
  if (p.v6Only !== undefined) opts.v6Only = p.v6Only;
  if (p.capNetBindService !== undefined) opts.capNetBindService = p.capNetBindService;
  if (p.freeBind !== undefined) opts.freeBind = p.freeBind;
  if (p.device !== undefined) opts.device = p.device;
  return ns.socket(opts);
}

type CallResult = ReturnType<SimulatedNamespace['bind']>;

function toOutcome(call: 'bind' | 'listen', r: CallResult, refs: Map<SimSocket, Holder>): SocketOutcome {
  if (r.ok === true) return { ok: true };
  const out: SocketOutcome = { ok: false, call, errno: r.errno, reason: r.reason };
  const holder = r.conflictsWith ? refs.get(r.conflictsWith) : undefined;
  if (holder) out.holder = holder;
  if (r.ok === 'unknown') out.dependsOn = r.dependsOn;
  return out;
}

/**
 * Replay one daemon's first start attempt in a namespace, in the daemon's own order of bind() and listen()
 * calls. The namespace keeps the daemon's sockets afterwards, so a second daemon can be started next to it.
 */
export function replayDaemon(
  ns: SimulatedNamespace,
  plan: DaemonPlan,
  daemonIndex: number,
  refs: Map<SimSocket, Holder>,
): SocketOutcome[] {
  const outcomes: SocketOutcome[] = plan.sockets.map(() => ({ ok: false, call: 'none', reason: 'not attempted' }));
  const sims: (SimSocket | undefined)[] = [];
  let stopped = false;
  const giveUp = (i: number): void => {
    if (plan.sockets[i]?.optional || hasFallback(plan, i) || failurePolicy(plan, errnoOf(outcomes[i])) !== 'exit') return;
    stopped = true;
    const why = `${plan.daemon} gives up after ${plan.sockets[i]?.name ?? 'a socket'} fails, before reaching this one`;
    for (let j = 0; j < plan.sockets.length; j++) {
      const o = outcomes[j];
      if (j !== i && o && o.ok === false && o.call === 'none') outcomes[j] = { ok: false, call: 'none', reason: why };
    }
  };
  const groupOff = new Set<string>();
  // PlannedSocket.group: the failed socket's set is given up whole — those already open are closed, the rest skipped.
  const giveUpGroup = (i: number): void => {
    const g = plan.sockets[i]?.group;
    const errno = errnoOf(outcomes[i]);
    if (!g || errno === undefined || !g.errnos.includes(errno)) return;
    groupOff.add(g.name);
    const failed = plan.sockets[i] as PlannedSocket;
    for (let j = 0; j < plan.sockets.length; j++) {
      if (j === i || plan.sockets[j]?.group?.name !== g.name) continue;
      const sim = sims[j];
      if (sim) {
        ns.close(sim);
        sims[j] = undefined;
        outcomes[j] = { ok: false, call: 'none', reason: `bound, then closed: ${plan.daemon} turns its ${g.name} off when ${failed.name} fails with ${errno}`, closedByGroup: true };
      } else if (j > i) {
        outcomes[j] = { ok: false, call: 'none', reason: `not attempted: ${plan.daemon} turned its ${g.name} off after ${failed.name} failed with ${errno}` };
      }
    }
  };
  const bindOne = (i: number): boolean => {
    const p = plan.sockets[i] as PlannedSocket;
    if (p.group && groupOff.has(p.group.name)) return false;
    const primary = p.fallbackFor !== undefined ? plan.sockets[p.fallbackFor] : undefined;
    if (p.fallbackFor !== undefined && outcomes[p.fallbackFor]?.ok === true) {
      const covers = primary ? formatEndpoint({ address: primary.address, port: primary.port }) : 'the socket before it';
      outcomes[i] = { ok: false, call: 'none', reason: `not needed: ${plan.daemon} creates it only if ${covers} fails, and that socket serves IPv4 too`, notNeeded: true };
      return false;
    }
    const sim = openSocket(ns, p);
    refs.set(sim, { kind: 'planned', daemon: daemonIndex, socket: i });
    const r = ns.bind(sim, p.address, p.port);
    if (r.ok !== true) {
      outcomes[i] = toOutcome('bind', r, refs);
      ns.close(sim);
      giveUpGroup(i);
      giveUp(i);
      return false;
    }
    sims[i] = sim;
    outcomes[i] = { ok: true };
    return true;
  };
  const listenOne = (i: number): void => {
    const p = plan.sockets[i] as PlannedSocket;
    const sim = sims[i];
    if (!sim || !p.listens) return;
    const r = ns.listen(sim);
    if (r.ok !== true) {
      outcomes[i] = toOutcome('listen', r, refs);
      ns.close(sim);
      sims[i] = undefined;
      giveUpGroup(i);
      giveUp(i);
    }
  };
  if (plan.startup === 'bind-all-then-listen') {
    for (let i = 0; i < plan.sockets.length && !stopped; i++) bindOne(i);
    let listenedUpTo = -1;
    for (let i = 0; i < plan.sockets.length && !stopped; i++) {
      listenOne(i);
      listenedUpTo = i;
    }
    // Sockets bound in the first pass whose listen() the daemon never reached.
    for (let i = listenedUpTo + 1; i < plan.sockets.length; i++) {
      const o = outcomes[i];
      if (o?.ok === true && plan.sockets[i]?.listens) {
        outcomes[i] = { ok: false, call: 'none', reason: `bound, but ${plan.daemon} gives up before calling listen() on it` };
      }
    }
  } else {
    for (let i = 0; i < plan.sockets.length && !stopped; i++) {
      if (bindOne(i)) listenOne(i);
    }
  }
  return outcomes;
}

/**
 * Whether the daemon comes up: with every non-optional socket, or — where the daemon carries on without a failed
 * socket for that error (sshd) — with at least one. A failure the daemon covers with a fallback socket that was
 * created does not count; neither does a fallback that was not needed. A daemon with no sockets has nothing to fail.
 */
export function daemonStarts(plan: DaemonPlan, outcomes: SocketOutcome[]): boolean {
  const failed = outcomes.filter(
    (o, i) =>
      o.ok === false &&
      plan.sockets[i]?.optional !== true &&
      !(o.call === 'none' && o.notNeeded) &&
      !fallbackCovers(plan, outcomes, i) &&
      !groupGivenUp(plan, outcomes, i),
  );
  if (failed.length === 0) return true;
  if (failed.every((o) => failurePolicy(plan, errnoOf(o)) === 'continue')) return outcomes.some((o) => o.ok === true);
  return false;
}

/** Whether socket `i` belongs to a set (PlannedSocket.group) the daemon gave up whole: it runs on without the set. */
export function groupGivenUp(plan: DaemonPlan, outcomes: readonly SocketOutcome[], i: number): boolean {
  const g = plan.sockets[i]?.group;
  if (!g) return false;
  return plan.sockets.some((s, k) => {
    const e = errnoOf(outcomes[k]);
    return s.group?.name === g.name && e !== undefined && g.errnos.includes(e);
  });
}

/** Whether a later socket of the plan stands in for socket `i` when it fails. */
export function hasFallback(plan: DaemonPlan, i: number): boolean {
  return plan.sockets.some((s) => s.fallbackFor === i);
}

/** Whether socket `i` failed and the socket standing in for it was created: the daemon runs on without it. */
export function fallbackCovers(plan: DaemonPlan, outcomes: readonly SocketOutcome[], i: number): boolean {
  if (outcomes[i]?.ok !== false) return false;
  return plan.sockets.some((s, k) => s.fallbackFor === i && outcomes[k]?.ok === true);
}

/** The errno of a failed outcome; undefined for success and for calls never made. */
export function errnoOf(o: SocketOutcome | undefined): string | undefined {
  return o && o.ok === false && o.call !== 'none' ? o.errno : undefined;
}

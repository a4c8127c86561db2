import type { SimSocketView as SimSocket } from '../kernel/index.js';
import type { Inventory } from '../model/inventory.js';
import type { LiveSocket } from '../model/live.js';
import type { DaemonPlan } from '../model/planned.js';
import { pairOrder, type PairOrder } from './boot-order.js';
import {
  adoptLive,
  daemonStarts,
  isOwnSocket,
  namespaceFor,
  replayDaemon,
  type DaemonPrediction,
  type Holder,
  type LiveHolder,
  type SocketOutcome,
} from './startup.js';

/**
 * Two daemons that cannot both start, for one start order — or, with `partial`, whose second keeps running but
 * without sockets it has when started alone (a DNS stub that turns itself off, sshd skipping an address).
 */
export interface PairConflict {
  /** Started first (index into Inventory.daemons). */
  first: number;
  /** Started second: the one that loses. */
  second: number;
  /** Outcomes of the second daemon's sockets when started after the first. */
  outcomes: SocketOutcome[];
  /**
   * Indices of the second daemon's sockets that are created when it starts alone but not after the first: failed
   * calls, and sockets the daemon then closes or never creates.
   */
  lost: number[];
  /** The second daemon still starts, without the `lost` sockets. */
  partial?: true;
  /** What the daemons' systemd units say about which starts first at boot; `a` is the lower daemon index. Shared by both orders. */
  order?: PairOrder;
}

export interface Analysis {
  /** Each daemon started alone on the host as it is (its own running sockets set aside). */
  predictions: DaemonPrediction[];
  /** Pairs of daemons that cannot both start, in each start order that fails. */
  pairConflicts: PairConflict[];
  /** Live sockets the analysis considered, with what is known of their options. */
  liveHolders: LiveHolder[];
}

/** Known options of live sockets (e.g. from a test harness or strace); /proc alone never shows them. */
export interface KnownLiveOptions {
  reuseAddr?: boolean;
  reusePort?: boolean;
  v6Only?: boolean;
}

function holdersExcept(holders: LiveHolder[], exclude: (s: LiveSocket) => boolean): LiveHolder[] {
  return holders.filter((h) => !exclude(h.socket));
}

/** Run every daemon's start through the kernel model, alone and in pairs. Pure: reads only the Inventory. */
export function analyze(inv: Inventory, known: ReadonlyMap<LiveSocket, KnownLiveOptions> = new Map()): Analysis {
  const liveHolders: LiveHolder[] = inv.liveSockets.map((socket, index) => ({ index, socket, ...known.get(socket) }));

  const predictions = inv.daemons.map((plan, d): DaemonPrediction => {
    const ns = namespaceFor(inv.hostFacts);
    const refs = new Map<SimSocket, Holder>();
    adoptLive(ns, holdersExcept(liveHolders, (s) => isOwnSocket(plan, s)), refs);
    const outcomes = replayDaemon(ns, plan, d, refs);
    return { daemon: d, outcomes, starts: daemonStarts(plan, outcomes) };
  });

  const pairConflicts: PairConflict[] = [];
  const orders = new Map<string, PairOrder>();
  for (let a = 0; a < inv.daemons.length; a++) {
    for (let b = 0; b < inv.daemons.length; b++) {
      if (a === b) continue;
      const pa = inv.daemons[a];
      const pb = inv.daemons[b];
      if (!pa || !pb || !sharePort(pa.sockets, pb.sockets)) continue;
      // Set both daemons' running sockets aside: on a live host one of the two usually holds the port already.
      const others = holdersExcept(liveHolders, (s) => isOwnSocket(pa, s) || isOwnSocket(pb, s));
      // Only a pair where each starts fine alone says something about the pair.
      const aloneA = alone(inv, others, pa, a);
      const aloneB = alone(inv, others, pb, b);
      if (!daemonStarts(pa, aloneA) || !daemonStarts(pb, aloneB)) continue;
      const ns = namespaceFor(inv.hostFacts);
      const refs = new Map<SimSocket, Holder>();
      adoptLive(ns, others, refs);
      replayDaemon(ns, pa, a, refs);
      const outcomes = replayDaemon(ns, pb, b, refs);
      // Sockets the second daemon has alone and loses next to the first.
      const lost = outcomes.flatMap((o, i) => (aloneB[i]?.ok === true && o.ok === false ? [i] : []));
      const starts = daemonStarts(pb, outcomes);
      if (starts && lost.length === 0) continue;
      const key = `${Math.min(a, b)}:${Math.max(a, b)}`;
      let order = orders.get(key);
      if (!order) {
        const lo = inv.daemons[Math.min(a, b)] as DaemonPlan;
        const hi = inv.daemons[Math.max(a, b)] as DaemonPlan;
        order = pairOrder(inv.unitGraph, lo, hi);
        orders.set(key, order);
      }
      const pc: PairConflict = { first: a, second: b, outcomes, lost, order };
      if (starts) pc.partial = true;
      pairConflicts.push(pc);
    }
  }
  return { predictions, pairConflicts, liveHolders };
}

/** The daemon's outcomes when it starts alone next to `holders`. */
function alone(inv: Inventory, holders: LiveHolder[], plan: DaemonPlan, index: number): SocketOutcome[] {
  const ns = namespaceFor(inv.hostFacts);
  const refs = new Map<SimSocket, Holder>();
  adoptLive(ns, holders, refs);
  return replayDaemon(ns, plan, index, refs);
}

function sharePort(a: { proto: string; port: number }[], b: { proto: string; port: number }[]): boolean {
  return a.some((x) => b.some((y) => x.proto === y.proto && x.port === y.port));
}

import type { Location } from '../model/location.js';
import type { UnitGraph, UnitNode } from '../model/unit-graph.js';

/** One ordering edge: `before` starts (and, for most service types, finishes starting) before `after` starts. */
export interface OrderingStep {
  before: string;
  after: string;
  /** The `After=`/`Before=` line (or symlink, or unit file for what systemd adds itself). */
  source: Location;
  text: string;
  implicit?: boolean;
}

/** Whether a daemon's unit starts at boot, and why (not). */
export interface BootStart {
  /** The daemon's unit found in the root (the first of its unit names that exists). */
  unit?: string;
  /** undefined: cannot tell (no unit, or the root has no default.target). */
  atBoot?: boolean;
  why: string;
  location?: Location;
  /** A .socket unit that starts this service on demand (and holds its port from boot). */
  activatedBy?: string;
}

export type PairVerdict = 'ordered' | 'unordered' | 'cycle' | 'conflicts' | 'not-at-boot' | 'no-units';

/** What systemd's dependencies say about the start order of two daemons. */
export interface PairOrder {
  verdict: PairVerdict;
  a: BootStart;
  b: BootStart;
  /** `ordered`: which of the two starts first. */
  first?: 'a' | 'b';
  /** `ordered`: the chain from the first unit to the second; `cycle`: from a to b. */
  path?: OrderingStep[];
  /** `cycle`: from b back to a. */
  reversePath?: OrderingStep[];
  /**
   * `ordered`, but the first unit's start job ends before it has bound (Type=simple, exec, idle): systemd starts
   * the second once the first's process exists, so which binds first is a race.
   */
  racy?: string;
  /** `conflicts`: the Conflicts= that keeps the two from running together. */
  conflict?: OrderingStep;
}

/** Service types whose start job ends before the daemon has done anything (service_enter_start, service.c). */
const START_ENDS_AT_FORK = new Set(['simple', 'exec', 'idle']);

function nodeMap(graph: UnitGraph): Map<string, UnitNode> {
  const m = new Map<string, UnitNode>();
  for (const n of graph.units) {
    m.set(n.id, n);
    for (const a of n.aliases) if (!m.has(a)) m.set(a, n);
  }
  return m;
}

/**
 * The units the boot transaction starts: default.target and, transitively, what each pulls in (Requires=, Wants=,
 * BindsTo=, Upholds=, the .wants/ directories, DefaultDependencies' Requires=sysinit.target). Masked and missing
 * units get no start job. Undefined when the root has no default.target.
 */
export function bootSet(graph: UnitGraph): Set<string> | undefined {
  if (!graph.defaultTarget) return undefined;
  const nodes = nodeMap(graph);
  const out = new Set<string>();
  const queue = [graph.defaultTarget.id];
  for (let qi = 0; qi < queue.length; qi++) {
    const n = nodes.get(queue[qi] as string);
    if (!n || n.state !== 'loaded' || out.has(n.id)) continue;
    out.add(n.id);
    for (const d of n.pulls) queue.push(d.unit);
  }
  return out;
}

/**
 * Every ordering edge between units in `within` (all units when undefined), both directions merged: `B After=A`
 * and `A Before=B` are both A → B. Only units with a start job hold others back (job_is_runnable(), job.c), so
 * edges through units the boot does not start are left out.
 */
export function orderingEdges(graph: UnitGraph, within?: ReadonlySet<string>): Map<string, OrderingStep[]> {
  const nodes = nodeMap(graph);
  const edges = new Map<string, OrderingStep[]>();
  const inside = (id: string): boolean => {
    const n = nodes.get(id);
    return n !== undefined && n.state === 'loaded' && (within === undefined || within.has(n.id));
  };
  const add = (s: OrderingStep): void => {
    if (!inside(s.before) || !inside(s.after) || s.before === s.after) return;
    const list = edges.get(s.before) ?? [];
    list.push(s);
    edges.set(s.before, list);
  };
  for (const n of graph.units) {
    if (n.state !== 'loaded') continue;
    for (const d of n.after) add({ before: nodes.get(d.unit)?.id ?? d.unit, after: n.id, source: d.source, text: d.text, ...(d.implicit ? { implicit: true } : {}) });
    for (const d of n.before) add({ before: n.id, after: nodes.get(d.unit)?.id ?? d.unit, source: d.source, text: d.text, ...(d.implicit ? { implicit: true } : {}) });
  }
  return edges;
}

/** The shortest chain of ordering edges from one unit to another, if any (breadth-first; cycles cannot hang it). */
export function orderingPath(edges: ReadonlyMap<string, OrderingStep[]>, from: string, to: string): OrderingStep[] | undefined {
  if (from === to) return undefined;
  const via = new Map<string, OrderingStep>();
  const seen = new Set<string>([from]);
  const queue = [from];
  for (let qi = 0; qi < queue.length; qi++) {
    const cur = queue[qi] as string;
    for (const e of edges.get(cur) ?? []) {
      if (seen.has(e.after)) continue;
      seen.add(e.after);
      via.set(e.after, e);
      if (e.after === to) {
        const path: OrderingStep[] = [];
        for (let at = to; at !== from; ) {
          const step = via.get(at) as OrderingStep;
          path.unshift(step);
          at = step.before;
        }
        return path;
      }
      queue.push(e.after);
    }
  }
  return undefined;
}

/**
 * Ordering cycles (strongly connected components of more than one unit), each as the sorted unit ids. systemd
 * breaks such a cycle at boot by deleting one start job in it (transaction_verify_order()), which one depends on
 * the transaction, so no order inside a cycle can be predicted.
 */
export function orderingCycles(edges: ReadonlyMap<string, OrderingStep[]>): string[][] {
  // Tarjan's algorithm, iterative so a long chain of units cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const nodes = new Set<string>();
  for (const [k, list] of edges) {
    nodes.add(k);
    for (const e of list) nodes.add(e.after);
  }
  for (const root of [...nodes].sort()) {
    if (index.has(root)) continue;
    const work: { v: string; i: number }[] = [{ v: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1] as { v: string; i: number };
      const succ = edges.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = (succ[top.i++] as OrderingStep).after;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v) as number, index.get(w) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v) as number, low.get(top.v) as number));
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop() as string;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        if (comp.length > 1) out.push(comp.sort());
      }
    }
  }
  return out;
}

function bootStart(graph: UnitGraph, nodes: Map<string, UnitNode>, boot: Set<string> | undefined, names: readonly string[], daemon: string): BootStart {
  const node = names.map((n) => nodes.get(n.includes('.') ? n : `${n}.service`)).find((n) => n !== undefined && n.state !== 'not-found');
  if (!node) return { why: `no systemd unit for ${daemon} in the root (looked for ${names.join(', ') || 'none'})` };
  const out: BootStart = { unit: node.id, why: '' };
  if (node.fragment) out.location = node.fragment;
  const activator = graph.units.find(
    (s) => s.id.endsWith('.socket') && s.state === 'loaded' && (boot === undefined || boot.has(s.id)) && s.before.some((d) => d.implicit && d.unit === node.id),
  );
  if (activator) out.activatedBy = activator.id;
  if (node.state === 'masked') {
    out.atBoot = false;
    out.why = `${node.id} is masked (${node.fragment?.file ?? 'linked to /dev/null'}): systemd does not start it`;
    return out;
  }
  if (!boot) {
    out.why = `the root has no default.target, so whether ${node.id} starts at boot is unknown`;
    return out;
  }
  if (boot.has(node.id)) {
    const puller = graph.units.find((u) => boot.has(u.id) && u.pulls.some((d) => d.unit === node.id));
    const dep = puller?.pulls.find((d) => d.unit === node.id);
    out.atBoot = true;
    out.why = puller && dep ? `${node.id} starts at boot (${dep.text} in ${puller.id})` : `${node.id} starts at boot`;
    if (dep) out.location = dep.source;
    return out;
  }
  out.atBoot = false;
  out.why = activator
    ? `${node.id} is not started at boot but on the first connection to ${activator.id}`
    : `${node.id} is not wanted by any unit the boot starts (disabled): it runs only when started by hand`;
  return out;
}

/**
 * Whether systemd's dependencies order two daemons' units at boot: through the transitive closure of After= and
 * Before= (both directions, aliases resolved, systemd's default dependencies included) over the units the boot
 * starts. `unitsA`/`unitsB` are each daemon's candidate unit names (DaemonPlan.units).
 */
export function pairOrder(
  graph: UnitGraph | undefined,
  a: { daemon: string; units: readonly string[] },
  b: { daemon: string; units: readonly string[] },
): PairOrder {
  if (!graph) {
    const why = (d: string): string => `no systemd units were read for ${d}`;
    return { verdict: 'no-units', a: { why: why(a.daemon) }, b: { why: why(b.daemon) } };
  }
  const nodes = nodeMap(graph);
  const boot = bootSet(graph);
  const sa = bootStart(graph, nodes, boot, a.units, a.daemon);
  const sb = bootStart(graph, nodes, boot, b.units, b.daemon);
  const base = { a: sa, b: sb };
  if (sa.unit === undefined && sb.unit === undefined) return { verdict: 'no-units', ...base };
  if (sa.atBoot === false || sb.atBoot === false) return { verdict: 'not-at-boot', ...base };
  if (sa.unit === undefined || sb.unit === undefined) return { verdict: 'unordered', ...base };
  const ua = sa.unit;
  const ub = sb.unit;
  const na = nodes.get(ua);
  const nb = nodes.get(ub);
  const conflict =
    na?.conflicts.find((d) => d.unit === ub) !== undefined
      ? stepOf(ua, ub, na?.conflicts.find((d) => d.unit === ub))
      : nb?.conflicts.find((d) => d.unit === ua) !== undefined
        ? stepOf(ub, ua, nb?.conflicts.find((d) => d.unit === ua))
        : undefined;
  if (conflict) return { verdict: 'conflicts', ...base, conflict };

  const within = boot ? new Set([...boot, ua, ub]) : undefined;
  const edges = orderingEdges(graph, within);
  const ab = orderingPath(edges, ua, ub);
  const ba = orderingPath(edges, ub, ua);
  if (ab && ba) return { verdict: 'cycle', ...base, path: ab, reversePath: ba };
  const path = ab ?? ba;
  if (!path) return { verdict: 'unordered', ...base };
  const first = ab ? 'a' : 'b';
  const out: PairOrder = { verdict: 'ordered', ...base, first, path };
  const firstNode = nodes.get(first === 'a' ? ua : ub);
  const type = firstNode?.serviceType;
  if (type !== undefined && START_ENDS_AT_FORK.has(type)) {
    out.racy = `${firstNode?.id} is Type=${type}: its start job is over once its process runs, not once it has bound, so ${first === 'a' ? ub : ua} may bind first`;
  }
  return out;
}

function stepOf(from: string, to: string, d: { source: Location; text: string; implicit?: boolean } | undefined): OrderingStep | undefined {
  if (!d) return undefined;
  return { before: from, after: to, source: d.source, text: d.text, ...(d.implicit ? { implicit: true } : {}) };
}

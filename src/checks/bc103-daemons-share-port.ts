import type { PairConflict } from '../analysis/analyze.js';
import type { BootStart, OrderingStep, PairOrder } from '../analysis/boot-order.js';
import { isOwnSocket } from '../analysis/startup.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { EvidenceItem, Finding, Severity } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import type { LiveSocket } from '../model/live.js';
import { formatLocation } from '../model/location.js';
import type { DaemonPlan, PlannedSocket } from '../model/planned.js';
import { COMPOSE_BEHAVIOUR } from '../readers/compose/behaviour.js';
import { consequenceEvidence, plannedEvidence, plannedHolder, type FailedSocket } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC103', name: 'daemons-share-port', severity: 'error' } as const;

/** One start order of the pair that fails, ready to explain. */
interface FailingOrder {
  pc: PairConflict;
  winner: DaemonPlan;
  failed: FailedSocket;
}

function failingOrder(inv: Inventory, pc: PairConflict): FailingOrder | undefined {
  const winner = inv.daemons[pc.first];
  const loser = inv.daemons[pc.second];
  if (!winner || !loser) return undefined;
  const failedCall = (k: number) => {
    const o = pc.outcomes[k];
    return o !== undefined && o.ok === false && o.call !== 'none';
  };
  const i = pc.lost.find(failedCall) ?? pc.outcomes.findIndex((_, k) => failedCall(k));
  const o = pc.outcomes[i];
  const socket = loser.sockets[i];
  if (!o || o.ok === true || o.call === 'none' || !socket) return undefined;
  return { pc, winner, failed: { plan: loser, daemonIndex: pc.second, socket, socketIndex: i, outcome: o } };
}

/**
 * `nginx fails if it starts after apache2 (bind() → EADDRINUSE)`, or for a daemon that carries on without the lost
 * sockets: `systemd-resolved runs without tcp/127.0.0.53:53 if it starts after dnsmasq (bind() → EADDRINUSE)`.
 */
function outcomeText(f: FailingOrder): string {
  const what = f.pc.partial ? `runs without ${lostText(f)}` : 'fails';
  return `${f.failed.plan.daemon} ${what} if it starts after ${f.winner.daemon} (${f.failed.outcome.call}() → ${f.failed.outcome.errno})`;
}

function lostText(f: FailingOrder): string {
  const eps = f.pc.lost.map((i) => f.failed.plan.sockets[i]).flatMap((s) => (s ? [formatEndpoint(s)] : []));
  return [...new Set(eps)].join(', ');
}

/**
 * Each of the pair's daemons whose own live socket sits on the contested port now, with that socket: the one at the
 * address of the planned socket that blocked the loser when there is one (resolved holds 127.0.0.53:53 and
 * 127.0.0.54:53; the first blocks dnsmasq), else the first by address — never /proc's hash order.
 */
function liveHoldersOf(inv: Inventory, f: FailingOrder): { daemon: number; socket: LiveSocket }[] {
  const s = f.failed.socket;
  const blocker = plannedHolder(inv, f.failed.outcome.holder);
  const out: { daemon: number; socket: LiveSocket }[] = [];
  for (const d of [f.pc.first, f.pc.second]) {
    const plan = inv.daemons[d];
    if (!plan) continue;
    const candidates = inv.liveSockets
      .filter((l) => l.proto === s.proto && l.port === s.port && (l.proto === 'udp' || l.state === 'LISTEN') && isOwnSocket(plan, l))
      .sort((x, y) => (x.family === y.family ? (x.address < y.address ? -1 : x.address > y.address ? 1 : 0) : x.family === 'inet' ? -1 : 1));
    const live = candidates.find((l) => blocker !== undefined && l.address === blocker.address && l.family === blocker.family) ?? candidates[0];
    if (live) out.push({ daemon: d, socket: live });
  }
  return out;
}

/** The socket's owner with the lowest pid: a forking daemon's workers share its fd, the parent came first. */
function ownerText(l: LiveSocket): string {
  const o = [...l.owners].sort((x, y) => x.pid - y.pid)[0];
  if (!o) return '';
  return ` (pid ${o.pid} ${o.comm}${o.unit ? `, ${o.unit}` : ''})`;
}

function stepEvidence(s: OrderingStep): EvidenceItem {
  return { location: s.source, label: `${s.text}: ${s.before} starts before ${s.after}` };
}

function unitName(b: BootStart, plan: DaemonPlan): string {
  return b.unit ?? plan.daemon;
}

function cite(s: OrderingStep): string {
  const where = s.source.line > 0 ? formatLocation(s.source) : s.source.file;
  return s.implicit ? s.text : `${s.text} at ${where}`;
}

interface Verdict {
  /** The order to explain (its loser is the finding's location). */
  shown: FailingOrder;
  severity: Severity;
  text: string;
  evidence: EvidenceItem[];
}

function bootEvidence(b: BootStart): EvidenceItem[] {
  return b.location ? [{ location: b.location, label: b.why }] : [];
}

/** Decide which order systemd takes and phrase it; `byFirst` maps a daemon index to the failing order it starts first in. */
function verdict(inv: Inventory, order: PairOrder | undefined, lo: number, hi: number, byFirst: Map<number, FailingOrder>): Verdict | undefined {
  const any = byFirst.get(lo) ?? byFirst.get(hi);
  if (!any) return undefined;
  const both = byFirst.has(lo) && byFirst.has(hi);
  const partly = [...byFirst.values()].some((f) => f.pc.partial);
  const either = both
    ? `whichever of the two starts second ${partly ? 'loses' : 'fails'}: ${outcomeText(byFirst.get(lo) as FailingOrder)}; ${outcomeText(byFirst.get(hi) as FailingOrder)}`
    : outcomeText(any);
  const pl = inv.daemons[lo] as DaemonPlan;
  const ph = inv.daemons[hi] as DaemonPlan;
  if (!order || order.verdict === 'no-units') {
    return { shown: any, severity: 'error', text: `no systemd unit orders them: ${either}`, evidence: [] };
  }
  const ua = unitName(order.a, pl);
  const ub = unitName(order.b, ph);
  if (order.verdict === 'conflicts' && order.conflict) {
    return {
      shown: any,
      severity: 'info',
      text: `systemd never runs both (${cite(order.conflict)}: starting one stops the other); started by hand, ${either}`,
      evidence: [{ location: order.conflict.source, label: `${order.conflict.text}: starting ${order.conflict.before} stops ${order.conflict.after}` }],
    };
  }
  if (order.verdict === 'not-at-boot') {
    const off = [order.a, order.b].filter((b) => b.atBoot === false);
    const lateIndex = off.length === 1 ? (order.a.atBoot === false ? lo : hi) : undefined;
    const early = lateIndex === undefined ? undefined : byFirst.get(lateIndex === lo ? hi : lo);
    const why = off.map((b) => b.why).join('; ');
    const then = early
      ? `if it is started while ${early.winner.daemon} runs, ${early.failed.plan.daemon} fails (${early.failed.outcome.call}() → ${early.failed.outcome.errno})`
      : either;
    return {
      shown: early ?? any,
      severity: 'warning',
      text: `${why}; they collide only when started by hand: ${then}`,
      evidence: off.flatMap(bootEvidence),
    };
  }
  const bootNote = [order.a, order.b].filter((b) => b.atBoot === undefined).map((b) => b.why);
  const unknown = bootNote.length > 0 ? ` (${bootNote.join('; ')})` : '';
  if (order.verdict === 'unordered') {
    return {
      shown: any,
      severity: 'error',
      text: `nothing orders ${ua} and ${ub} at boot, so ${either}${unknown}`,
      evidence: [...bootEvidence(order.a), ...bootEvidence(order.b)],
    };
  }
  if (order.verdict === 'cycle') {
    const path = [...(order.path ?? []), ...(order.reversePath ?? [])];
    return {
      shown: any,
      severity: 'error',
      text: `${ua} and ${ub} are in an ordering cycle (systemd breaks it at boot by dropping a start job, which one is not predictable): ${either}`,
      evidence: path.map((s) => ({ ...stepEvidence(s), label: `ordering cycle: ${stepEvidence(s).label}` })),
    };
  }
  // ordered
  const firstIndex = order.first === 'a' ? lo : hi;
  const firstUnit = order.first === 'a' ? ua : ub;
  const secondUnit = order.first === 'a' ? ub : ua;
  const chain = (order.path ?? []).map(cite).join(', then ');
  const evidence = (order.path ?? []).map(stepEvidence);
  const atBoot = byFirst.get(firstIndex);
  if (order.racy) {
    return {
      shown: atBoot ?? any,
      severity: 'error',
      text: `systemd starts ${firstUnit} before ${secondUnit} (${chain}), but ${order.racy}: ${either}${unknown}`,
      evidence,
    };
  }
  if (atBoot) {
    const other = both ? (byFirst.get(firstIndex === lo ? hi : lo) as FailingOrder) : undefined;
    const rest = other
      ? `; ${other.failed.plan.daemon} ${other.pc.partial ? `runs without ${lostText(other)}` : 'fails'} in turn if restarted while ${other.winner.daemon} runs (${other.failed.outcome.call}() → ${other.failed.outcome.errno})`
      : '';
    return {
      shown: atBoot,
      // The boot order's loser keeps running (without the lost sockets): a warning; it exits: an error.
      severity: atBoot.pc.partial ? 'warning' : 'error',
      text: `systemd starts ${firstUnit} first (${chain}), so at boot ${outcomeText(atBoot)}${rest}${unknown}`,
      evidence,
    };
  }
  return {
    shown: any,
    severity: 'warning',
    text: `systemd starts ${firstUnit} first (${chain}), which works at boot; but ${outcomeText(any)}, as on systemctl restart ${unitName(any.failed.daemonIndex === lo ? order.a : order.b, any.failed.plan)}${unknown}`,
    evidence,
  };
}

/**
 * Two containers publishing the same host IP, protocol and port: dockerd's own port allocator refuses the second
 * before any bind() (moby portallocator), so its log says "port is already allocated", not the kernel's EADDRINUSE.
 */
function dockerAllocatorRefusal(loser: DaemonPlan, winner: DaemonPlan, s: PlannedSocket, holder: PlannedSocket | undefined): EvidenceItem | undefined {
  if (loser.daemon !== 'docker' || winner.daemon !== 'docker' || !holder) return undefined;
  if (holder.proto !== s.proto || holder.address !== s.address || holder.port !== s.port) return undefined;
  // portallocator formats the IP as it is, unbracketed: "Bind for :::8080 failed".
  const text = COMPOSE_BEHAVIOUR.messages.alreadyAllocated.replace('{ip}', s.address).replace('{port}', String(s.port));
  return { location: s.source, label: `dockerd's port allocator refuses it before any bind(): "${text}"` };
}

/** Two daemons that each start alone, but not both: whichever starts second loses its socket. */
export const bc103: Check = {
  ...meta,
  summary: 'Two daemons ask for overlapping addresses on the same port; whichever starts second cannot bind.',
  fixable: false,
  inputs: ['config'],
  run(ctx) {
    const inv = ctx.inventory;
    const findings: Finding[] = [];
    const pairs = new Map<string, PairConflict[]>();
    for (const pc of ctx.analysis.pairConflicts) {
      const key = `${Math.min(pc.first, pc.second)}:${Math.max(pc.first, pc.second)}`;
      pairs.set(key, [...(pairs.get(key) ?? []), pc]);
    }
    for (const list of pairs.values()) {
      const head = list[0] as PairConflict;
      const lo = Math.min(head.first, head.second);
      const hi = Math.max(head.first, head.second);
      const byFirst = new Map<number, FailingOrder>();
      for (const pc of list) {
        const f = failingOrder(inv, pc);
        if (f) byFirst.set(pc.first, f);
      }
      const v = verdict(inv, head.order, lo, hi, byFirst);
      if (!v) continue;
      // Both daemons keep running whichever order they start in: one of them runs without some sockets.
      if (v.severity === 'error' && [...byFirst.values()].every((f) => f.pc.partial)) v.severity = 'warning';
      let shown = v.shown;
      let liveText = '';
      const liveEvidence: EvidenceItem[] = [];
      const held = liveHoldersOf(inv, shown);
      const holds = (h: { daemon: number; socket: LiveSocket }): string =>
        `${(inv.daemons[h.daemon] as DaemonPlan).daemon} holds ${formatEndpoint(h.socket)} now${ownerText(h.socket)}`;
      for (const h of held) liveEvidence.push({ location: h.socket.source, label: holds(h) });
      const only = held.length === 1 ? held[0] : undefined;
      if (only) {
        // On the live host the daemon that holds the port now decides who fails next: the other one.
        shown = byFirst.get(only.daemon) ?? shown;
        const holder = inv.daemons[only.daemon] as DaemonPlan;
        const other = shown.failed.plan.daemon === holder.daemon ? undefined : shown.failed.plan.daemon;
        liveText = `; ${holds(only)}${other ? `, ${other} ${shown.pc.partial ? 'runs without it' : 'is the one failing'}` : ''}`;
      } else if (held.length > 1) {
        // Both run: the one that started second carried on without the socket it lost (sshd, BC402's case).
        liveText = `; both run now: ${held.map(holds).join(', ')}`;
      }
      const f = shown.failed;
      const holder = plannedHolder(inv, f.outcome.holder);
      const finding: Finding = {
        ...meta,
        severity: v.severity,
        message: `${f.plan.daemon} and ${shown.winner.daemon} both want ${formatEndpoint(f.socket)}: ${v.text}${liveText}`,
        location: f.socket.source,
        evidence: [],
        rule: f.outcome.reason,
        errno: f.outcome.errno,
        endpoint: { proto: f.socket.proto, address: f.socket.address, port: f.socket.port },
        fixes: [],
        daemon: f.plan.daemon,
      };
      if (holder) finding.evidence.push(plannedEvidence(holder, shown.winner.daemon));
      const allocator = dockerAllocatorRefusal(f.plan, shown.winner, f.socket, holder);
      if (allocator) finding.evidence.push(allocator);
      finding.evidence.push(...v.evidence, ...liveEvidence);
      finding.evidence.push(plannedEvidence(f.socket, f.plan.daemon));
      finding.evidence.push({ location: f.socket.source, label: `started second, ${f.outcome.call}() fails with ${f.outcome.errno}: ${f.outcome.reason}` });
      const then = consequenceEvidence(f);
      if (then) finding.evidence.push(then);
      findings.push(finding);
    }
    return findings;
  },
};

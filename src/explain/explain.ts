import type { Analysis } from '../analysis/analyze.js';
import { addressesOverlap } from '../kernel/index.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { EvidenceItem, Finding, Fix } from '../model/finding.js';
import type { Inventory, UnseenNote } from '../model/inventory.js';
import type { LiveSocket } from '../model/live.js';
import type { DaemonPlan, PlannedSocket } from '../model/planned.js';
import type { LogEvent, RuntimeEvidence, TraceFailure, UnitFacts } from '../model/runtime.js';
import type { WhyTarget } from './target.js';
import { socketUnitHolderSuffix } from '../analysis/socket-unit-holder.js';

export type StepKind = 'config' | 'kernel' | 'live' | 'log' | 'unit' | 'trace' | 'note';

export interface ChainStep extends EvidenceItem {
  kind: StepKind;
}

export interface Explanation {
  target: WhyTarget;
  /** Daemons the target resolved to. */
  daemons: string[];
  /** fails: a socket cannot be created; at-risk: it depends on something unseen; starts; unknown: nothing to go on. */
  status: 'fails' | 'at-risk' | 'starts' | 'unknown';
  verdict: string;
  /** Cause → effect: the config line, the sockets, the kernel rule, the holder, the logs, the unit's end. */
  chain: ChainStep[];
  /** The finding the verdict rests on, and the others about the same daemons. */
  findings: Finding[];
  fixes: Fix[];
  unseen: UnseenNote[];
}

export interface ExplainInput {
  target: WhyTarget;
  inventory: Inventory;
  analysis: Analysis;
  findings: Finding[];
  runtime: RuntimeEvidence;
  /** The recognised event, when the target is a pasted log line. */
  targetEvent?: LogEvent;
}

/** Which daemons (indexes into Inventory.daemons) the target is about. */
export function resolveSubjects(input: ExplainInput): number[] {
  const { target, inventory } = input;
  const all = inventory.daemons.map((_, i) => i);
  if (target.kind === 'unit') {
    return all.filter((i) => {
      const d = inventory.daemons[i] as DaemonPlan;
      return d.daemon === target.name || d.units.includes(target.unit) || d.processNames.includes(target.name);
    });
  }
  if (target.kind === 'port') return all.filter((i) => (inventory.daemons[i] as DaemonPlan).sockets.some((s) => socketMatchesPort(s, target)));
  const ev = input.targetEvent;
  if (!ev) return [];
  return all.filter((i) => eventBelongs(ev, inventory.daemons[i] as DaemonPlan, input.runtime.units));
}

function socketMatchesPort(s: { proto: string; family: PlannedSocket['family']; address: string; port: number; v6Only?: boolean }, t: Extract<WhyTarget, { kind: 'port' }>): boolean {
  if (s.port !== t.port) return false;
  if (t.proto && s.proto !== t.proto) return false;
  if (!t.address) return true;
  const fam = t.address.includes(':') ? 'inet6' : 'inet';
  return addressesOverlap(s.family, s.address, s.v6Only ?? false, fam, t.address, false);
}

function eventBelongs(ev: LogEvent, plan: DaemonPlan, units: UnitFacts[]): boolean {
  if (ev.daemon === plan.daemon) return true;
  if (ev.program !== undefined && (ev.program === plan.daemon || plan.processNames.includes(ev.program))) return true;
  if (ev.unit !== undefined && (plan.units.includes(ev.unit) || units.some((u) => u.unit === ev.unit && u.daemon === plan.daemon))) return true;
  return false;
}

/** The planned socket a log event speaks of, and whether the name matched only by the daemon's default naming. */
export function socketForEvent(
  ev: LogEvent,
  plan: DaemonPlan,
  failing: ReadonlySet<PlannedSocket> = new Set(),
): { socket: PlannedSocket; byDefaultName: boolean } | undefined {
  if (ev.listenerName !== undefined) {
    const all = plan.sockets.filter((s) => s.name === ev.listenerName);
    // A failure message names the listener that failed: among same-named ones, the one predicted to fail.
    const failed = all.filter((s) => failing.has(s));
    const named = ev.kind !== 'refusing-connections' && failed.length > 0 ? failed : all;
    // Several listeners may share a name (the seed's two Name=MTA lines): the one that failed is the one meant.
    if (named.length === 1 && named[0]) return { socket: named[0], byDefaultName: false };
    const byDefault = plan.sockets.find((s) => s.defaultName === ev.listenerName);
    if (named.length === 0 && byDefault) return { socket: byDefault, byDefaultName: true };
    if (named.length > 1) {
      const withAddr = named.find((s) => ev.port === undefined || (s.port === ev.port && (ev.address === undefined || s.address === ev.address)));
      if (withAddr) return { socket: withAddr, byDefaultName: false };
    }
  }
  if (ev.port !== undefined) {
    const s = plan.sockets.find((x) => x.port === ev.port && (ev.address === undefined || x.address === ev.address));
    if (s) return { socket: s, byDefaultName: false };
  }
  return undefined;
}

function eventLabel(ev: LogEvent): string {
  const who = `${ev.program ?? 'log'}${ev.pid !== undefined ? `[${ev.pid}]` : ''}`;
  const times = ev.count > 1 ? ` — ${ev.count} times, ${ev.time ?? '?'} … ${ev.lastTime ?? '?'}` : ev.time ? ` — ${ev.time}` : '';
  return `${who}: ${ev.message}${times}`;
}

function traceLabel(t: TraceFailure): string {
  const s = t.socket;
  const endpoint = formatEndpoint({ address: t.call.address ?? s.address ?? '?', port: t.call.port ?? s.port ?? 0 });
  const what = `${t.call.call}(${s.fd}, ${endpoint}) = -1 ${t.call.errno ?? ''} in pid ${s.pid}`;
  if (t.holder) {
    return `${what}: held by fd ${t.holder.fd} of pid ${t.holder.pid} on ${formatEndpoint({ address: t.holder.address ?? '?', port: t.holder.port ?? 0 })} (socket() at ${t.holder.source.file}:${t.holder.source.line})`;
  }
  return t.heldOutside ? `${what}: the holder is outside the trace` : what;
}

function unitLabel(u: UnitFacts): string | undefined {
  const st = u.state;
  if (!st) return undefined;
  const parts = [`${u.unit} is ${st.activeState ?? 'in an unknown state'}`];
  if (st.result) parts.push(`result ${st.result}`);
  if (st.exitStatus !== undefined) parts.push(`main process exited with status ${st.exitStatus}${st.exitMeaning ? ` (${st.exitMeaning})` : ''}`);
  return parts.join(', ');
}

function liveHolderLabel(s: LiveSocket, plans: readonly DaemonPlan[]): string {
  const o = s.owners[0];
  const who = !s.ownersKnown ? `uid ${s.uid} (owner needs root)` : o ? `pid ${o.pid} ${o.comm}${o.unit ? ` (${o.unit})` : ''}${socketUnitHolderSuffix(s, plans)}` : 'no process';
  return `${formatEndpoint(s)} ${s.state} held by ${who}`;
}

/** Build the answer to `bindcheck why TARGET`. Pure: reads only what was gathered. */
export function explain(input: ExplainInput): Explanation {
  const { target, inventory: inv, analysis, runtime } = input;
  const subjects = resolveSubjects(input);
  const plans = subjects.map((i) => inv.daemons[i] as DaemonPlan);
  const names = plans.map((p) => p.daemon);
  const chain: ChainStep[] = [];
  const unseen: UnseenNote[] = [...inv.unseen];

  const related = input.findings.filter((f) => {
    if (f.daemon !== undefined && names.includes(f.daemon)) return true;
    // A daemon whose config cannot be read has no plan, only its BC0xx finding: that is the answer, not "no config".
    if (plans.length === 0 && target.kind === 'unit' && f.daemon === target.name) return true;
    if (target.kind === 'port' && f.endpoint) return socketMatchesPort({ ...f.endpoint, family: f.endpoint.address.includes(':') ? 'inet6' : 'inet' }, target);
    return false;
  });
  const main = related.find((f) => f.severity === 'error') ?? related[0];

  // 1. Configuration and kernel: the main finding's own chain.
  if (main) {
    for (const e of main.evidence) chain.push({ ...e, kind: e.location.file.startsWith('/proc/') ? 'live' : 'config' });
    const rule = main.rule;
    if (rule && !main.evidence.some((e) => e.label.includes(rule))) chain.push({ kind: 'kernel', location: main.location, label: `kernel rule: ${rule}` });
  } else {
    for (const p of plans) {
      for (const s of p.sockets) chain.push({ kind: 'config', location: s.source, label: `${p.daemon} ${s.name} asks for ${formatEndpoint(s)}` });
    }
  }

  // 2. Live holders of the target port (port targets), for the record.
  if (target.kind === 'port') {
    for (const s of inv.liveSockets.filter((x) => socketMatchesPort(x, target) && (x.state === 'LISTEN' || x.proto === 'udp'))) {
      chain.push({ kind: 'live', location: s.source, label: liveHolderLabel(s, inv.daemons) });
    }
  }

  // 3. Logs, oldest first: events of these daemons, each mapped back to the config line it speaks of.
  const failing = new Set<PlannedSocket>();
  for (const i of subjects) {
    analysis.predictions[i]?.outcomes.forEach((o, k) => {
      const s = inv.daemons[i]?.sockets[k];
      if (s && o.ok !== true && o.call !== 'none') failing.add(s);
    });
  }
  const events = [...runtime.logEvents].map((ev, i) => ({ ev, i })).sort((a, b) => timeKey(a.ev) - timeKey(b.ev) || a.i - b.i).map((x) => x.ev);
  if (input.targetEvent) events.unshift(input.targetEvent);
  for (const ev of events) {
    const plan = plans.find((p) => eventBelongs(ev, p, runtime.units));
    if (!plan && !(target.kind === 'port' && ev.port === target.port)) continue;
    chain.push({ kind: 'log', location: ev.source, label: eventLabel(ev) });
    if (!plan) continue;
    const m = socketForEvent(ev, plan, failing);
    if (m && ev.listenerName !== undefined) {
      const where = `${m.socket.source.file}:${m.socket.source.line}`;
      chain.push({
        kind: 'note',
        location: m.socket.source,
        label: m.byDefaultName
          ? `"${ev.listenerName}" is the name ${plan.daemon} gives this listener (${formatEndpoint(m.socket)}, ${where}) when it has no name; the config now names it ${m.socket.name}, so the log was written with an earlier version of this line`
          : `"${ev.listenerName}" is ${plan.daemon}'s listener ${formatEndpoint(m.socket)} defined at ${where}`,
      });
    }
  }

  // 4. Traces.
  for (const t of runtime.traceFailures) {
    // A failed bind() leaves the socket unbound: its address is on the call.
    const address = t.call.address ?? t.socket.address;
    const port = t.call.port ?? t.socket.port;
    const matches = plans.some((p) => p.sockets.some((s) => s.port === port && s.address === address)) ||
      (target.kind === 'port' && port === target.port);
    if (matches) chain.push({ kind: 'trace', location: t.call.source, label: `${traceLabel(t)} — ${t.reason}` });
  }
  for (const d of runtime.traceDisagreements) chain.push({ kind: 'note', location: d.source, label: `the model and the trace disagree: ${d.message}` });

  // 5. What else follows from it (BC104: the mail submitted to the daemon has nowhere to go).
  for (const f of related) {
    if (f === main) continue;
    chain.push({ kind: 'note', location: f.location, label: `${f.code} ${f.name}: ${f.message}` });
  }

  // 6. The unit's end.
  for (const u of runtime.units.filter((x) => names.includes(x.daemon ?? '') || (target.kind === 'unit' && x.unit === target.unit))) {
    const label = unitLabel(u);
    if (label && u.state) chain.push({ kind: 'unit', location: u.state.source, label });
  }

  const anyFails = subjects.some((i) => analysis.predictions[i]?.starts === false);
  const logFailures = chain.some((c) => c.kind === 'log' || c.kind === 'trace');
  let status: Explanation['status'];
  let verdict: string;
  if (plans.length === 0 && target.kind !== 'port' && !main) {
    status = 'unknown';
    verdict =
      target.kind === 'unit'
        ? `bindcheck found no configuration for ${target.name} under ${inv.root}`
        : 'bindcheck did not recognise the log line as a bind failure of a daemon it reads';
    if (target.kind === 'unit') unseen.push({ what: target.name, why: 'no daemon configuration bindcheck reads was found for it (daemon not installed, or not one bindcheck knows yet)' });
  } else if (main && main.severity === 'error') {
    status = 'fails';
    verdict = `${main.message}. Edit ${main.location.file}:${main.location.line}.`;
  } else if (main) {
    status = 'at-risk';
    verdict = `${main.message}.`;
  } else if (anyFails) {
    status = 'fails';
    verdict = `${names.join(', ')} cannot start as configured.`;
  } else if (logFailures) {
    status = 'unknown';
    verdict = `the logs show bind failures, but ${names.join(', ') || 'the configuration'} as it is now starts cleanly: the holder may have gone, or the config changed since.`;
  } else if (plans.length > 0) {
    status = 'starts';
    const asked = plans.flatMap((p) => p.sockets.map((s) => formatEndpoint(s)));
    verdict =
      asked.length > 0
        ? `${names.join(', ')} can bind every socket it asks for: ${asked.join(', ')}.`
        : `${names.join(', ')} asks for no listening socket in ${plans.map((p) => p.config).join(', ')}: nothing to bind, nothing to fail.`;
  } else {
    status = 'unknown';
    verdict = `no daemon bindcheck reads asks for ${target.raw}`;
  }
  return { target, daemons: names, status, verdict, chain: dedupe(chain), findings: related, fixes: main?.fixes ?? [], unseen };
}

/** The same note twice (two log events about one listener) says nothing new. */
function dedupe(chain: ChainStep[]): ChainStep[] {
  const seen = new Set<string>();
  return chain.filter((c) => {
    const k = `${c.kind}\0${c.location.file}\0${c.location.line}\0${c.label}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A sortable key for a log time: ISO-8601 as epoch ms; a BSD syslog time ("Aug 30 14:55:47", no year) as an offset
 * within a year. Logs of one host use one format, so keys of the two kinds are rarely compared.
 */
export function timeKey(ev: LogEvent): number {
  const t = ev.time;
  if (t === undefined) return Number.MAX_SAFE_INTEGER;
  const bsd = /^([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})/.exec(t);
  if (bsd) {
    const m = MONTHS.indexOf(bsd[1] ?? '');
    return ((((m * 31 + Number(bsd[2])) * 24 + Number(bsd[3])) * 60 + Number(bsd[4])) * 60 + Number(bsd[5])) * 1000;
  }
  const iso = Date.parse(t);
  return Number.isNaN(iso) ? Number.MAX_SAFE_INTEGER : iso;
}

import { fallbackCovers, type Holder, type SocketOutcome } from '../analysis/startup.js';
import type { EvidenceItem, Finding, Fix } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { LiveSocket } from '../model/live.js';
import { failurePolicy, type DaemonPlan, type PlannedSocket } from '../model/planned.js';
import type { CheckContext } from './types.js';

/** A planned socket whose first start attempt fails, with everything needed to explain it. */
export interface FailedSocket {
  plan: DaemonPlan;
  daemonIndex: number;
  socket: PlannedSocket;
  socketIndex: number;
  outcome: Extract<SocketOutcome, { call: 'bind' | 'listen' }>;
  /** The socket the daemon created instead (PlannedSocket.fallbackFor), so it runs on without this one. */
  fallback?: PlannedSocket;
}

/**
 * Every planned socket that fails on its own daemon's start (daemon started alone on the host). Sockets the
 * daemon treats as optional, and failures it covers with a fallback socket, are left to BC402 (the daemon runs
 * without them) unless `optional` says otherwise.
 */
export function failedSockets(ctx: CheckContext, optional: 'exclude' | 'only' = 'exclude'): FailedSocket[] {
  const out: FailedSocket[] = [];
  for (const pred of ctx.analysis.predictions) {
    const plan = ctx.inventory.daemons[pred.daemon];
    if (!plan) continue;
    pred.outcomes.forEach((outcome, i) => {
      const socket = plan.sockets[i];
      if (!socket || outcome.ok === true || outcome.call === 'none') return;
      const covered = fallbackCovers(plan, pred.outcomes, i);
      if ((socket.optional === true || covered) !== (optional === 'only')) return;
      const f: FailedSocket = { plan, daemonIndex: pred.daemon, socket, socketIndex: i, outcome };
      const fallback = covered ? plan.sockets.find((s, k) => s.fallbackFor === i && pred.outcomes[k]?.ok === true) : undefined;
      if (fallback) f.fallback = fallback;
      out.push(f);
    });
  }
  return out;
}

export function plannedHolder(inv: Inventory, h: Holder | undefined): PlannedSocket | undefined {
  if (!h || h.kind !== 'planned') return undefined;
  return inv.daemons[h.daemon]?.sockets[h.socket];
}

export function liveHolder(inv: Inventory, h: Holder | undefined): LiveSocket | undefined {
  if (!h || h.kind !== 'live') return undefined;
  return inv.liveSockets[h.socket];
}

/** "sendmail MTA: tcp/0.0.0.0:25" */
export function describePlanned(s: PlannedSocket): string {
  return `${s.daemon} ${s.name}: ${formatEndpoint(s)}`;
}

/**
 * The evidence item for a planned socket: the config line and how it became this address and port. Only the
 * derivation steps that produced the address or the port are shown; the full derivation is in the JSON report.
 */
export function plannedEvidence(s: PlannedSocket, role: string): EvidenceItem {
  const relevant = s.derivation.filter((d) => d.includes(s.address) || new RegExp(`\\b${s.port}\\b`).test(d));
  const how = relevant.length > 0 ? ` (${relevant.join('; ')})` : '';
  return { location: s.source, label: `${role}: ${s.daemon} ${s.name} asks for ${formatEndpoint(s)}${how}` };
}

export function outcomeEvidence(f: FailedSocket): EvidenceItem {
  return {
    location: f.socket.source,
    label: `${f.outcome.call}() of ${formatEndpoint(f.socket)} fails with ${f.outcome.errno}: ${f.outcome.reason}`,
  };
}

/** What the daemon does after the failure, from the reader's knowledge of the daemon. */
export function consequenceEvidence(f: FailedSocket): EvidenceItem | undefined {
  if (f.fallback) {
    return { location: f.fallback.source, label: `${f.plan.daemon} creates ${formatEndpoint(f.fallback)} instead and carries on without ${formatEndpoint(f.socket)}` };
  }
  if (f.socket.optional) {
    return { location: f.socket.source, label: `${f.plan.daemon} marks ${f.socket.name} optional and carries on without it` };
  }
  const policy = failurePolicy(f.plan, f.outcome.errno);
  if (policy === 'continue') {
    return { location: f.socket.source, label: `${f.plan.daemon} carries on without ${formatEndpoint(f.socket)}` };
  }
  if (policy === 'exit-after-all') {
    const st = f.plan.retry?.exitStatus !== undefined ? ` with status ${f.plan.retry.exitStatus}` : '';
    return { location: { file: f.plan.config, line: 0 }, label: `${f.plan.daemon} still tries its other sockets, then exits${st}: none of its sockets stay open` };
  }
  const r = f.plan.retry;
  const retried = r !== undefined && r.attempts > 0 && (r.errnos === undefined || r.errnos.includes(f.outcome.errno));
  const retry = retried ? `retries ${r.attempts} times every ${r.intervalSeconds} s, then ` : r?.errnos ? `does not retry ${f.outcome.errno} and ` : '';
  const status = r?.exitStatus !== undefined ? ` with status ${r.exitStatus}` : '';
  return { location: { file: f.plan.config, line: 0 }, label: `${f.plan.daemon} ${retry}exits${status}: none of its sockets stay open` };
}

/** A fix that switches a directive off, in the daemon's own comment syntax. */
export function disableFix(s: PlannedSocket, description: string, safe: boolean, safetyReason: string): Fix | undefined {
  const d = s.directive;
  if (!d) return undefined;
  return {
    description,
    safety: safe ? 'safe' : 'unsafe',
    safetyReason,
    edits: [{ file: d.file, startLine: d.startLine, endLine: d.endLine, newLines: d.disabled }],
  };
}

/** Same daemon options apart from the address: the wider socket serves everything the narrower one would. */
export function sameServiceApartFromAddress(a: PlannedSocket, b: PlannedSocket): boolean {
  return (
    a.daemon === b.daemon &&
    a.proto === b.proto &&
    a.port === b.port &&
    a.optionsKey !== undefined &&
    a.optionsKey === b.optionsKey
  );
}

export function baseFinding(
  meta: { code: string; name: string; severity: Finding['severity'] },
  f: FailedSocket,
  message: string,
): Finding {
  return {
    code: meta.code,
    name: meta.name,
    severity: meta.severity,
    message,
    location: f.socket.source,
    evidence: [],
    errno: f.outcome.errno,
    endpoint: { proto: f.socket.proto, address: f.socket.address, port: f.socket.port },
    fixes: [],
    daemon: f.plan.daemon,
  };
}

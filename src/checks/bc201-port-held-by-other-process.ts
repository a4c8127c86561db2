import { formatEndpoint } from '../model/endpoint.js';
import type { EvidenceItem, Finding } from '../model/finding.js';
import type { LiveSocket } from '../model/live.js';
import type { DaemonPlan } from '../model/planned.js';
import { socketUnitHolderSuffix } from '../analysis/socket-unit-holder.js';
import {
  baseFinding,
  consequenceEvidence,
  failedSockets,
  liveHolder,
  outcomeEvidence,
  plannedEvidence,
} from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC201', name: 'port-held-by-other-process', severity: 'error' } as const;

/** A socket the daemon will ask for is already held on the host by another process. */
export const bc201: Check = {
  ...meta,
  summary: 'Another process on the host already holds an address and port the daemon will ask for.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx)) {
      const live = liveHolder(ctx.inventory, f.outcome.holder);
      if (!live) continue;
      const uncertain = f.outcome.dependsOn !== undefined;
      const finding = baseFinding(
        { ...meta, severity: uncertain ? 'warning' : meta.severity },
        f,
        `${f.plan.daemon} ${f.socket.name} ${uncertain ? 'may not be able to' : 'cannot'} ${f.outcome.call} ${formatEndpoint(f.socket)} (${f.outcome.errno}): ${holderText(live, ctx.inventory.daemons)} holds ${formatEndpoint(live)}`,
      );
      finding.evidence = [plannedEvidence(f.socket, 'asks'), liveEvidence(live, ctx.inventory.daemons), outcomeEvidence(f)];
      if (uncertain) {
        finding.evidence.push({
          location: live.source,
          label: `the verdict depends on ${f.outcome.dependsOn?.join(', ')}, which /proc does not show`,
        });
      }
      const after = consequenceEvidence(f);
      if (after) finding.evidence.push(after);
      finding.rule = f.outcome.reason;
      findings.push(finding);
    }
    return findings;
  },
};

/** Who holds a live socket; with the plans, a socket pid 1 holds is traced to its `.socket` unit's Listen line. */
export function holderText(s: LiveSocket, plans?: readonly DaemonPlan[]): string {
  if (!s.ownersKnown) return `a process of uid ${s.uid} (owner needs root to see)`;
  if (s.owners.length === 0) return s.state === 'TIME_WAIT' ? 'a connection in TIME_WAIT' : 'a socket with no process';
  const first = s.owners[0];
  if (!first) return 'a process';
  const unit = first.unit ? `, ${first.unit}` : '';
  const more = s.owners.length > 1 ? ` and ${s.owners.length - 1} more` : '';
  return `pid ${first.pid} (${first.comm}${unit})${more}${socketUnitHolderSuffix(s, plans)}`;
}

function liveEvidence(s: LiveSocket, plans: readonly DaemonPlan[]): EvidenceItem {
  return { location: s.source, label: `${holderText(s, plans)} holds ${formatEndpoint(s)} in state ${s.state}` };
}

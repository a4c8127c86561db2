import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import { plannedEvidence, plannedHolder } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC103', name: 'daemons-share-port', severity: 'error' } as const;

/** Two daemons that each start alone, but not both: whichever starts second loses its socket. */
export const bc103: Check = {
  ...meta,
  summary: 'Two daemons ask for overlapping addresses on the same port; whichever starts second cannot bind.',
  fixable: false,
  inputs: ['config'],
  run(ctx) {
    const inv = ctx.inventory;
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const pc of ctx.analysis.pairConflicts) {
      const key = [pc.first, pc.second].sort((x, y) => x - y).join(':');
      if (seen.has(key)) continue;
      seen.add(key);
      const reverse = ctx.analysis.pairConflicts.some((o) => o.first === pc.second && o.second === pc.first);
      const loserPlan = inv.daemons[pc.second];
      const winnerPlan = inv.daemons[pc.first];
      if (!loserPlan || !winnerPlan) continue;
      const i = pc.outcomes.findIndex((o) => o.ok === false && o.call !== 'none');
      const o = pc.outcomes[i];
      const socket = loserPlan.sockets[i];
      if (!o || o.ok === true || o.call === 'none' || !socket) continue;
      const holder = plannedHolder(inv, o.holder);
      const order = reverse
        ? 'whichever of the two starts second fails'
        : `${loserPlan.daemon} fails if it starts after ${winnerPlan.daemon}`;
      const finding: Finding = {
        ...meta,
        message: `${loserPlan.daemon} and ${winnerPlan.daemon} both want ${formatEndpoint(socket)}: ${order} (${o.call}() → ${o.errno})`,
        location: socket.source,
        evidence: [],
        rule: o.reason,
        errno: o.errno,
        endpoint: { proto: socket.proto, address: socket.address, port: socket.port },
        fixes: [],
        daemon: loserPlan.daemon,
      };
      if (holder) finding.evidence.push(plannedEvidence(holder, winnerPlan.daemon));
      finding.evidence.push(plannedEvidence(socket, loserPlan.daemon));
      finding.evidence.push({ location: socket.source, label: `started second, ${o.call}() fails with ${o.errno}: ${o.reason}` });
      findings.push(finding);
    }
    return findings;
  },
};

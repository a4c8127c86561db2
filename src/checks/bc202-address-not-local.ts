import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import { baseFinding, consequenceEvidence, failedSockets, outcomeEvidence, plannedEvidence } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC202', name: 'address-not-local', severity: 'error' } as const;

/** The daemon asks for an address this host does not have. */
export const bc202: Check = {
  ...meta,
  summary: 'A daemon asks for an address that is not configured on this host, so bind() fails with EADDRNOTAVAIL.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const facts = ctx.inventory.hostFacts.localAddresses;
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx)) {
      if (f.outcome.errno !== 'EADDRNOTAVAIL') continue;
      const finding = baseFinding(
        meta,
        f,
        `${f.plan.daemon} ${f.socket.name} cannot bind ${formatEndpoint(f.socket)} (EADDRNOTAVAIL): ${f.socket.address} is not an address of this host`,
      );
      finding.evidence = [
        plannedEvidence(f.socket, 'asks'),
        {
          location: { file: facts.source, line: 0 },
          label: `local addresses ${facts.origin === 'assumed' ? '(assumed: the root has no /proc)' : ''}: ${facts.value.join(', ')}`,
        },
        outcomeEvidence(f),
      ];
      const after = consequenceEvidence(f);
      if (after) finding.evidence.push(after);
      finding.rule = f.outcome.reason;
      findings.push(finding);
    }
    return findings;
  },
};

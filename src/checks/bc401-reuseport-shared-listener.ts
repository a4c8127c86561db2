import { addressesOverlap } from '../kernel/index.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import type { PlannedSocket } from '../model/planned.js';
import { plannedEvidence } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC401', name: 'reuseport-shared-listener', severity: 'warning' } as const;

/**
 * Two listeners that both bind the same port with SO_REUSEPORT (same uid): the kernel spreads incoming
 * connections between them. Nothing fails, so no daemon notices — but each client gets one or the other.
 */
export const bc401: Check = {
  ...meta,
  summary: 'Two listeners share an address and port through SO_REUSEPORT, so the kernel splits connections between them silently.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const inv = ctx.inventory;
    const started: PlannedSocket[] = [];
    inv.daemons.forEach((d, i) => {
      const pred = ctx.analysis.predictions[i];
      if (!pred?.starts) return;
      d.sockets.forEach((s, k) => {
        if (pred.outcomes[k]?.ok === true && s.reusePort && s.listens) started.push(s);
      });
    });
    const v6def = inv.hostFacts.bindV6Only.value;
    const findings: Finding[] = [];
    for (let a = 0; a < started.length; a++) {
      for (let b = a + 1; b < started.length; b++) {
        const x = started[a] as PlannedSocket;
        const y = started[b] as PlannedSocket;
        if (x.proto !== y.proto || x.port !== y.port || x.uid !== y.uid) continue;
        // Same address exactly: the kernel's reuseport group balances between them (a wildcard and a specific
        // address do not share a group: the specific one takes its address's connections).
        if (x.address !== y.address || !addressesOverlap(x.family, x.address, x.v6Only ?? v6def, y.family, y.address, y.v6Only ?? v6def)) continue;
        findings.push({
          ...meta,
          message: `${y.daemon} ${y.name} and ${x.daemon} ${x.name} both listen on ${formatEndpoint(y)} with SO_REUSEPORT: the kernel splits incoming connections between them`,
          location: y.source,
          evidence: [plannedEvidence(x, 'first'), plannedEvidence(y, 'also')],
          rule: 'Sockets with SO_REUSEPORT under one uid bound to the same address and port form a group; each new connection goes to one of them by hash (inet_lookup_reuseport).',
          endpoint: { proto: y.proto, address: y.address, port: y.port },
          fixes: [],
          daemon: y.daemon,
        });
      }
    }
    return findings;
  },
};

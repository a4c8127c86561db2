import { isLocalAddress } from '../kernel/index.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import type { PlannedSocket } from '../model/planned.js';
import { plannedEvidence } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC405', name: 'server-answers-nobody', severity: 'warning' } as const;

/**
 * A daemon starts and binds its wildcard sockets, but answers only traffic sent to addresses this host does not have
 * (PlannedSocket.acceptsOnly): dnsmasq with `listen-address=192.0.2.99` and no bind-interfaces binds 0.0.0.0:53 and
 * :::53 fine, then drops every query. `dnsmasq --test` passes and nothing is logged.
 */
export const bc405: Check = {
  ...meta,
  summary: 'A daemon starts and binds its wildcard sockets but answers only addresses this host does not have, so it serves nobody.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const inv = ctx.inventory;
    const local = inv.hostFacts.localAddresses;
    const findings: Finding[] = [];
    inv.daemons.forEach((d, i) => {
      const pred = ctx.analysis.predictions[i];
      if (!pred?.starts) return;
      const filtered = d.sockets.filter((s, k): s is PlannedSocket & Required<Pick<PlannedSocket, 'acceptsOnly'>> => pred.outcomes[k]?.ok === true && s.acceptsOnly !== undefined);
      const first = filtered[0];
      if (!first) return;
      if (filtered.some((s) => s.acceptsOnly.addresses.some((a) => isLocalAddress(a, local.value)))) return;
      const addrs = first.acceptsOnly.addresses.join(', ');
      findings.push({
        ...meta,
        message: `${d.daemon} starts and binds ${filtered.map((s) => `${s.proto}/${formatEndpoint(s)}`).join(', ')}, but answers only traffic sent to ${addrs}, which ${first.acceptsOnly.addresses.length > 1 ? 'are not addresses' : 'is not an address'} of this host: it serves nobody`,
        location: first.acceptsOnly.source,
        evidence: [
          { location: first.acceptsOnly.source, label: `${d.daemon} answers only ${addrs}` },
          {
            location: { file: local.source, line: 0 },
            label: `local addresses${local.origin === 'assumed' ? ' (assumed: the root has no /proc)' : ''}: ${local.value.join(', ')}`,
          },
          plannedEvidence(first, 'binds'),
        ],
        rule: 'A daemon that filters a wildcard socket by destination address (dnsmasq without bind-interfaces checks each query against its listen-addresses) drops traffic to every other address; if none of its addresses is local, nothing can reach it.',
        endpoint: { proto: first.proto, address: first.address, port: first.port },
        fixes: [],
        daemon: d.daemon,
      });
    });
    return findings;
  },
};

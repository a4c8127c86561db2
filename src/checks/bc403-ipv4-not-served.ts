import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import type { PlannedSocket } from '../model/planned.js';
import { plannedEvidence } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC403', name: 'ipv4-not-served', severity: 'info' } as const;

/**
 * A daemon listens on the IPv6 wildcard with IPV6_V6ONLY set and has no IPv4 socket on that port: IPv4 clients
 * are refused although `::` reads like "everywhere" (dovecot `listen = ::`, nginx `listen [::]:80` alone).
 */
export const bc403: Check = {
  ...meta,
  summary: 'A daemon listens on [::] with IPV6_V6ONLY and on no IPv4 address of that port, so IPv4 clients are refused.',
  fixable: false,
  inputs: ['config'],
  run(ctx) {
    const inv = ctx.inventory;
    const findings: Finding[] = [];
    inv.daemons.forEach((d, i) => {
      const pred = ctx.analysis.predictions[i];
      if (!pred?.starts) return;
      const up = d.sockets.filter((s, k) => pred.outcomes[k]?.ok === true);
      const v6OnlyWildcards = up.filter((s) => s.family === 'inet6' && s.address === '::' && (s.v6Only ?? inv.hostFacts.bindV6Only.value));
      for (const w of v6OnlyWildcards) {
        const servesV4 = up.some((s: PlannedSocket) => s.proto === w.proto && s.port === w.port && (s.family === 'inet' || (s.address === '::' && !(s.v6Only ?? inv.hostFacts.bindV6Only.value))));
        if (servesV4) continue;
        findings.push({
          ...meta,
          message: `${d.daemon} ${w.name} listens on ${formatEndpoint(w)} with IPV6_V6ONLY and on no IPv4 address of port ${w.port}: IPv4 clients are refused`,
          location: w.source,
          evidence: [plannedEvidence(w, 'only')],
          rule: 'A socket bound to :: with IPV6_V6ONLY receives IPv6 only (ipv6_only_sock); IPv4 connections need a socket of their own.',
          endpoint: { proto: w.proto, address: w.address, port: w.port },
          fixes: [],
          daemon: d.daemon,
        });
      }
    });
    return findings;
  },
};

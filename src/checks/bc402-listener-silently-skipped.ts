import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import type { EvidenceItem } from '../model/finding.js';
import { consequenceEvidence, failedSockets, outcomeEvidence, plannedEvidence, type FailedSocket } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC402', name: 'listener-silently-skipped', severity: 'warning' } as const;

/**
 * A socket the daemon treats as optional cannot be created: the daemon starts and reports success, but does not
 * serve that address (exim skipping 0.0.0.0 after ::, sendmail's Modifiers=O, httpd falling back from a dual-stack
 * [::] to 0.0.0.0).
 */
export const bc402: Check = {
  ...meta,
  summary: 'A listener the daemon treats as optional cannot be created, so the daemon runs without it and does not say so loudly.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx, 'only')) {
      findings.push({
        ...meta,
        message: `${f.plan.daemon} ${f.socket.name} cannot ${f.outcome.call} ${formatEndpoint(f.socket)} (${f.outcome.errno}); ${f.plan.daemon} runs without it, so clients of ${f.socket.address} are not served by ${f.plan.daemon}`,
        location: f.socket.source,
        evidence: [plannedEvidence(f.socket, 'asks'), outcomeEvidence(f), whyItRunsOn(f)],
        rule: f.outcome.reason,
        errno: f.outcome.errno,
        endpoint: { proto: f.socket.proto, address: f.socket.address, port: f.socket.port },
        fixes: [],
        daemon: f.plan.daemon,
      });
    }
    return findings;
  },
};

/** Why the daemon runs on: the socket it creates instead, or its own marking of this socket as optional. */
function whyItRunsOn(f: FailedSocket): EvidenceItem {
  if (f.fallback) return consequenceEvidence(f) as EvidenceItem;
  return { location: f.socket.source, label: `${f.plan.daemon} treats this socket as optional (${f.socket.derivation.find((d) => /optional|ignor/i.test(d)) ?? 'optional'})` };
}

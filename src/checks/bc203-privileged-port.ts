import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import { baseFinding, consequenceEvidence, failedSockets, outcomeEvidence, plannedEvidence } from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC203', name: 'privileged-port', severity: 'error' } as const;

/** An unprivileged daemon asks for a port below net.ipv4.ip_unprivileged_port_start. */
export const bc203: Check = {
  ...meta,
  summary: 'A daemon running without CAP_NET_BIND_SERVICE asks for a privileged port, so bind() fails with EACCES.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const start = ctx.inventory.hostFacts.unprivilegedPortStart;
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx)) {
      if (f.outcome.errno !== 'EACCES') continue;
      const finding = baseFinding(
        meta,
        f,
        `${f.plan.daemon} ${f.socket.name} binds as uid ${f.socket.uid} and cannot bind port ${f.socket.port} (EACCES): ports below ${start.value} need CAP_NET_BIND_SERVICE`,
      );
      finding.evidence = [
        plannedEvidence(f.socket, 'asks'),
        { location: { file: start.source, line: 0 }, label: `net.ipv4.ip_unprivileged_port_start = ${start.value}${start.origin === 'assumed' ? ' (assumed Linux default)' : ''}` },
        ...f.socket.derivation
          .filter((d) => /CAP_NET_BIND_SERVICE|CapabilityBoundingSet|User=/.test(d))
          .map((d) => ({ location: f.socket.source, label: `who binds: ${d}` })),
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

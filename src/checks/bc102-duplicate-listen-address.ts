import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import {
  baseFinding,
  consequenceEvidence,
  disableFix,
  failedSockets,
  outcomeEvidence,
  plannedEvidence,
  plannedHolder,
  sameServiceApartFromAddress,
} from './socket-failure.js';
import type { Check } from './types.js';

const meta = { code: 'BC102', name: 'duplicate-listen-address', severity: 'error' } as const;

/** One daemon asks twice for the same address and port. */
export const bc102: Check = {
  ...meta,
  summary: 'A daemon asks for the same address and port twice; the second socket fails with EADDRINUSE.',
  fixable: true,
  inputs: ['config'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx)) {
      const holder = plannedHolder(ctx.inventory, f.outcome.holder);
      if (!holder || f.outcome.holder?.kind !== 'planned' || f.outcome.holder.daemon !== f.daemonIndex) continue;
      if (holder.address !== f.socket.address) continue;
      const finding = baseFinding(
        meta,
        f,
        `${f.plan.daemon} ${f.socket.name} asks again for ${formatEndpoint(f.socket)}, which ${holder.name} already holds: ${f.outcome.call}() fails with ${f.outcome.errno}`,
      );
      finding.evidence = [plannedEvidence(holder, 'first'), plannedEvidence(f.socket, 'again'), outcomeEvidence(f)];
      const after = consequenceEvidence(f);
      if (after) finding.evidence.push(after);
      finding.rule = f.outcome.reason;
      const same = sameServiceApartFromAddress(holder, f.socket);
      const fix = disableFix(
        f.socket,
        `Remove the duplicate ${formatEndpoint(f.socket)} listener`,
        same,
        same
          ? 'the first listener has the same options and serves the same clients'
          : 'the two listeners have different options; its clients would get the first one\'s options',
      );
      if (fix) finding.fixes.push(fix);
      findings.push(finding);
    }
    return findings;
  },
};

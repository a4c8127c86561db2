import { formatEndpoint } from '../model/endpoint.js';
import { claimsAllIPv4, isWildcard } from '../kernel/index.js';
import type { Finding, Fix } from '../model/finding.js';
import type { PlannedSocket } from '../model/planned.js';
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

const meta = { code: 'BC101', name: 'wildcard-covers-specific', severity: 'error' } as const;

/**
 * One daemon asks for a wildcard (0.0.0.0 or a dual-stack ::) and for a specific address on the same port:
 * the wildcard already claims the specific address, so the kernel refuses the second socket.
 */
export const bc101: Check = {
  ...meta,
  summary: 'A daemon listens on a wildcard address and on a specific address of the same port; the wildcard already covers it, so the second socket fails with EADDRINUSE.',
  fixable: true,
  inputs: ['config'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const f of failedSockets(ctx)) {
      const holder = plannedHolder(ctx.inventory, f.outcome.holder);
      if (!holder || holder.daemon !== f.plan.daemon || f.outcome.holder?.kind !== 'planned') continue;
      if (f.outcome.holder.daemon !== f.daemonIndex || holder.address === f.socket.address) continue;
      const v6OnlyDefault = ctx.inventory.hostFacts.bindV6Only.value;
      // The wider socket is the cause whichever was created first; the user edits its line.
      const holderWider = breadth(holder, v6OnlyDefault) >= breadth(f.socket, v6OnlyDefault);
      const wide = holderWider ? holder : f.socket;
      const narrow = holderWider ? f.socket : holder;
      const at = (x: PlannedSocket): string => `${x.name} (line ${x.source.line})`;
      const finding = baseFinding(
        meta,
        f,
        holderWider
          ? `${f.plan.daemon} ${at(f.socket)} cannot ${f.outcome.call} ${formatEndpoint(f.socket)} (${f.outcome.errno}): ${at(wide)} already claims ${formatEndpoint(wide)}, which covers ${narrow.address}`
          : `${f.plan.daemon} ${at(f.socket)} cannot ${f.outcome.call} ${formatEndpoint(f.socket)} (${f.outcome.errno}): it covers ${narrow.address}, which ${at(narrow)} already holds`,
      );
      finding.location = wide.source;
      finding.evidence = [
        plannedEvidence(wide, 'cause'),
        plannedEvidence(narrow, holderWider ? 'then' : 'first'),
        outcomeEvidence(f),
      ];
      const after = consequenceEvidence(f);
      if (after) finding.evidence.push(after);
      finding.rule = f.outcome.reason;
      finding.fixes = fixesFor(wide, narrow);
      findings.push(finding);
    }
    return findings;
  },
};

/** 2 for a dual-stack `::`, 1 for any other wildcard, 0 for a specific address. */
function breadth(s: PlannedSocket, v6OnlyDefault: boolean): number {
  if (!isWildcard(s.address)) return 0;
  return claimsAllIPv4(s.family, s.address, s.v6Only ?? v6OnlyDefault) && s.family === 'inet6' ? 2 : 1;
}

function fixesFor(wildcard: PlannedSocket, specific: PlannedSocket): Fix[] {
  const fixes: Fix[] = [];
  const same = sameServiceApartFromAddress(wildcard, specific);
  const dropSpecific = disableFix(
    specific,
    `Remove the ${formatEndpoint(specific)} listener: ${formatEndpoint(wildcard)} already accepts those connections`,
    same,
    same
      ? 'the wildcard listener has the same options, so every client it served keeps being served the same way'
      : 'the two listeners have different options; clients of the specific address would get the wildcard\'s options',
  );
  if (dropSpecific) fixes.push(dropSpecific);
  const dropWildcard = disableFix(
    wildcard,
    `Remove the wildcard listener ${formatEndpoint(wildcard)} and keep only ${formatEndpoint(specific)}`,
    false,
    `narrows where ${wildcard.daemon} accepts connections: clients on other addresses lose it`,
  );
  if (dropWildcard) fixes.push(dropWildcard);
  return fixes;
}

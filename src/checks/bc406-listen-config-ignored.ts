import type { EvidenceItem, Finding } from '../model/finding.js';
import { formatLocation } from '../model/location.js';
import type { Check } from './types.js';

const meta = { code: 'BC406', name: 'listen-config-ignored', severity: 'warning' } as const;

/**
 * A daemon is handed its listening sockets by a socket unit (systemd socket activation), so the listen lines of its
 * own config have no effect: editing `Port 2222` in sshd_config changes nothing while ssh.socket listens on 22.
 */
export const bc406: Check = {
  ...meta,
  summary: "A socket unit hands the daemon its listening sockets, so the listen lines in the daemon's own config have no effect.",
  fixable: false,
  inputs: ['config'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const plan of ctx.inventory.daemons) {
      const inh = plan.inheritsSockets;
      const first = inh?.ignored[0];
      if (!inh || !first) continue;
      const listens = inh.endpoints.length > 0 ? inh.endpoints.join(', ') : 'the sockets of its own Listen lines';
      const evidence: EvidenceItem[] = [
        { location: inh.source, label: `${inh.from} is started at boot and listens on ${listens}` },
        { location: inh.source, label: `systemd passes those sockets to ${plan.daemon} (LISTEN_FDS), which then binds nothing itself` },
        ...inh.ignored.map((l) => ({ location: l, label: `no effect while ${inh.from} is enabled` })),
      ];
      findings.push({
        ...meta,
        message: `${plan.daemon} takes its listening sockets from ${inh.from} (${listens}): the listen line${inh.ignored.length > 1 ? 's' : ''} in ${first.file} ${inh.ignored.length > 1 ? 'have' : 'has'} no effect`,
        location: first,
        evidence,
        rule: `systemd socket activation: the socket unit creates the sockets (${formatLocation(inh.source)}) and the service inherits them`,
        fixes: [],
        daemon: plan.daemon,
      });
    }
    return findings;
  },
};

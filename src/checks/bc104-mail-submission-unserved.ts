import { addressesOverlap } from '../kernel/index.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { EvidenceItem, Finding } from '../model/finding.js';
import type { Check } from './types.js';

const meta = { code: 'BC104', name: 'mail-submission-unserved', severity: 'error' } as const;

/**
 * Mail submitted through /usr/sbin/sendmail (cron, alerting tools) is relayed over SMTP to an address where no
 * daemon will listen: the alerts of the founding story, which went nowhere while sendmail could not start.
 */
export const bc104: Check = {
  ...meta,
  summary: 'Mail submitted with /usr/sbin/sendmail is relayed to an address and port where no daemon will be listening, so alerts and cron mail go nowhere.',
  fixable: false,
  inputs: ['config', 'live'],
  run(ctx) {
    const inv = ctx.inventory;
    const sub = inv.mailers?.submission;
    if (!sub) return [];
    const target = { proto: sub.proto, address: sub.address, port: sub.port };
    const fam = sub.address.includes(':') ? 'inet6' : 'inet';
    // Served by a planned daemon that starts, or by a socket listening on the host now.
    const servedByPlan = inv.daemons.some((d, i) => {
      const pred = ctx.analysis.predictions[i];
      return pred?.starts === true && d.sockets.some((s, k) => s.proto === 'tcp' && s.listens && s.port === sub.port && pred.outcomes[k]?.ok === true && addressesOverlap(s.family, s.address, s.v6Only ?? inv.hostFacts.bindV6Only.value, fam, sub.address, false));
    });
    const servedLive = inv.liveSockets.some((s) => s.proto === 'tcp' && s.state === 'LISTEN' && s.port === sub.port && addressesOverlap(s.family, s.address, false, fam, sub.address, false));
    if (servedByPlan || servedLive) return [];
    const evidence: EvidenceItem[] = [
      { location: sub.source, label: `${sub.via} (${sub.daemon}'s mail submission program) relays every message to ${formatEndpoint(target)} (${sub.derivation.join('; ')})` },
    ];
    const mta = inv.daemons.findIndex((d) => d.daemon === sub.daemon);
    const plan = inv.daemons[mta];
    let why = `no daemon ${inv.live ? 'listens' : 'will listen'} there`;
    if (plan && ctx.analysis.predictions[mta]?.starts === false) {
      why = `${plan.daemon} cannot start, so nothing will listen there`;
      const cause = ctx.analysis.predictions[mta]?.outcomes.findIndex((o) => o.ok === false && o.call !== 'none') ?? -1;
      const s = plan.sockets[cause];
      const o = ctx.analysis.predictions[mta]?.outcomes[cause];
      if (s && o && o.ok === false && o.call !== 'none') {
        evidence.push({ location: s.source, label: `${plan.daemon} ${s.name}: ${o.call}() of ${formatEndpoint(s)} fails with ${o.errno}, and ${plan.daemon} gives up` });
      }
    } else if (plan) {
      evidence.push({ location: { file: plan.config, line: 0 }, label: `${plan.daemon} listens only on ${plan.sockets.map((s) => formatEndpoint(s)).join(', ') || 'nothing'}` });
    }
    if (inv.live) evidence.push({ location: { file: '/proc/net/tcp', line: 0 }, label: `nothing listens on ${formatEndpoint(target)} now` });
    const f: Finding = {
      ...meta,
      message: `Mail submitted with ${sub.via} goes to ${formatEndpoint(target)}, but ${why}: alerts and cron mail are queued and never delivered`,
      location: sub.source,
      evidence,
      rule: 'A TCP connection to an address and port succeeds only while a socket listens there (connect() gets ECONNREFUSED otherwise); the message stays in the client queue.',
      endpoint: target,
      fixes: [],
      daemon: sub.daemon,
    };
    return [f];
  },
};

import type { RootFs } from '../fs/root-fs.js';
import type { LiveSocket } from '../model/live.js';
import type { MailerFacts } from '../model/mailers.js';
import { resolveMtaBinary } from './distro.js';
import { readSendmailSubmission } from './sendmail/index.js';

const MTAS: { daemon: string; programs: string[]; units: string[] }[] = [
  { daemon: 'sendmail', programs: ['/usr/sbin/sendmail-mta', '/usr/sbin/sendmail.sendmail', '/usr/libexec/sendmail/sendmail', '/usr/lib/sm.bin/sendmail'], units: ['sendmail.service'] },
  { daemon: 'postfix', programs: ['/usr/sbin/postfix', '/usr/lib/postfix/sbin/master', '/usr/libexec/postfix/master'], units: ['postfix.service', 'postfix@-.service'] },
  { daemon: 'exim', programs: ['/usr/sbin/exim4', '/usr/sbin/exim'], units: ['exim4.service', 'exim.service'] },
];

const WANTS_DIRS = ['/etc/systemd/system/multi-user.target.wants', '/etc/systemd/system/default.target.wants'];

export function readMailers(fs: RootFs): { facts: MailerFacts; sources: Map<string, string> } {
  const out: MailerFacts = { installed: [], enabled: [] };
  const sources = new Map<string, string>();
  for (const m of MTAS) {
    const found = m.programs.find((p) => fs.exists(p));
    if (found) out.installed.push({ daemon: m.daemon, evidence: found });
    for (const dir of WANTS_DIRS) {
      for (const unit of m.units) {
        const p = `${dir}/${unit}`;
        if (fs.list(dir).includes(unit)) out.enabled.push({ daemon: m.daemon, unit, source: { file: p, line: 0 } });
      }
    }
  }
  if (fs.exists('/usr/sbin/sendmail') || fs.resolve('/usr/sbin/sendmail').ok) {
    const b = resolveMtaBinary(fs, '/usr/sbin/sendmail');
    if (b.chain.length > 1 || b.resolved) {
      out.sendmailInterface = { path: b.path, chain: b.chain, ...(b.daemon ? { daemon: b.daemon } : {}) };
    }
  }
  // Only sendmail's interface submits over TCP (its MSP); postfix's and exim's write to their own queue.
  const known = out.sendmailInterface?.daemon ?? (out.installed.length === 1 ? out.installed[0]?.daemon : undefined);
  // A config-only image (no programs): sendmail's MSP config stands for sendmail's /usr/sbin/sendmail.
  const iface = known ?? (out.installed.length === 0 && fs.exists('/etc/mail/submit.cf') ? 'sendmail' : undefined);
  if (iface === 'sendmail') {
    const s = readSendmailSubmission(fs);
    if (s) {
      const derivation = known ? s.derivation : ['/usr/sbin/sendmail is not in the root: taken to be sendmail\'s, as /etc/mail/submit.cf is', ...s.derivation];
      out.submission = { via: '/usr/sbin/sendmail', daemon: 'sendmail', proto: 'tcp', address: s.address, port: s.port, source: s.source, derivation };
      sources.set(s.source.file, s.text);
    }
  }
  return { facts: out, sources };
}

const MTA_PROCESSES: Record<string, string> = { sendmail: 'sendmail', 'sendmail-mta': 'sendmail', master: 'postfix', exim4: 'exim', exim: 'exim' };
const MAIL_PORTS = new Set([25, 465, 587]);

/** Which MTA processes hold a mail port now, from the live socket table (owners need root to see). */
export function runningMailers(sockets: readonly LiveSocket[]): NonNullable<MailerFacts['running']> {
  const out: NonNullable<MailerFacts['running']> = [];
  for (const s of sockets) {
    if (s.proto !== 'tcp' || s.state !== 'LISTEN' || !MAIL_PORTS.has(s.port)) continue;
    for (const o of s.owners) {
      const daemon = MTA_PROCESSES[o.comm];
      if (!daemon || out.some((r) => r.pid === o.pid && r.endpoint.endsWith(`:${s.port}`))) continue;
      out.push({ daemon, pid: o.pid, comm: o.comm, ...(o.unit ? { unit: o.unit } : {}), endpoint: `${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}` });
    }
  }
  return out;
}

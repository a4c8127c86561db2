import type { Location } from './location.js';

/** Which mail transfer agent a host or image really runs, and where locally submitted mail goes. */
export interface MailerFacts {
  /** What `/usr/sbin/sendmail` — the interface cron, alerting tools and scripts submit mail through — really is. */
  sendmailInterface?: { path: string; chain: string[]; daemon?: string };
  /** MTAs whose programs are installed in the root. */
  installed: { daemon: string; evidence: string }[];
  /** On a live host: MTA processes listening on a mail port now (25, 465, 587), from the socket table. */
  running?: { daemon: string; pid: number; comm: string; unit?: string; endpoint: string }[];
  /** MTAs whose systemd unit is enabled (a symlink in a *.wants directory). */
  enabled: { daemon: string; unit: string; source: Location }[];
  /** Where mail submitted through `/usr/sbin/sendmail` is handed over by SMTP, when it is (sendmail's MSP). */
  submission?: { via: string; daemon: string; proto: 'tcp'; address: string; port: number; source: Location; derivation: string[] };
}

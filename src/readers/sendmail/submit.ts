import type { RootFs } from '../../fs/root-fs.js';
import { tryCanonicalAddress } from '../../kernel/index.js';
import type { Location } from '../../model/location.js';
import { readServices } from '../common/services.js';

export const SUBMIT_CF = '/etc/mail/submit.cf';

/** Where sendmail's mail submission program (the MSP, submit.cf) hands mail over: an SMTP connection. */
export interface SendmailSubmission {
  address: string;
  port: number;
  /** The `D{MTAHost}` line (or the relay mailer's line when it alone decides). */
  source: Location;
  derivation: string[];
  /** submit.cf's text, for code frames. */
  text: string;
}

/**
 * `/usr/sbin/sendmail` run by a user or an alerting tool reads submit.cf (the MSP, cf/feature/msp.m4) and relays
 * every message over SMTP to `${MTAHost}` — `[127.0.0.1]` by default, brackets meaning an address literal — on the
 * port of the relay mailer's `A=TCP $h [PORT]` (smtp when none: daemon.c makeconnection). Undefined when the root
 * has no submit.cf or the host is a name bindcheck cannot resolve offline.
 */
export function readSendmailSubmission(fs: RootFs): SendmailSubmission | undefined {
  const r = fs.readText(SUBMIT_CF);
  if (!r.ok) return undefined;
  const lines = r.text.split('\n');
  let host: { value: string; line: number } | undefined;
  let relayArgs: { value: string; line: number } | undefined;
  lines.forEach((l, i) => {
    const d = /^D\{MTAHost\}(.*)$/.exec(l);
    if (d) host = { value: (d[1] ?? '').trim(), line: i + 1 };
    if (/^Mrelay,/.test(l)) {
      // A mailer definition continues on lines that start with white space (readcf.c, fgetfolded).
      for (let j = i; j < lines.length && (j === i || /^[ \t]/.test(lines[j] ?? '')); j++) {
        const a = /\bA=(.*)$/.exec(lines[j] ?? '');
        if (a) relayArgs = { value: (a[1] ?? '').trim(), line: j + 1 };
      }
    }
  });
  if (!host) return undefined;
  const derivation: string[] = [];
  const literal = /^\[(?:IPv6:)?([^\]]+)\]$/.exec(host.value);
  const address = literal ? tryCanonicalAddress(literal[1] ?? '') : undefined;
  if (address === undefined) return undefined;
  derivation.push(`D{MTAHost}${host.value} (${SUBMIT_CF}:${host.line}): the MSP relays to ${address}`);
  let port = 25;
  const words = relayArgs?.value.split(/\s+/) ?? [];
  if (words[0] === 'TCP' && words[2] !== undefined) {
    const w = words[2];
    const n = /^\d+$/.test(w) ? Number(w) : readServices(fs).lookup(w, 'tcp')?.port;
    if (n !== undefined) {
      port = n;
      derivation.push(`relay mailer A=${relayArgs?.value} (${SUBMIT_CF}:${relayArgs?.line}): port ${w}`);
    }
  } else {
    const smtp = readServices(fs).lookup('smtp', 'tcp')?.port ?? 25;
    port = smtp;
    derivation.push(`relay mailer A=${relayArgs?.value ?? 'TCP $h'} names no port: sendmail connects to "smtp" (${smtp})`);
  }
  return { address, port, source: { file: SUBMIT_CF, line: host.line, column: 1 }, derivation, text: r.text };
}

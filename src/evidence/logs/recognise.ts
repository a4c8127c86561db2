import type { Location, LogEvent } from '../../model/index.js';
import type { LogRecogniser, Recognised } from './recogniser.js';
import { apacheRecogniser } from './recognisers/apache.js';
import { dnsmasqRecogniser } from './recognisers/dnsmasq.js';
import { dockerRecogniser } from './recognisers/docker.js';
import { dovecotRecogniser } from './recognisers/dovecot.js';
import { eximRecogniser } from './recognisers/exim.js';
import { genericRecogniser } from './recognisers/generic.js';
import { haproxyRecogniser } from './recognisers/haproxy.js';
import { nginxRecogniser } from './recognisers/nginx.js';
import { postfixRecogniser } from './recognisers/postfix.js';
import { sendmailRecogniser } from './recognisers/sendmail.js';
import { resolvedRecogniser } from './recognisers/resolved.js';
import { sshdRecogniser } from './recognisers/sshd.js';
import { systemdRecogniser } from './recognisers/systemd.js';
import { parseSyslogHeader, type SyslogHeader } from './syslog-line.js';

/**
 * Every recogniser, tried in this order; the first that recognises a line wins. Daemon-specific ones come before
 * the generic one, whose `Address already in use` would also match sendmail's own lines. A new daemon adds its
 * module under recognisers/ and one entry here.
 */
export const LOG_RECOGNISERS: readonly LogRecogniser[] = [sendmailRecogniser, postfixRecogniser, eximRecogniser, dovecotRecogniser, apacheRecogniser, nginxRecogniser, haproxyRecogniser, sshdRecogniser, dnsmasqRecogniser, resolvedRecogniser, dockerRecogniser, systemdRecogniser, genericRecogniser];

/** Every needle of every recogniser, deduplicated, in registry order: the prefilter of the scan. */
export function allNeedles(recognisers: readonly LogRecogniser[] = LOG_RECOGNISERS): string[] {
  return [...new Set(recognisers.flatMap((r) => r.needles))];
}

/** A recognised event before collapsing, with the form that matched (part of the collapse key). */
export interface RawLogEvent {
  event: LogEvent;
  form: string;
}

/** Recognise a message whose header is already known (the journal gives its fields separately). */
export function recogniseHeader(header: SyslogHeader, source: Location, recognisers: readonly LogRecogniser[] = LOG_RECOGNISERS): RawLogEvent | null {
  for (const r of recognisers) {
    if (!r.needles.some((n) => header.message.includes(n))) continue;
    const got = r.recognise(header);
    if (got) return { event: toEvent(header, got, source), form: got.form };
  }
  return null;
}

/**
 * Recognise one log line in any of the syslog forms, or a bare message as pasted by a user
 * (`sendmail[24097]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use`).
 */
export function recogniseLine(line: string, source: Location = { file: '<input>', line: 1 }): LogEvent | null {
  return recogniseRaw(line, source)?.event ?? null;
}

export function recogniseRaw(line: string, source: Location, recognisers?: readonly LogRecogniser[]): RawLogEvent | null {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  return recogniseHeader(parseSyslogHeader(text), source, recognisers);
}

function toEvent(h: SyslogHeader, r: Recognised, source: Location): LogEvent {
  const e: LogEvent = { kind: r.kind, count: 1, message: h.message, source };
  if (h.time !== undefined) e.time = h.time;
  if (h.host !== undefined) e.host = h.host;
  if (h.program !== undefined) e.program = h.program;
  if (h.pid !== undefined) e.pid = h.pid;
  const { kind: _k, form: _f, ...rest } = r;
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
  if (e.daemon === undefined && r.form === 'generic' && h.program !== undefined) {
    // The program that logged a generic bind failure is the best name for the daemon we have.
    e.daemon = h.program.replace(/^.*\//, '');
  }
  return e;
}

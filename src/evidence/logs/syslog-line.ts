/**
 * The header of one syslog line: who logged the message and when. Only candidate lines (those holding a needle) are
 * parsed, so clarity wins over speed here.
 *
 * Forms accepted, each with an optional `<PRI>` prefix (rsyslog/syslog-ng writes none; a socket capture has one):
 * - RFC 3164: `Aug 30 14:55:52 gorp sendmail[24097]: msg`, also without the host as the recorded files have it
 *   (`<18>Nov 27 04:31:05 sendmail[69]: msg`);
 * - ISO 8601 (rsyslog `RSYSLOG_FileFormat`): `2026-11-27T04:31:05.123456+00:00 host prog[pid]: msg`;
 * - RFC 5424: `<18>1 2026-11-27T04:31:05Z host prog 69 - - msg` (structured data skipped);
 * - no timestamp at all (a pasted line): `sendmail[24097]: msg`, or just the message.
 */
export interface SyslogHeader {
  time?: string;
  host?: string;
  program?: string;
  pid?: number;
  /** The message text after the header. */
  message: string;
}

const PRI = /^<(\d{1,3})>/;
const BSD_TIME = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)(?:\.\d+)?(?: \d{4})? +/;
const ISO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) +/;
/** `prog[pid]: ` or `prog: `; tags may hold `/`, `.`, `-`, `@` (postfix/smtpd, systemd-logind, php-fpm). */
const TAG = /^([^\s[\]:]{1,64})(?:\[(\d{1,10})\])?: ?/;
const HOST = /^([^\s[\]:]+) +/;

export function parseSyslogHeader(line: string): SyslogHeader {
  let rest = line;
  const pri = PRI.exec(rest);
  if (pri) {
    rest = rest.slice(pri[0].length);
    if (rest.startsWith('1 ')) return parse5424(rest.slice(2));
  }
  let time: string | undefined;
  const t = BSD_TIME.exec(rest) ?? ISO_TIME.exec(rest);
  if (t) {
    time = t[1];
    rest = rest.slice(t[0].length);
  }
  // After a timestamp the next word is the tag when it ends in `:`/`[pid]:`, else the host then the tag.
  let tag = TAG.exec(rest);
  let host: string | undefined;
  if (!tag && time !== undefined) {
    const h = HOST.exec(rest);
    if (h) {
      host = h[1];
      rest = rest.slice(h[0].length);
      tag = TAG.exec(rest);
    }
  }
  const out: SyslogHeader = { message: rest };
  if (time !== undefined) out.time = time;
  if (host !== undefined) out.host = host;
  if (tag && looksLikeTag(tag[1] as string, tag[2])) {
    out.program = tag[1] as string;
    if (tag[2] !== undefined) out.pid = Number(tag[2]);
    out.message = rest.slice(tag[0].length);
  }
  return out;
}

/** `Error: listen EADDRINUSE` or `OSError: [Errno 98]` must not be mistaken for a tag without a pid. */
function looksLikeTag(name: string, pid: string | undefined): boolean {
  if (pid !== undefined) return true;
  return !/^(?:[A-Z]\w*(?:Error|Exception)|Error|Warning|Caused by|Traceback|java\.\S+|panic|fatal|FATAL|ERROR|WARN|INFO|DEBUG|Fatal|error|warning)$/.test(name);
}

function parse5424(rest: string): SyslogHeader {
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ELEMENT…|-] MSG; `-` is the nil value.
  const m = /^(\S+) (\S+) (\S+) (\S+) (\S+) ?/.exec(rest);
  if (!m) return { message: rest };
  let msg = rest.slice(m[0].length);
  if (msg.startsWith('-')) msg = msg.slice(1);
  else if (msg.startsWith('[')) msg = skipStructuredData(msg);
  if (msg.startsWith(' ')) msg = msg.slice(1);
  if (msg.startsWith('\uFEFF')) msg = msg.slice(1);
  const out: SyslogHeader = { message: msg };
  const nil = (s: string | undefined): s is string => s !== undefined && s !== '-';
  if (nil(m[1])) out.time = m[1];
  if (nil(m[2])) out.host = m[2];
  if (nil(m[3])) out.program = m[3];
  if (nil(m[4]) && /^\d+$/.test(m[4])) out.pid = Number(m[4]);
  return out;
}

function skipStructuredData(s: string): string {
  let i = 0;
  while (s[i] === '[') {
    let inQuote = false;
    for (i++; i < s.length; i++) {
      const ch = s[i];
      if (inQuote) {
        if (ch === '\\') i++;
        else if (ch === '"') inQuote = false;
      } else if (ch === '"') inQuote = true;
      else if (ch === ']') break;
    }
    i++;
  }
  return s.slice(i);
}

import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { DirectiveExtent } from '../../model/planned.js';
import { inputFinding } from '../common/input-finding.js';
import type { SourceText } from '../sendmail/source-text.js';
import { fileOffset, logicalLines } from './config-lines.js';

/** One master.cf entry (master/master_ent.c get_master_ent): `service type private unpriv chroot wakeup maxproc command args…`. */
export interface MasterEntry {
  /** The service field as written (`smtp`, `127.0.0.1:smtp`, `[::1]:2525`). */
  service: string;
  type: string;
  private: string;
  maxproc: string;
  command: string;
  args: string[];
  /** `-o name=value` overrides in the command's arguments, in order. */
  overrides: { name: string; value: string; location: Location }[];
  /** The service field (the line to edit). */
  location: Location;
  directive: DirectiveExtent;
}

const DAEMON = 'postfix';

export function parseMasterCf(src: SourceText, findings: Finding[]): MasterEntry[] {
  const entries: MasterEntry[] = [];
  for (const l of logicalLines(src)) {
    // master_ent.c splits the fixed fields on blanks (mystrtok), the arguments honouring { … } (mystrtokq).
    const tokens: { text: string; at: number }[] = [];
    const re = /\{[^}]*\}?|[^ \t\r\n\f\v]+/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(l.text)) !== null) tokens.push({ text: m[0], at: m.index });
    const loc = (i: number, len = 0) => src.loc(fileOffset(l, i), len > 0 ? fileOffset(l, i + len - 1) + 1 : undefined);
    const first = tokens[0] as { text: string; at: number };
    if (tokens.length < 8) {
      const fields = ['service name', 'transport type', 'private', 'unprivileged', 'chroot', 'wakeup time', 'max process count', 'command'];
      findings.push(
        inputFinding(
          'BC002',
          loc(first.at, first.text.length),
          `${src.file}: line ${src.position(l.start).line}: missing "${fields[tokens.length] ?? 'command'}" field — postfix master refuses to start (master_ent.c fatal_with_context)`,
          DAEMON,
        ),
      );
      continue;
    }
    const args = tokens.slice(8).map((t) => (t.text.startsWith('{') ? t.text.replace(/^\{\s*|\s*\}$/g, '') : t.text));
    const overrides: MasterEntry['overrides'] = [];
    for (let i = 8; i < tokens.length; i++) {
      const t = tokens[i] as { text: string; at: number };
      let spec: string | undefined;
      let at = t.at;
      if (t.text === '-o' && tokens[i + 1]) {
        const n = tokens[i + 1] as { text: string; at: number };
        spec = n.text.startsWith('{') ? n.text.replace(/^\{\s*|\s*\}$/g, '') : n.text;
        at = n.at;
        i++;
      } else if (t.text.startsWith('{') && /^\{\s*-o\s/.test(t.text)) {
        spec = t.text.replace(/^\{\s*-o\s+|\s*\}$/g, '');
      } else if (t.text.startsWith('-o') && t.text.length > 2) {
        spec = t.text.slice(2);
      }
      if (spec === undefined) continue;
      const eq = /^([^=\s]+)\s*=\s*(.*)$/.exec(spec);
      if (eq) overrides.push({ name: eq[1] as string, value: eq[2] as string, location: loc(at, spec.length) });
    }
    entries.push({
      service: first.text,
      type: (tokens[1] as { text: string }).text,
      private: (tokens[2] as { text: string }).text,
      maxproc: (tokens[6] as { text: string }).text,
      command: (tokens[7] as { text: string }).text,
      args,
      overrides,
      location: loc(first.at, first.text.length),
      directive: src.directive(l.start, l.end, '#'),
    });
  }
  return entries;
}

/**
 * util/host_port.c as master_ent.c calls it on an inet service name: `[host]:port`, `host:port` (split at the
 * rightmost colon), or a bare `port`. Returns undefined for forms host_port rejects.
 */
export function splitServiceName(name: string): { host: string; port: string } | { error: string } {
  let host = '';
  let port: string;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return { error: `missing "]" in "${name}"` };
    host = name.slice(1, close);
    const rest = name.slice(close + 1);
    if (rest === '') return { error: `missing port in "${name}"` };
    if (!rest.startsWith(':')) return { error: `garbage after "]" in "${name}"` };
    port = rest.slice(1);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon >= 0) {
      host = name.slice(0, colon);
      port = name.slice(colon + 1);
    } else port = name;
  }
  if (port === '' || !/^[A-Za-z0-9_.-]+$/.test(port)) return { error: `bad port "${port}" in "${name}"` };
  return { host, port };
}

import type { LiveSocket, ProcessInfo } from '../model/live.js';

/** ss's names for the states (ss.c sstate_name), so the table reads like `ss -ltnup`. */
const SS_STATE: Record<string, string> = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYN-SENT',
  SYN_RECV: 'SYN-RECV',
  FIN_WAIT1: 'FIN-WAIT-1',
  FIN_WAIT2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT',
  CLOSE: 'UNCONN',
  CLOSE_WAIT: 'CLOSE-WAIT',
  LAST_ACK: 'LAST-ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  NEW_SYN_RECV: 'NEW-SYN-RECV',
};

export interface SocketsTableOptions {
  /** Owners listed per socket before `+N more` (the count is always exact). */
  maxOwners?: number;
}

const HEADER = ['Netid', 'State', 'Local Address:Port', 'Peer Address:Port', 'Process', 'Unit', 'Netns'];

/** `ss -ltnup`-style text: Netid State Local Peer Process, plus the systemd unit and network namespace. */
export function renderSocketsTable(sockets: readonly LiveSocket[], opts: SocketsTableOptions = {}): string {
  const maxOwners = opts.maxOwners ?? 3;
  const rows: string[][] = [HEADER];
  for (const s of sockets) {
    rows.push([
      s.proto,
      s.proto === 'udp' && s.state === 'ESTABLISHED' ? 'ESTAB' : (SS_STATE[s.state] ?? s.state),
      hostPort(s.address, String(s.port)),
      hostPort(s.remoteAddress, s.remotePort === 0 ? '*' : String(s.remotePort)),
      processColumn(s, maxOwners),
      escapeTerminal(units(s.owners)),
      s.netns ?? '',
    ]);
  }
  const widths = HEADER.map((_, c) => rows.reduce((w, r) => Math.max(w, (r[c] as string).length), 0));
  // Trailing columns are not padded, so lines end without spaces.
  const out: string[] = [];
  for (const r of rows) {
    let last = r.length - 1;
    while (last > 0 && r[last] === '') last--;
    let line = '';
    for (let c = 0; c <= last; c++) {
      const cell = r[c] as string;
      line += c === last ? cell : cell.padEnd((widths[c] as number) + 1);
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}

function hostPort(address: string, port: string): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `users:(("nginx",pid=1,uid=0),…)` like ss, capped, with the exact total; `?` when owners could not be seen. */
function processColumn(s: LiveSocket, max: number): string {
  if (s.owners.length === 0) return s.ownersKnown || s.inode === 0 ? '' : `? (uid=${s.uid} ino=${s.inode})`;
  const shown = s.owners.slice(0, max).map((p: ProcessInfo) => `("${escapeTerminal(p.comm)}",pid=${p.pid},uid=${p.uid})`);
  const more = s.owners.length - shown.length;
  return `users:(${shown.join(',')}${more > 0 ? `,…+${more} more` : ''})${s.ownersKnown ? '' : ' +?'}`;
}

function units(owners: readonly ProcessInfo[]): string {
  const seen = new Set<string>();
  for (const o of owners) if (o.unit) seen.add(o.unit);
  return [...seen].join(',');
}

/**
 * Make process-controlled text safe for a terminal: a process chooses its comm and argv, so they may hold escape
 * sequences, line breaks or bidi overrides that would forge or hide table rows. C0/C1 controls and DEL become
 * \xNN; bidi controls, zero-width and line/paragraph separators become \u{...}; a backslash is doubled so the
 * escapes stay unambiguous.
 */
export function escapeTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (isInvisibleFormat(cp)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out;
}

function isInvisibleFormat(cp: number): boolean {
  return (
    cp === 0x061c || // Arabic letter mark
    cp === 0x00ad || // soft hyphen
    (cp >= 0x200b && cp <= 0x200f) || // zero-width, LRM, RLM
    (cp >= 0x2028 && cp <= 0x202e) || // line/paragraph separators, LRE..RLO
    (cp >= 0x2060 && cp <= 0x2069) || // word joiner, invisible operators, LRI..PDI
    cp === 0xfeff || // BOM / zero-width no-break space
    (cp >= 0xfff9 && cp <= 0xfffb) // interlinear annotation
  );
}

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

/**
 * `ss -ltnup`-style text: Netid State Local Peer Process, plus the systemd unit and network namespace.
 * A host can have 100k sockets, so the table is written into one Buffer in two passes (widths, then text) and
 * only the process and unit cells are kept between them: holding ~7 small strings per row across the whole render
 * made the garbage collector, not the formatting, the cost.
 */
export function renderSocketsTable(sockets: readonly LiveSocket[], opts: SocketsTableOptions = {}): string {
  const maxOwners = opts.maxOwners ?? 3;
  const n = sockets.length;
  const procs = new Array<string>(n);
  const unitCells = new Array<string>(n);
  const widths = HEADER.map((h) => h.length);
  const cells = HEADER.slice();
  for (let i = 0; i < n; i++) {
    const s = sockets[i] as LiveSocket;
    procs[i] = processColumn(s, maxOwners);
    unitCells[i] = escapeTerminal(units(s.owners));
    rowCells(s, procs[i] as string, unitCells[i] as string, cells);
    for (let c = 0; c < cells.length; c++) if ((cells[c] as string).length > (widths[c] as number)) widths[c] = (cells[c] as string).length;
  }
  let lineMax = 0;
  for (const w of widths) lineMax += w + 1;
  const spaces = ' '.repeat(lineMax);
  let out = Buffer.allocUnsafe((n + 1) * (lineMax + 1));
  let pos = 0;
  for (let r = 0; r <= n; r++) {
    if (r === 0) for (let c = 0; c < HEADER.length; c++) cells[c] = HEADER[c] as string;
    else rowCells(sockets[r - 1] as LiveSocket, procs[r - 1] as string, unitCells[r - 1] as string, cells);
    // Room for the longest line with every character taking 3 UTF-8 bytes.
    if (out.length - pos < 3 * lineMax + 1) {
      const bigger = Buffer.allocUnsafe(out.length * 2 + 3 * lineMax + 1);
      out.copy(bigger, 0, 0, pos);
      out = bigger;
    }
    // Trailing columns are not padded, so lines end without spaces.
    let last = cells.length - 1;
    while (last > 0 && cells[last] === '') last--;
    let line = '';
    for (let c = 0; c < last; c++) line += (cells[c] as string) + spaces.slice(0, (widths[c] as number) + 1 - (cells[c] as string).length);
    pos += out.write(line + (cells[last] as string), pos, 'utf8');
    out[pos++] = 0x0a;
  }
  return out.toString('utf8', 0, pos);
}

function rowCells(s: LiveSocket, proc: string, unit: string, cells: string[]): void {
  cells[0] = s.proto;
  cells[1] = s.proto === 'udp' && s.state === 'ESTABLISHED' ? 'ESTAB' : (SS_STATE[s.state] ?? s.state);
  cells[2] = hostPort(s.address, String(s.port));
  cells[3] = hostPort(s.remoteAddress, s.remotePort === 0 ? '*' : String(s.remotePort));
  cells[4] = proc;
  cells[5] = unit;
  cells[6] = s.netns ?? '';
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
  if (!NEEDS_ESCAPE.test(text)) return text;
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

/** Any character escapeTerminal() would change: the common case (plain ASCII names) skips the per-character loop. */
const NEEDS_ESCAPE = /[\\\x00-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/;

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

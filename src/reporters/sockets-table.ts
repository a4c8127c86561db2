import { escapeProcessText } from '../text/escape.js';
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

/** Process-controlled text (comm, argv) made safe for a terminal, backslashes doubled so escapes stay unambiguous. */
export function escapeTerminal(text: string): string {
  return escapeProcessText(text);
}

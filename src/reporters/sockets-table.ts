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
 * A host can have 100k sockets, so the table is written into one Buffer in two passes (widths, then bytes): the
 * first measures the address cells arithmetically instead of building them, the second writes ASCII cells byte by
 * byte and only process-controlled cells (which may be any UTF-8) through Buffer.write. Only the process and unit
 * cells are kept between the passes; holding several small strings per row made the garbage collector the cost.
 */
export function renderSocketsTable(sockets: readonly LiveSocket[], opts: SocketsTableOptions = {}): string {
  const maxOwners = opts.maxOwners ?? 3;
  const n = sockets.length;
  const procs = new Array<string>(n);
  const unitCells = new Array<string>(n);
  const netnsText = new NetnsText();
  const widths = HEADER.map((h) => h.length);
  for (let i = 0; i < n; i++) {
    const s = sockets[i] as LiveSocket;
    // Owners not looked up (--no-owners) or not visible: `? (uid=U ino=I)`, measured and written without a string.
    const unseen = s.owners.length === 0 && !s.ownersKnown && s.inode !== 0;
    const proc = unseen ? UNSEEN : processColumn(s, maxOwners);
    const unit = s.owners.length === 0 ? '' : escapeTerminal(units(s.owners));
    procs[i] = proc;
    unitCells[i] = unit;
    widen(widths, 0, s.proto.length);
    widen(widths, 1, stateText(s).length);
    widen(widths, 2, hostPortLength(s.address, s.port));
    widen(widths, 3, hostPortLength(s.remoteAddress, s.remotePort === 0 ? -1 : s.remotePort));
    widen(widths, 4, unseen ? 13 + decimalLength(s.uid) + decimalLength(s.inode) : proc.length);
    widen(widths, 5, unit.length);
    widen(widths, 6, netnsText.of(s.netns).length);
  }
  let lineMax = 0;
  for (const w of widths) lineMax += w + 1;
  const w = new Writer((n + 1) * (lineMax + 1));
  for (let c = 0; c < HEADER.length; c++) w.cell(HEADER[c] as string, widths[c] as number, c === HEADER.length - 1);
  w.byte(0x0a);
  for (let r = 0; r < n; r++) {
    const s = sockets[r] as LiveSocket;
    const proc = procs[r] as string;
    const unit = unitCells[r] as string;
    const netns = netnsText.of(s.netns);
    w.reserve(3 * lineMax + 1);
    // Trailing columns are not padded, so lines end without spaces.
    const last = netns !== '' ? 6 : unit !== '' ? 5 : proc !== '' ? 4 : 3;
    w.ascii(s.proto, widths[0] as number);
    w.ascii(stateText(s), widths[1] as number);
    w.hostPort(s.address, s.port, widths[2] as number);
    w.hostPort(s.remoteAddress, s.remotePort === 0 ? -1 : s.remotePort, last === 3 ? -1 : (widths[3] as number));
    if (last >= 4) {
      if (proc === UNSEEN) w.unseenOwners(s.uid, s.inode, last === 4 ? -1 : (widths[4] as number));
      else w.cell(proc, widths[4] as number, last === 4);
    }
    if (last >= 5) w.cell(unit, widths[5] as number, last === 5);
    if (last >= 6) w.cell(netns, widths[6] as number, true);
    w.byte(0x0a);
  }
  return w.text();
}

function widen(widths: number[], c: number, len: number): void {
  if (len > (widths[c] as number)) widths[c] = len;
}

function stateText(s: LiveSocket): string {
  return s.proto === 'udp' && s.state === 'ESTABLISHED' ? 'ESTAB' : (SS_STATE[s.state] ?? s.state);
}

/** Marks a process cell that unseenOwners() writes; a real cell is escaped text and never holds a NUL. */
const UNSEEN = '\0';

/** Digits of a non-negative integer (ports, uids, inodes: below 2^53). */
function decimalLength(v: number): number {
  let d = 1;
  while (v >= 10) {
    v = Math.floor(v / 10);
    d++;
  }
  return d;
}

/** Length of `addr:port` or `[addr]:port` (port -1: `*`). */
function hostPortLength(address: string, port: number): number {
  return address.length + (address.includes(':') ? 2 : 0) + 1 + (port < 0 ? 1 : decimalLength(port));
}

/** The netns cell, escaped once per distinct value (every row of a table shares one namespace). */
class NetnsText {
  private raw: string | undefined = undefined;
  private text = '';
  of(netns: string | undefined): string {
    if (netns === undefined) return '';
    if (netns !== this.raw) {
      this.raw = netns;
      this.text = escapeTerminal(netns);
    }
    return this.text;
  }
}

/** A growing byte buffer for the table. */
class Writer {
  private buf: Buffer;
  private pos = 0;
  private nonAscii = false;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, size));
  }

  reserve(bytes: number): void {
    if (this.buf.length - this.pos >= bytes) return;
    const bigger = Buffer.allocUnsafe(this.buf.length * 2 + bytes);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private pad(k: number): void {
    const { buf } = this;
    for (let j = 0; j < k; j++) buf[this.pos++] = 0x20;
  }

  /** An ASCII cell (proto, state: never from a process) padded to `width` + 1. */
  ascii(text: string, width: number): void {
    const { buf } = this;
    for (let k = 0; k < text.length; k++) buf[this.pos++] = text.charCodeAt(k);
    this.pad(width + 1 - text.length);
  }

  /** `addr:port` or `[addr]:port`; port -1 is `*`. Width -1: last cell, unpadded. Addresses are ASCII (proc-net.ts). */
  hostPort(address: string, port: number, width: number): void {
    const { buf } = this;
    const v6 = address.includes(':');
    if (v6) buf[this.pos++] = 0x5b;
    for (let k = 0; k < address.length; k++) buf[this.pos++] = address.charCodeAt(k);
    if (v6) buf[this.pos++] = 0x5d;
    buf[this.pos++] = 0x3a;
    if (port < 0) buf[this.pos++] = 0x2a;
    else this.decimal(port);
    if (width >= 0) this.pad(width + 1 - hostPortLength(address, port));
  }

  private decimal(v: number): void {
    const d = decimalLength(v);
    for (let k = d - 1; k >= 0; k--, v = Math.floor(v / 10)) this.buf[this.pos + k] = 0x30 + (v % 10);
    this.pos += d;
  }

  private asciiRaw(text: string): void {
    for (let k = 0; k < text.length; k++) this.buf[this.pos++] = text.charCodeAt(k);
  }

  /** `? (uid=U ino=I)`, as processColumn() would give it. Width -1: last cell, unpadded. */
  unseenOwners(uid: number, inode: number, width: number): void {
    const start = this.pos;
    this.asciiRaw('? (uid=');
    this.decimal(uid);
    this.asciiRaw(' ino=');
    this.decimal(inode);
    this.buf[this.pos++] = 0x29;
    if (width >= 0) this.pad(width + 1 - (this.pos - start));
  }

  /**
   * Any text (already escaped), padded to `width` + 1 unless it is the line's last cell. ASCII is copied here
   * (Buffer.write costs more per call than a short cell takes to copy); other text goes through UTF-8 encoding.
   */
  cell(text: string, width: number, last: boolean): void {
    const { buf } = this;
    const start = this.pos;
    let k = 0;
    for (; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c > 0x7f) break;
      buf[this.pos++] = c;
    }
    if (k < text.length) {
      this.pos = start;
      this.pos += buf.write(text, start, 'utf8');
      this.nonAscii = true;
    }
    if (!last) this.pad(width + 1 - text.length);
  }

  text(): string {
    // latin1 is a plain copy; it reads ASCII the same as UTF-8 does.
    return this.buf.toString(this.nonAscii ? 'utf8' : 'latin1', 0, this.pos);
  }
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

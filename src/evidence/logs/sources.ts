import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import type { UnseenNote } from '../../model/index.js';
import type { RootFs } from '../../fs/root-fs.js';
import { LineScanner, type LineScannerOptions } from './line-scanner.js';

/** The syslog files daemons' bind failures end up in (Fedora/RHEL: messages, maillog; Debian: syslog, mail.*, daemon.log). */
export const SYSLOG_BASENAMES = ['messages', 'maillog', 'mail.log', 'mail.err', 'syslog', 'daemon.log'] as const;

export interface LogFile {
  /** The path to report: in-root (`/var/log/maillog.2.gz`) or as the user gave it. */
  file: string;
  hostPath: string;
  gzip: boolean;
}

export interface ScannedFile {
  file: string;
  lines: number;
  bytes: number;
}

/**
 * The syslog files under `/var/log` of the root, oldest first within each name: `maillog.3.gz`, `maillog.2.gz`,
 * `maillog.1`, then date-suffixed (`maillog-20170830`, Fedora's logrotate `dateext`), then `maillog`.
 */
/**
 * Rotated generations read per log name, newest first kept: logrotate keeps 4 to 52; an image with thousands (a
 * broken rotation, or a hostile one) must not make a scan take minutes. What is left out is said.
 */
export const MAX_ROTATED_PER_LOG = 30;

/** Daemons' own log files that carry bind failures (Exim writes them to its mainlog and paniclog, not syslog). */
export const DAEMON_LOG_FILES = ['/var/log/exim4/mainlog', '/var/log/exim4/paniclog', '/var/log/exim/main.log', '/var/log/exim/panic.log'];

export function findSyslogFiles(rootFs: RootFs): { files: string[]; leftOut: { log: string; count: number }[] } {
  const names = rootFs.list('/var/log');
  const files: string[] = [];
  const leftOut: { log: string; count: number }[] = [];
  for (const base of SYSLOG_BASENAMES) {
    const rotated: { name: string; order: number; date: string }[] = [];
    for (const name of names) {
      if (!name.startsWith(base)) continue;
      const rest = name.slice(base.length).replace(/\.gz$/, '');
      if (rest === '' && name === base) continue;
      let m: RegExpExecArray | null;
      if ((m = /^\.(\d{1,4})$/.exec(rest))) rotated.push({ name, order: Number(m[1]), date: '' });
      else if ((m = /^-(\d{8,10})$/.exec(rest))) rotated.push({ name, order: 0, date: m[1] as string });
    }
    rotated.sort((a, b) => b.order - a.order || a.date.localeCompare(b.date));
    const dropped = Math.max(0, rotated.length - MAX_ROTATED_PER_LOG);
    if (dropped > 0) leftOut.push({ log: `/var/log/${base}`, count: dropped });
    for (const r of rotated.slice(dropped)) files.push(`/var/log/${r.name}`);
    if (names.includes(base)) files.push(`/var/log/${base}`);
  }
  for (const f of DAEMON_LOG_FILES) if (rootFs.exists(f)) files.push(f);
  return { files, leftOut };
}

export type OpenResult = { ok: true; fd: number; size: number } | { ok: false; why: string };

/**
 * Open a regular file without following a final symlink and without blocking on a FIFO. lstat first: a device
 * node planted in an image as /var/log/maillog is never opened (opening some devices has effects of its own).
 */
export function openRegularFile(hostPath: string): OpenResult {
  let fd: number | undefined;
  try {
    const st = fs.lstatSync(hostPath);
    if (st.isSymbolicLink()) return { ok: false, why: 'is a symbolic link (not followed)' };
    if (!st.isFile()) return { ok: false, why: 'not a regular file' };
    fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) {
      fs.closeSync(fd);
      return { ok: false, why: 'not a regular file' };
    }
    return { ok: true, fd, size: opened.size };
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    return { ok: false, why: describeError(e) };
  }
}

export function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'is a symbolic link (not followed)';
    case 'EISDIR':
      return 'not a regular file';
    default:
      return code ? `cannot be read (${code})` : `cannot be read (${String((e as Error).message ?? e)})`;
  }
}

/**
 * Stream one file (gzip-compressed or not) through a line scanner; returns a note when it cannot be read.
 * Plain files are read straight into the scanner's block with positional reads (no per-chunk allocation).
 */
export async function scanFile(
  f: LogFile,
  needles: string[],
  onLine: (text: string, line: number) => void,
  opts: LineScannerOptions = {},
): Promise<{ scanned?: ScannedFile; unseen?: UnseenNote }> {
  const opened = openRegularFile(f.hostPath);
  if (!opened.ok) return { unseen: { what: f.file, why: opened.why } };
  const scanner = new LineScanner(needles, onLine, opts);
  const gzip = f.gzip || isGzip(opened.fd);
  try {
    if (gzip) {
      const stream = fs.createReadStream('', { fd: opened.fd, autoClose: false, highWaterMark: 256 * 1024 }).pipe(createGunzip({ chunkSize: 128 * 1024 }));
      for await (const chunk of stream) scanner.push(chunk as Buffer);
    } else {
      for (;;) {
        const space = scanner.space();
        const n = fs.readSync(opened.fd, space, 0, space.length, null);
        if (n === 0) break;
        scanner.commit(n);
      }
    }
    scanner.end();
  } catch (e) {
    scanner.end();
    const why = gzip && (e as NodeJS.ErrnoException).code?.startsWith('Z_') ? `gzip data is damaged (${(e as Error).message}); read up to line ${scanner.lines}` : describeError(e);
    return { scanned: { file: f.file, lines: scanner.lines, bytes: scanner.bytes }, unseen: { what: f.file, why } };
  } finally {
    fs.closeSync(opened.fd);
  }
  const out: { scanned: ScannedFile; unseen?: UnseenNote } = { scanned: { file: f.file, lines: scanner.lines, bytes: scanner.bytes } };
  if (scanner.truncated > 0) {
    out.unseen = { what: f.file, why: `${scanner.truncated} line(s) longer than ${opts.maxLine ?? 65536} bytes were read only up to that length` };
  }
  return out;
}

export function isGzip(fd: number): boolean {
  const b = Buffer.alloc(2);
  const n = fs.readSync(fd, b, 0, 2, 0);
  return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** An executable named `name` on PATH. */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** One journal entry as `journalctl -o json` prints it (only the fields bindcheck uses). */
export interface JournalEntry {
  MESSAGE?: string | number[] | null;
  __REALTIME_TIMESTAMP?: string;
  __CURSOR?: string;
  _HOSTNAME?: string;
  SYSLOG_IDENTIFIER?: string;
  _COMM?: string;
  _PID?: string;
  SYSLOG_PID?: string;
  _SYSTEMD_UNIT?: string;
  UNIT?: string;
}

/**
 * Stream `journalctl -o json` through a line scanner. The prefilter runs on the raw JSON; a MESSAGE logged as
 * binary (journalctl prints it as an array of byte values) is always decoded and offered.
 */
export async function scanJournal(
  journalctl: string,
  args: string[],
  needles: string[],
  onEntry: (entry: JournalEntry, line: number) => void,
  opts: LineScannerOptions = {},
): Promise<{ scanned: ScannedFile; unseen?: UnseenNote }> {
  const scanner = new LineScanner([...needles, '"MESSAGE":['], (text, line) => {
    let entry: JournalEntry;
    try {
      entry = JSON.parse(text) as JournalEntry;
    } catch {
      return;
    }
    if (entry && typeof entry === 'object') onEntry(entry, line);
  }, opts);
  const child = spawn(journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  try {
    for await (const chunk of child.stdout) scanner.push(chunk as Buffer);
  } catch {
    // reported through the exit status below
  }
  scanner.end();
  const { code, error } = await exited;
  const scanned = { file: 'journal', lines: scanner.lines, bytes: scanner.bytes };
  if (error) return { scanned, unseen: { what: 'journal', why: `journalctl could not be run: ${error.message}` } };
  if (code !== 0) {
    const first = stderr.trim().split('\n')[0] ?? '';
    return { scanned, unseen: { what: 'journal', why: `journalctl exited with status ${code}${first ? `: ${first}` : ''}` } };
  }
  return { scanned };
}

/** The journal's MESSAGE as text: a string, or an array of bytes for a message that is not valid UTF-8. */
export function journalMessage(m: JournalEntry['MESSAGE']): string | undefined {
  if (typeof m === 'string') return m;
  if (Array.isArray(m)) {
    const bytes = Buffer.from(m.filter((x) => Number.isInteger(x) && x >= 0 && x <= 255));
    const text = bytes.toString('utf8');
    return text.includes('\uFFFD') ? bytes.toString('latin1') : text;
  }
  return undefined;
}

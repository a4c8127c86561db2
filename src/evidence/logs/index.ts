import * as path from 'node:path';
import { RootFs } from '../../fs/root-fs.js';
import type { LogEvent, UnseenNote } from '../../model/index.js';
import { EventCollapser } from './collapse.js';
import { LineScanner, type LineScannerOptions } from './line-scanner.js';
import { scanLargeFile, type ParallelOptions } from './parallel.js';
import { keepSince } from './range-scan.js';
import { allNeedles, LOG_RECOGNISERS, recogniseHeader, recogniseRaw, type RawLogEvent } from './recognise.js';
import { findOnPath, findSyslogFiles, MAX_ROTATED_PER_LOG, journalMessage, scanFile, scanJournal, type JournalEntry, type ScannedFile } from './sources.js';
import type { SyslogHeader } from './syslog-line.js';

export { collapseEvents, EventCollapser } from './collapse.js';
export { LOG_RECOGNISERS, recogniseLine } from './recognise.js';
export type { LogRecogniser, Recognised } from './recogniser.js';
export { parseSyslogHeader } from './syslog-line.js';
export { SYSLOG_BASENAMES } from './sources.js';

export interface LogEvidenceOptions {
  /** The live host: read the running system's journal. Default: `root === '/'`. */
  live?: boolean;
  /** Only these systemd units from the journal (`journalctl -u`); syslog files are not filtered. */
  units?: string[];
  /** Only journal entries (and ISO-timestamped syslog lines) from this time on. */
  since?: Date;
  /** Extra log files named by the user, as host paths (not confined to the root: the user chose them). */
  files?: string[];
  /** Distinct events kept after collapsing; later new ones are counted in an unseen note. Default 10 000. */
  maxEvents?: number;
  /** Skip the syslog files under the root's /var/log (only `files` and the journal). */
  noSyslog?: boolean;
  /** Skip the journal. */
  noJournal?: boolean;
  /** Scanner tuning, for tests. */
  scanner?: LineScannerOptions;
  /** Scanning large plain files on several threads (default: when the host has more than one core). */
  parallel?: ParallelOptions;
  /** PATH to find journalctl on; default process.env.PATH. */
  path?: string;
}

export interface LogEvidence {
  events: LogEvent[];
  unseen: UnseenNote[];
  scanned: ScannedFile[];
}

/**
 * Bind-failure evidence from a root's logs: the syslog files under /var/log (rotated and gzip-compressed ones too),
 * files the user names, and the systemd journal (the live host's, or an image's /var/log/journal). Every file is
 * streamed in constant memory; a retry loop collapses into one event with a count.
 */
export async function readLogEvidence(root: string, opts: LogEvidenceOptions = {}): Promise<LogEvidence> {
  const rootFs = new RootFs(root);
  const live = opts.live ?? rootFs.root === '/';
  const collapser = new EventCollapser(opts.maxEvents);
  const unseen: UnseenNote[] = [];
  const scanned: ScannedFile[] = [];
  const needles = allNeedles();
  const sinceMs = opts.since?.getTime();

  const scanOne = async (file: string, hostPath: string): Promise<void> => {
    const big = await scanLargeFile({ file, hostPath, gzip: file.endsWith('.gz') }, { needles, sinceMs, maxEvents: opts.maxEvents ?? 10_000, scanner: opts.scanner }, collapser, opts.parallel);
    if (big) {
      scanned.push(big.scanned);
      if (big.unseen) unseen.push(big.unseen);
      return;
    }
    const r = await scanFile({ file, hostPath, gzip: file.endsWith('.gz') }, needles, (text, line) => {
      const raw = recogniseRaw(text, { file, line });
      if (raw && keepSince(raw, sinceMs)) collapser.add(raw);
    }, opts.scanner);
    if (r.scanned) scanned.push(r.scanned);
    if (r.unseen) unseen.push(r.unseen);
  };

  if (!opts.noSyslog) {
    const found = findSyslogFiles(rootFs);
    for (const l of found.leftOut) {
      unseen.push({ what: `${l.count} older rotations of ${l.log}`, why: `only the newest ${MAX_ROTATED_PER_LOG} are read` });
    }
    for (const file of found.files) {
      const resolved = rootFs.resolve(file);
      if (!resolved.ok) {
        unseen.push({ what: file, why: resolved.message });
        continue;
      }
      await scanOne(file, resolved.hostPath);
    }
  }
  for (const f of opts.files ?? []) await scanOne(f, path.resolve(f));

  if (!opts.noJournal) {
    const journalDir = rootFs.isDirectory('/var/log/journal') ? rootFs.resolve('/var/log/journal') : undefined;
    if (live || journalDir?.ok) {
      const journalctl = findOnPath('journalctl', opts.path);
      if (!journalctl) {
        unseen.push({ what: 'journal', why: 'journalctl not installed' });
      } else {
        const args = ['-o', 'json', '--no-pager'];
        if (!live && journalDir?.ok) args.push(`--directory=${journalDir.hostPath}`);
        if (opts.since) args.push(`--since=@${Math.floor(opts.since.getTime() / 1000)}`);
        for (const u of opts.units ?? []) args.push('-u', u);
        const r = await scanJournal(journalctl, args, needles, (entry, line) => {
          const raw = recogniseJournalEntry(entry, line);
          if (raw) collapser.add(raw);
        }, opts.scanner);
        scanned.push(r.scanned);
        if (r.unseen) unseen.push(r.unseen);
      }
    }
  }
  if (collapser.dropped > 0) {
    unseen.push({ what: 'log events', why: `${collapser.dropped} further distinct events were not kept (maxEvents ${opts.maxEvents ?? 10_000})` });
  }
  return { events: collapser.events, unseen, scanned };
}

/** One journal entry as an event, its fields taking the place of a syslog header. */
export function recogniseJournalEntry(entry: JournalEntry, line: number): RawLogEvent | null {
  const message = journalMessage(entry.MESSAGE);
  if (message === undefined) return null;
  const header: SyslogHeader = { message };
  const us = Number(entry.__REALTIME_TIMESTAMP);
  if (entry.__REALTIME_TIMESTAMP !== undefined && Number.isFinite(us)) header.time = new Date(Math.floor(us / 1000)).toISOString();
  if (entry._HOSTNAME) header.host = entry._HOSTNAME;
  const program = entry.SYSLOG_IDENTIFIER ?? entry._COMM;
  if (program) header.program = program;
  const pid = Number(entry._PID ?? entry.SYSLOG_PID);
  if ((entry._PID ?? entry.SYSLOG_PID) !== undefined && Number.isInteger(pid)) header.pid = pid;
  const raw = recogniseHeader(header, { file: entry.__CURSOR ? `journal:${entry.__CURSOR}` : 'journal', line });
  if (!raw) return null;
  // systemd's own messages about a unit carry it in UNIT; a daemon's messages come from its _SYSTEMD_UNIT.
  const unit = raw.event.unit ?? entry.UNIT ?? entry._SYSTEMD_UNIT;
  if (unit !== undefined) raw.event.unit = unit;
  return raw;
}

/**
 * Recognise pasted log text (one or more lines) as if it were the file `file`; retry loops collapse.
 * A single pasted line without timestamp or host is recognised too.
 */
export function scanLogText(text: string | Buffer, file = '<input>', opts: { maxEvents?: number; scanner?: LineScannerOptions } = {}): LogEvidence {
  const collapser = new EventCollapser(opts.maxEvents);
  const scanner = new LineScanner(allNeedles(LOG_RECOGNISERS), (line, n) => {
    const raw = recogniseRaw(line, { file, line: n });
    if (raw) collapser.add(raw);
  }, opts.scanner);
  scanner.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  scanner.end();
  const unseen: UnseenNote[] = [];
  if (scanner.truncated > 0) unseen.push({ what: file, why: `${scanner.truncated} line(s) were read only up to ${opts.scanner?.maxLine ?? 65536} bytes` });
  if (collapser.dropped > 0) unseen.push({ what: 'log events', why: `${collapser.dropped} further distinct events were not kept` });
  return { events: collapser.events, unseen, scanned: [{ file, lines: scanner.lines, bytes: scanner.bytes }] };
}

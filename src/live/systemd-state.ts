import { execFileSync } from 'node:child_process';
import { RootFs } from '../fs/root-fs.js';
import type { UnseenNote } from '../model/inventory.js';
import type { Location } from '../model/location.js';
import { signalNumber } from '../evidence/exit-status.js';
import { splitWords } from '../readers/systemd/unit-syntax.js';

/** How the main process ended, as systemd names si_code (CLD_EXITED=1, CLD_KILLED=2, CLD_DUMPED=3). */
export type ExecCode = 'exited' | 'killed' | 'dumped';

/** One Exec*= command as `systemctl show` reports it, with the outcome of its last run. */
export interface ShownExecCommand {
  path: string;
  /** argv as systemd shows it: as written in the unit, before $VAR expansion. */
  argv: string[];
  ignoreErrors?: boolean;
  pid?: number;
  code?: ExecCode;
  /** Exit status, or signal number when killed. */
  status?: number;
  /** Text after the slash (`n/a`, `EXEC`, `TERM`), when shown. */
  statusLabel?: string;
  startTime?: string;
}

/** What systemd says about a unit's last run. Every field is optional: saved text may show only part of it. */
export interface UnitState {
  unit: string;
  loadState?: string;
  activeState?: string;
  subState?: string;
  result?: string;
  execMainStatus?: number;
  execMainCode?: ExecCode;
  execMainPid?: number;
  mainPid?: number;
  nRestarts?: number;
  fragmentPath?: string;
  dropInPaths: string[];
  execStart: ShownExecCommand[];
  /** Where this came from: `systemctl show UNIT` (line 0) or the saved status text. */
  source: Location;
}

export type UnitStateResult = { ok: true; state: UnitState } | { ok: false; unseen: UnseenNote };

export interface ReadUnitStateOptions {
  /** Root whose /run/systemd/system tells whether the host booted with systemd (sd_booted()); `/` by default. */
  root?: string;
  /** PATH to find systemctl with; the process's PATH by default. */
  path?: string;
  timeoutMs?: number;
}

export const SHOW_PROPERTIES = [
  'LoadState',
  'ActiveState',
  'SubState',
  'Result',
  'ExecMainStatus',
  'ExecMainCode',
  'ExecMainPID',
  'MainPID',
  'NRestarts',
  'FragmentPath',
  'DropInPaths',
  'ExecStart',
] as const;

/**
 * Ask the live host's systemd about a unit with `systemctl show`. On a host not booted with systemd
 * (no /run/systemd/system, as sd_booted() checks) or without systemctl, say so as an unseen note instead.
 */
export function readUnitState(unit: string, opts: ReadUnitStateOptions = {}): UnitStateResult {
  const root = opts.root ?? '/';
  if (!new RootFs(root).isDirectory('/run/systemd/system')) {
    return { ok: false, unseen: { what: `systemd state of ${unit}`, why: 'the host was not booted with systemd (/run/systemd/system is absent)' } };
  }
  const args = ['show', unit, '-p', SHOW_PROPERTIES.join(','), '--no-pager'];
  let out: string;
  try {
    out = execFileSync('systemctl', args, {
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: opts.path ?? process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; status?: number };
    if (err.code === 'ENOENT') return { ok: false, unseen: { what: `systemd state of ${unit}`, why: 'systemctl is not installed (not found on PATH)' } };
    const msg = (err.stderr ?? '').toString().trim().split('\n')[0] || err.message;
    return { ok: false, unseen: { what: `systemd state of ${unit}`, why: `systemctl show failed: ${msg}` } };
  }
  return { ok: true, state: parseSystemctlShow(out, unit, { file: `systemctl show ${unit}`, line: 0 }) };
}

const EXEC_CODES: Record<string, ExecCode> = { '1': 'exited', '2': 'killed', '3': 'dumped', exited: 'exited', killed: 'killed', dumped: 'dumped' };

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^-?\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** Parse `systemctl show` output (`Key=value` lines; Exec*= as `{ path=… ; argv[]=… ; … }`, one line per command). */
export function parseSystemctlShow(text: string, unit: string, source: Location): UnitState {
  const s: UnitState = { unit, dropInPaths: [], execStart: [], source };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    switch (key) {
      case 'Id':
        s.unit = value;
        break;
      case 'LoadState':
        s.loadState = value;
        break;
      case 'ActiveState':
        s.activeState = value;
        break;
      case 'SubState':
        s.subState = value;
        break;
      case 'Result':
        s.result = value;
        break;
      case 'ExecMainStatus': {
        const n = int(value);
        if (n !== undefined) s.execMainStatus = n;
        break;
      }
      case 'ExecMainCode': {
        const c = EXEC_CODES[value.trim()];
        if (c) s.execMainCode = c;
        break;
      }
      case 'ExecMainPID': {
        const n = int(value);
        if (n !== undefined && n > 0) s.execMainPid = n;
        break;
      }
      case 'MainPID': {
        const n = int(value);
        if (n !== undefined && n > 0) s.mainPid = n;
        break;
      }
      case 'NRestarts': {
        const n = int(value);
        if (n !== undefined) s.nRestarts = n;
        break;
      }
      case 'FragmentPath':
        if (value) s.fragmentPath = value;
        break;
      case 'DropInPaths':
        s.dropInPaths = value.split(/\s+/).filter((p) => p.length > 0);
        break;
      case 'ExecStart': {
        const c = parseShownExec(value);
        if (c) s.execStart.push(c);
        break;
      }
    }
  }
  return s;
}

/** `{ path=/usr/sbin/sendmail ; argv[]=/usr/sbin/sendmail -bd … ; ignore_errors=no ; … ; pid=24097 ; code=exited ; status=71/n/a }` */
export function parseShownExec(value: string): ShownExecCommand | undefined {
  const m = /^\s*\{\s*(.*?)\s*\}\s*$/s.exec(value);
  if (!m) return undefined;
  const fields = new Map<string, string>();
  // Fields are ` ; `-separated `name=value`; a value may itself contain ` ; ` only inside argv[], so split on the
  // known field names instead of on the separator.
  const re = /(?:^|\s;\s)(path|argv\[\]|flags|ignore_errors|start_time|stop_time|pid|code|status)=/g;
  const hits = [...(m[1] as string).matchAll(re)];
  hits.forEach((h, i) => {
    const start = (h.index as number) + h[0].length;
    const end = i + 1 < hits.length ? (hits[i + 1] as RegExpMatchArray).index : (m[1] as string).length;
    fields.set(h[1] as string, (m[1] as string).slice(start, end).trim());
  });
  const p = fields.get('path');
  if (p === undefined) return undefined;
  const argvText = fields.get('argv[]') ?? '';
  const c: ShownExecCommand = { path: p, argv: splitWords(argvText)?.words ?? argvText.split(/\s+/).filter(Boolean) };
  const ig = fields.get('ignore_errors');
  if (ig !== undefined) c.ignoreErrors = ig === 'yes';
  const pid = int(fields.get('pid'));
  if (pid !== undefined && pid > 0) c.pid = pid;
  const code = EXEC_CODES[fields.get('code') ?? ''];
  if (code) c.code = code;
  const st = /^(-?\d+)(?:\/(.+))?$/.exec(fields.get('status') ?? '');
  if (st && c.code) {
    c.status = Number(st[1]);
    if (st[2] !== undefined) c.statusLabel = st[2];
  }
  const t = fields.get('start_time');
  if (t !== undefined && t !== '[n/a]') c.startTime = t.replace(/^\[|\]$/g, '');
  return c;
}

/** A line of saved text with where it is. */
export interface SourcedLine {
  text: string;
  location: Location;
}

/** A `Process:` or `Main PID:` line of `systemctl status`. */
export interface StatusProcess {
  pid: number;
  /** `ExecStart`, `ExecStartPre`… for Process: lines. */
  kind?: string;
  /** The command as shown (unexpanded). */
  command?: string;
  /** The process name shown for a running main process (`Main PID: 1234 (sendmail)`). */
  comm?: string;
  code?: ExecCode;
  status?: number;
  statusLabel?: string;
  signal?: string;
  location: Location;
}

export interface SystemctlStatus {
  state: UnitState;
  description?: string;
  /** Unit file state and preset from the Loaded: line (`enabled`, `vendor preset: enabled`). */
  unitFileState?: string;
  preset?: string;
  /** Active: … since TIME. */
  since?: string;
  processes: StatusProcess[];
  mainProcess?: StatusProcess;
  /** Where each fact was read. */
  locations: { header?: Location; loaded?: Location; active?: Location };
  /** The journal lines printed under the status, raw, for the log recogniser. */
  logLines: SourcedLine[];
  /** Warnings systemctl printed (`changed on disk`, `Hint: Some lines were ellipsized`). */
  warnings: SourcedLine[];
}

const UNIT_SUFFIX = '(?:service|socket|target|mount|automount|swap|timer|path|slice|scope|device)';
const HEADER = new RegExp(`^\\s*(?:\\S{1,8}\\s+)?([A-Za-z0-9:_.@\\\\-]+\\.${UNIT_SUFFIX})(?:\\s+-\\s+(.*))?\\s*$`);
const FIELD = /^\s*(Loaded|Active|Docs|Process|Main PID|Tasks|Memory|CPU|CGroup|Drop-In|Status|TriggeredBy|Triggers|Invocation|IP|IO|Mem peak|Listen|Accepted|Connected|Trigger|Notify|Condition|Assert):\s?(.*)$/;

/** `(code=exited, status=71)`, `(code=exited, status=203/EXEC)`, `(code=killed, signal=TERM)`. */
function parseOutcome(text: string, p: StatusProcess): void {
  const code = /code=(\w+)/.exec(text)?.[1];
  if (code && EXEC_CODES[code]) p.code = EXEC_CODES[code];
  const st = /status=(\d+)(?:\/([^,)\s]+))?/.exec(text);
  if (st) {
    p.status = Number(st[1]);
    if (st[2] !== undefined) p.statusLabel = st[2];
  }
  const sig = /signal=(\w+)/.exec(text)?.[1];
  if (sig) p.signal = sig;
}

/**
 * Parse saved `systemctl status [-l] UNIT` text: the header, Loaded:/Active:/Process:/Main PID:/Drop-In: lines and
 * the journal lines under them (kept raw with file:line for the log recogniser). Tolerates the bullet being lost or
 * mangled by a wrong encoding (the seed's `‚óŹ` is `●` read as Mac Roman) and missing fields.
 */
export function parseSystemctlStatus(text: string, file: string): SystemctlStatus {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: SystemctlStatus = {
    state: { unit: '', dropInPaths: [], execStart: [], source: { file, line: 0 } },
    processes: [],
    locations: {},
    logLines: [],
    warnings: [],
  };
  const s = out.state;
  let phase: 'before' | 'fields' | 'logs' = 'before';
  let lastField: string | undefined;
  let dropInDir: string | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const location: Location = { file, line: i + 1 };
    if (/^\s*(Warning:|Hint:)/.test(line)) {
      out.warnings.push({ text: line.trim(), location });
      continue;
    }
    if (phase === 'before') {
      const h = HEADER.exec(line);
      if (h && !FIELD.test(line)) {
        s.unit = h[1] as string;
        if (h[2] !== undefined) out.description = h[2].trim();
        s.source = location;
        out.locations.header = location;
        phase = 'fields';
        continue;
      }
      if (!FIELD.test(line)) continue;
      phase = 'fields';
    }
    if (phase === 'fields') {
      if (line.trim() === '') {
        phase = 'logs';
        continue;
      }
      const f = FIELD.exec(line);
      if (!f) {
        // Continuation of a multi-line field (Drop-In: files, CGroup: tree, Docs: links).
        if (lastField === 'Drop-In' && dropInDir !== undefined) {
          const names = line.replace(/^[\s│├└─]+/, '').split(/,\s*/).filter(Boolean);
          for (const n of names) if (!n.includes('/')) s.dropInPaths.push(`${dropInDir}/${n}`);
          if (/^\s*\//.test(line)) dropInDir = line.trim();
        }
        continue;
      }
      const key = f[1] as string;
      const value = (f[2] as string).trim();
      lastField = key;
      if (key === 'Loaded') {
        out.locations.loaded = location;
        const m = /^(\S+)(?:\s+\((.*)\))?/.exec(value);
        if (m) {
          s.loadState = m[1] as string;
          const inner = (m[2] ?? '').split(/;\s*/);
          if (inner[0]?.startsWith('/')) s.fragmentPath = inner[0];
          if (inner[1] !== undefined && inner[0]?.startsWith('/')) out.unitFileState = inner[1].trim();
          const preset = inner.find((x) => /preset:/.test(x));
          if (preset) out.preset = preset.replace(/^.*preset:\s*/, '').trim();
        }
      } else if (key === 'Active') {
        out.locations.active = location;
        const m = /^(\S+)((?:\s+\([^)]*\))*)(?:\s+since\s+([^;]+))?/.exec(value);
        if (m) {
          s.activeState = m[1] as string;
          for (const g of (m[2] ?? '').matchAll(/\(([^)]*)\)/g)) {
            const inner = g[1] as string;
            if (inner.startsWith('Result:')) s.result = inner.slice(7).trim();
            else s.subState = inner;
          }
          if (m[3] !== undefined) out.since = m[3].trim();
        }
      } else if (key === 'Process') {
        const m = /^(\d+)\s+(\w+)=(.*?)\s*(\((?:code|status)=[^()]*\))?$/.exec(value);
        if (m) {
          const p: StatusProcess = { pid: Number(m[1]), kind: m[2] as string, command: (m[3] as string).trim(), location };
          if (m[4]) parseOutcome(m[4], p);
          out.processes.push(p);
        }
      } else if (key === 'Main PID') {
        const m = /^(\d+)(?:\s+\(([^)]*)\))?/.exec(value);
        if (m) {
          const p: StatusProcess = { pid: Number(m[1]), location };
          const inner = m[2] ?? '';
          if (/code=/.test(inner)) parseOutcome(inner, p);
          else if (inner) p.comm = inner;
          out.mainProcess = p;
          s.mainPid = p.pid;
          s.execMainPid = p.pid;
          if (p.code) s.execMainCode = p.code;
          if (p.code === 'exited' && p.status !== undefined) s.execMainStatus = p.status;
          if (p.code !== undefined && p.code !== 'exited' && p.signal) {
            const n = signalNumber(p.signal);
            if (n !== undefined) s.execMainStatus = n;
          }
        }
      } else if (key === 'Drop-In') {
        dropInDir = value.startsWith('/') ? value : undefined;
      }
      continue;
    }
    // phase === 'logs'
    if (line.trim() === '' || /^-- .* --$|^-- (Logs begin|Journal begins|No entries|Boot )/.test(line.trim())) continue;
    out.logLines.push({ text: line, location });
  }
  for (const p of out.processes) {
    if (p.kind === 'ExecStart') {
      const words = splitWords(p.command ?? '')?.words ?? [];
      const c: ShownExecCommand = { path: words[0] ?? '', argv: words, pid: p.pid };
      if (p.code) c.code = p.code;
      if (p.status !== undefined) c.status = p.status;
      if (p.statusLabel !== undefined) c.statusLabel = p.statusLabel;
      s.execStart.push(c);
    }
  }
  return out;
}

/**
 * Reads strace output line by line, as `strace -f [-tt|-ttt|-r] [-y|-yy] [-T] [-o FILE]` writes it, into events.
 * It knows strace's line grammar and nothing about sockets (see sockets.ts) or the kernel (see replay.ts).
 *
 * Shapes handled: `[pid N] ` prefixes (stderr, several processes) and pid-first lines (`-o FILE` with -f:
 * `N  time call…`); unprefixed lines, which strace writes when it traces a single process (so they belong to the
 * only live one); `<unfinished ...>` / `<... NAME resumed>` halves, joined and emitted where they complete;
 * `--- SIG… ---` signals; `+++ exited with N +++` / `+++ killed by SIG… +++`; `[strace: ]Process N attached`.
 * A line that is none of these (garbage, or truncated by a killed strace) never throws: it becomes a note.
 */
import type { Location } from '../../model/location.js';
import { type FdTag, parseFdArg, splitArgs } from './args.js';

/** One completed system call. */
export interface StraceCall {
  kind: 'call';
  /** The process; undefined for the first traced process while the trace does not show its pid. */
  pid: number | undefined;
  /** As printed: `04:41:28.393692` (-tt), `1693400000.123456` (-ttt), `0.000123` (-r); undefined without -t. */
  time?: string;
  syscall: string;
  /** Raw argument text (both halves joined for a split call). */
  args: string;
  /** `args` split at top-level commas. */
  argv: string[];
  /** The return value; undefined for `= ?` (the process died in the call, or strace could not tell). */
  result?: number;
  /** The `-y` decoration of a returned fd (`= 4<TCP:[1234]>`). */
  resultTag?: FdTag;
  /** `EADDRINUSE` when the call failed. */
  errno?: string;
  /** strace's text for the errno (`Address already in use`). */
  errnoText?: string;
  /** Where the call starts (the line with its arguments). */
  source: Location;
  /** Where a split call completed (`<... bind resumed>`), when that is another line. */
  resumedAt?: Location;
}

export interface StraceExit {
  kind: 'exit';
  pid: number | undefined;
  time?: string;
  /** `+++ exited with N +++`. */
  status?: number;
  /** `+++ killed by SIGKILL +++`. */
  signal?: string;
  coreDumped?: boolean;
  source: Location;
}

export interface StraceSignal {
  kind: 'signal';
  pid: number | undefined;
  time?: string;
  signal: string;
  /** The `{si_signo=…}` text or `stopped by`, raw. */
  info: string;
  source: Location;
}

/** `Process N attached` / `detached`: strace started or stopped following a process. */
export interface StraceAttach {
  kind: 'attach' | 'detach';
  pid: number;
  source: Location;
}

/**
 * The first traced process, which the trace showed without a pid so far, turns out to be `pid` (strace starts
 * prefixing its lines once a second process is traced).
 */
export interface StracePidLearned {
  kind: 'pid-learned';
  pid: number;
  source: Location;
}

export type StraceEvent = StraceCall | StraceExit | StraceSignal | StraceAttach | StracePidLearned;

export interface StraceNote {
  message: string;
  source: Location;
}

export interface ParsedStrace {
  events: StraceEvent[];
  notes: StraceNote[];
  /** Every syscall name that appears (to tell what the `-e trace=` filter let through). */
  syscalls: Set<string>;
  /** strace's own complaints found in the text (`PTRACE_TRACEME: Operation not permitted`). */
  straceErrors: StraceNote[];
  /** Lines read. */
  lines: number;
  /** Lines that were skipped as unrecognised or truncated. */
  skipped: number;
}

const PREFIX = /^(?:\[pid\s+(\d{1,9})\]\s*|(\d{1,9})\s+(?=\S))?(?:(\d{1,2}:\d{2}:\d{2}(?:\.\d+)?|\d+\.\d+)\s+)?(.*)$/s;
const RESULT = /^(-?\d+|\?|0x[0-9a-fA-F]+)(<[^\n]*?>(?=\s|$))?(?:\s+([A-Z][A-Z0-9_]+)(?:\s+\(([^)]*)\))?)?/;
const NOTE_SNIPPET = 60;

interface Pending {
  pid: number | undefined;
  time?: string;
  syscall: string;
  args: string;
  source: Location;
}

/** The initial process's key in the live set (its pid is not known yet). */
const INITIAL = -1;

/**
 * A streaming parser: feed() it chunks as they arrive (a growing `-o` file), end() it once. parseStrace() is the
 * one-shot form. Line numbers count every line fed, so locations match the file.
 */
export class StraceParser {
  private buffered = '';
  private lineNo = 0;
  private readonly pending = new Map<string, Pending>();
  /** Processes seen alive; INITIAL stands for the first process until its pid is learned. */
  private readonly live = new Set<number>();
  private initialPid: number | undefined;
  private initialSeen = false;
  private lastPid: number | undefined;
  private readonly announced = new Set<number>();
  readonly notes: StraceNote[] = [];
  readonly straceErrors: StraceNote[] = [];
  readonly syscalls = new Set<string>();
  skipped = 0;

  constructor(private readonly file: string) {}

  get lines(): number {
    return this.lineNo;
  }

  /** Parses the complete lines in `chunk` (a trailing partial line waits for the next chunk or end()). */
  feed(chunk: string): StraceEvent[] {
    this.buffered += chunk;
    const out: StraceEvent[] = [];
    let nl = this.buffered.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      this.line(line, out);
      nl = this.buffered.indexOf('\n');
    }
    return out;
  }

  /** Parses what is left and reports calls that never completed. */
  end(): StraceEvent[] {
    const out: StraceEvent[] = [];
    if (this.buffered !== '') {
      const rest = this.buffered;
      this.buffered = '';
      this.line(rest, out);
    }
    for (const p of this.pending.values()) {
      this.note(`${p.syscall}() never completed in the trace (the trace ends inside it)`, p.source);
    }
    this.pending.clear();
    return out;
  }

  private loc(): Location {
    return { file: this.file, line: this.lineNo };
  }

  private note(message: string, source: Location = this.loc()): void {
    this.notes.push({ message, source });
  }

  private skip(raw: string, why: string): void {
    this.skipped++;
    const snippet = raw.length > NOTE_SNIPPET ? `${raw.slice(0, NOTE_SNIPPET)}…` : raw;
    this.note(`${why}: ${JSON.stringify(snippet)}`);
  }

  private resolvePid(prefixed: number | undefined, out: StraceEvent[]): number | undefined {
    if (prefixed !== undefined) {
      if (!this.live.has(prefixed) && !this.announced.has(prefixed) && this.live.has(INITIAL) && this.initialPid === undefined) {
        // strace prefixes every line once it follows two processes: an unannounced pid is the first process.
        this.initialPid = prefixed;
        this.live.delete(INITIAL);
        out.push({ kind: 'pid-learned', pid: prefixed, source: this.loc() });
      }
      this.live.add(prefixed);
      this.lastPid = prefixed;
      return prefixed;
    }
    if (!this.initialSeen && this.live.size === 0) {
      this.initialSeen = true;
      this.live.add(INITIAL);
    }
    if (this.live.size === 1) {
      const only = [...this.live][0] as number;
      return only === INITIAL ? this.initialPid : only;
    }
    if (this.live.has(INITIAL)) return this.initialPid;
    if (this.live.size > 1) this.note('a line without a pid while several processes are traced; taken as the last active one');
    return this.lastPid;
  }

  private forget(pid: number | undefined): void {
    if (pid === undefined || pid === this.initialPid) this.live.delete(INITIAL);
    if (pid !== undefined) this.live.delete(pid);
  }

  private line(rawLine: string, out: StraceEvent[]): void {
    this.lineNo++;
    const raw = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = raw.trim();
    if (trimmed === '') return;

    const attach = /^(?:strace: )?Process (\d{1,9}) (attached|detached)(?:\s.*)?$/.exec(trimmed);
    if (attach) {
      const pid = Number(attach[1]);
      if (attach[2] === 'attached') {
        this.announced.add(pid);
        this.live.add(pid);
        out.push({ kind: 'attach', pid, source: this.loc() });
      } else {
        this.forget(pid);
        out.push({ kind: 'detach', pid, source: this.loc() });
      }
      return;
    }
    if (trimmed.startsWith('strace: ')) {
      const msg = trimmed.slice('strace: '.length);
      if (/Operation not permitted|not permitted|ptrace/i.test(msg)) this.straceErrors.push({ message: msg, source: this.loc() });
      this.note(`strace says: ${msg.length > 120 ? `${msg.slice(0, 120)}…` : msg}`);
      return;
    }

    const m = PREFIX.exec(trimmed);
    if (!m) return this.skip(raw, 'unrecognised line');
    const prefixed = m[1] ?? m[2];
    const time = m[3];
    const body = (m[4] ?? '').trim();
    if (body === '') return this.skip(raw, 'a line with only a pid or time');
    const pid = this.resolvePid(prefixed === undefined ? undefined : Number(prefixed), out);
    const withTime = <T extends object>(o: T): T => (time === undefined ? o : { ...o, time });

    const exit = /^\+\+\+ (?:exited with (\d+)|killed by (SIG[A-Z0-9+-]+|\d+)( \(core dumped\))?) \+\+\+$/.exec(body);
    if (exit) {
      const ev: StraceExit = withTime({ kind: 'exit', pid, source: this.loc() });
      if (exit[1] !== undefined) ev.status = Number(exit[1]);
      if (exit[2] !== undefined) ev.signal = exit[2];
      if (exit[3] !== undefined) ev.coreDumped = true;
      const key = String(pid);
      const p = this.pending.get(key);
      if (p) {
        this.pending.delete(key);
        this.note(`${p.syscall}() was interrupted: the process ended inside it`, p.source);
      }
      this.forget(pid);
      out.push(ev);
      return;
    }
    if (body.startsWith('+++')) return this.skip(raw, 'unrecognised +++ line');

    const sig = /^--- (?:(SIG[A-Z0-9+-]+) (.*)|stopped by (SIG[A-Z0-9+-]+)) ---$/.exec(body);
    if (sig) {
      out.push(withTime({ kind: 'signal', pid, signal: sig[1] ?? sig[3] ?? '', info: sig[2] ?? 'stopped', source: this.loc() }));
      return;
    }
    if (body.startsWith('---')) return this.skip(raw, 'unrecognised signal line');

    const key = String(pid);
    const resumed = /^<\.\.\. ([a-z_][a-z0-9_]*) resumed>\s*(.*)$/s.exec(body);
    if (resumed) {
      const name = resumed[1] as string;
      const tail = resumed[2] as string;
      const start = this.pending.get(key);
      this.pending.delete(key);
      if (start && start.syscall !== name) {
        this.note(`${start.syscall}() was left unfinished and ${name}() resumed instead`, start.source);
      }
      const split = splitResult(tail.startsWith(',') ? tail.slice(1) : tail);
      if (!split) return this.skip(raw, `a resumed ${name}() without a result (truncated?)`);
      let args = split.args;
      let source = this.loc();
      let callTime = time;
      if (start && start.syscall === name) {
        args = joinArgs(start.args, split.args);
        source = start.source;
        callTime = start.time;
      } else {
        this.note(`${name}() resumed without its start in the trace; its first arguments are missing`);
      }
      this.syscalls.add(name);
      const call = this.call(pid, callTime, name, args, split.result, source);
      if (source.line !== this.lineNo) call.resumedAt = this.loc();
      out.push(call);
      return;
    }

    const head = /^([a-z_][a-z0-9_]*)\((.*)$/s.exec(body);
    if (!head) return this.skip(raw, 'unrecognised line');
    const name = head[1] as string;
    const rest = head[2] as string;
    const unfinished = /^(.*?)\s*<unfinished \.\.\.>$/s.exec(rest);
    if (unfinished) {
      const prev = this.pending.get(key);
      if (prev) this.note(`${prev.syscall}() was left unfinished and never resumed`, prev.source);
      const p: Pending = { pid, syscall: name, args: unfinished[1] as string, source: this.loc() };
      if (time !== undefined) p.time = time;
      this.pending.set(key, p);
      return;
    }
    const split = splitResult(rest);
    if (!split) return this.skip(raw, `${name}() without a result (truncated line?)`);
    this.syscalls.add(name);
    out.push(this.call(pid, time, name, split.args, split.result, this.loc()));
  }

  private call(
    pid: number | undefined,
    time: string | undefined,
    syscall: string,
    args: string,
    result: string,
    source: Location,
  ): StraceCall {
    const call: StraceCall = { kind: 'call', pid, syscall, args, argv: splitArgs(args), source };
    if (time !== undefined) call.time = time;
    const r = RESULT.exec(result);
    if (!r) {
      this.note(`${syscall}() has an unreadable result ${JSON.stringify(result.slice(0, NOTE_SNIPPET))}`, source);
      return call;
    }
    const value = r[1] as string;
    if (value !== '?') call.result = value.startsWith('0x') ? Number.parseInt(value, 16) : Number(value);
    if (r[2] !== undefined) {
      const tagged = parseFdArg(`${value}${r[2]}`);
      if (tagged?.tag) call.resultTag = tagged.tag;
    }
    if (r[3] !== undefined) call.errno = r[3];
    if (r[4] !== undefined) call.errnoText = r[4];
    return call;
  }
}

function joinArgs(a: string, b: string): string {
  const x = a.trim();
  const y = b.trim();
  if (x === '') return y;
  if (y === '') return x;
  return x.endsWith(',') || y.startsWith(',') ? `${x} ${y}` : `${x}, ${y}`;
}

/** `4, {…}, 16) = -1 EADDRINUSE (…)` → args `4, {…}, 16` and result `-1 EADDRINUSE (…)`; undefined if truncated. */
function splitResult(rest: string): { args: string; result: string } | undefined {
  const m = /^(.*)\)\s*=\s+(\S.*)$/s.exec(rest);
  if (!m) return undefined;
  return { args: (m[1] as string).trim(), result: (m[2] as string).trim() };
}

/** One-shot parse of a whole trace. `file` names it in every location. */
export function parseStrace(text: string, file = 'strace.txt'): ParsedStrace {
  const p = new StraceParser(file);
  const events = [...p.feed(text), ...p.end()];
  return { events, notes: p.notes, syscalls: p.syscalls, straceErrors: p.straceErrors, lines: p.lines, skipped: p.skipped };
}

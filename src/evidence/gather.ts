import { readUserFile } from '../fs/root-fs.js';
import { parseSystemctlStatus, readUnitState, type UnitState as ShownUnitState } from '../live/systemd-state.js';
import type { Inventory, UnseenNote } from '../model/inventory.js';
import type { LogEvent, RuntimeEvidence, UnitFacts, UnitState } from '../model/runtime.js';
import { explainExitStatus } from './exit-status.js';
import { readLogEvidence, scanLogText } from './logs/index.js';
import { analyzeStraceText } from './strace/index.js';
import { appendAll } from '../model/append.js';

export type EvidenceFileKind = 'strace' | 'systemctl-status' | 'log';

/** What kind of text a user-supplied evidence file holds, from its first lines. */
export function evidenceKind(text: string): EvidenceFileKind {
  const head = text.split('\n', 40);
  if (head.some((l) => /^\s*(Loaded|Active): /.test(l)) && head.some((l) => /^\s*(●|\S+\s)?\S+\.(service|socket) - |^\s*(Main PID|Process): /.test(l))) {
    return 'systemctl-status';
  }
  const calls = head.filter((l) => /^(\[pid\s+\d+\]\s+|\d+\s+)?(\d[\d:.]*\s+)?(socket|bind|listen|setsockopt|close|connect|accept4?|execve|clone3?|fork|vfork)\(/.test(l)).length;
  if (calls > 0 && calls * 3 >= head.filter((l) => l.trim() !== '').length) return 'strace';
  return 'log';
}

export interface GatherOptions {
  /** Read the live host's journal and systemd state. */
  live: boolean;
  /** Files the user gave with --evidence (host paths). */
  evidenceFiles: string[];
  /** Units to ask systemd about, and to filter the journal by. */
  units: string[];
}

function toModelState(s: ShownUnitState, daemon: string | undefined): UnitState {
  const out: UnitState = { source: s.source };
  if (s.activeState !== undefined) out.activeState = s.activeState;
  if (s.subState !== undefined) out.subState = s.subState;
  if (s.result !== undefined) out.result = s.result;
  if (s.mainPid !== undefined || s.execMainPid !== undefined) out.mainPid = s.mainPid || s.execMainPid;
  if (s.execMainStatus !== undefined && (s.execMainStatus !== 0 || s.result !== 'success')) {
    out.exitStatus = s.execMainStatus;
    const ex = explainExitStatus(s.execMainStatus, { code: s.execMainCode ?? 'exited', ...(daemon ? { daemon } : {}) });
    out.exitMeaning = [ex.name, ex.daemonMeaning ?? ex.meaning].filter(Boolean).join(': ');
  }
  return out;
}

function sameEvent(a: LogEvent, b: LogEvent): boolean {
  return a.kind === b.kind && a.program === b.program && a.pid === b.pid && a.message === b.message && a.time === b.time && a.count === b.count;
}

/**
 * Runtime evidence for `why`: the root's logs (and the live journal), unit state (live `systemctl show`, or a
 * saved `systemctl status` text), and straces the user captured, each replayed through the kernel model.
 */
export async function gatherRuntime(inv: Inventory, opts: GatherOptions): Promise<{ runtime: RuntimeEvidence; unseen: UnseenNote[] }> {
  const unseen: UnseenNote[] = [];
  const units: UnitFacts[] = inv.units.map((u) => ({ ...u }));
  const runtime: RuntimeEvidence = { logEvents: [], units, traceFailures: [], traceDisagreements: [] };
  const logFiles: string[] = [];

  for (const file of opts.evidenceFiles) {
    const read = readUserFile(file);
    if (!read.ok) {
      unseen.push({ what: file, why: read.message });
      continue;
    }
    const text = read.text;
    const kind = evidenceKind(text);
    // Locations name the file as the user gave it; it is read through its resolved path.
    if (kind === 'log') logFiles.push(file);
    else if (kind === 'systemctl-status') {
      const st = parseSystemctlStatus(text, file);
      const name = st.state.unit;
      const daemon = units.find((u) => u.unit === name)?.daemon;
      const facts = units.find((u) => u.unit === name) ?? (units[units.push({ unit: name }) - 1] as UnitFacts);
      facts.state = toModelState(st.state, daemon);
      appendAll(runtime.logEvents, scanLogText(text, file).events);
    } else {
      const a = analyzeStraceText(text, file);
      for (const f of a.failures) {
        const tf: RuntimeEvidence['traceFailures'][number] = { socket: f.socket, call: f.call, reason: f.reason };
        if (f.holder) tf.holder = f.holder;
        if (f.heldOutside) tf.heldOutside = true;
        runtime.traceFailures.push(tf);
      }
      for (const d of a.disagreements) runtime.traceDisagreements.push({ message: d.reason, source: d.call.source });
    }
  }

  const logs = await readLogEvidence(inv.root, { live: opts.live, units: opts.units, files: logFiles });
  for (const ev of logs.events) if (!runtime.logEvents.some((x) => sameEvent(x, ev))) runtime.logEvents.push(ev);
  appendAll(unseen, logs.unseen);

  if (opts.live) {
    // Units whose state could not be read for the same reason are one entry ("… of a.service, b.service: …").
    const unread = new Map<string, string[]>();
    for (const unit of opts.units) {
      const r = readUnitState(unit, { root: inv.root });
      if (!r.ok) {
        unread.set(r.unseen.why, [...(unread.get(r.unseen.why) ?? []), unit]);
        continue;
      }
      const facts = units.find((u) => u.unit === unit) ?? (units[units.push({ unit }) - 1] as UnitFacts);
      facts.state = toModelState(r.state, facts.daemon);
    }
    for (const [why, names] of unread) unseen.push({ what: `systemd state of ${names.join(', ')}`, why });
  } else if (!units.some((u) => u.state)) {
    unseen.push({ what: 'unit state', why: 'an image has no running systemd; give a saved `systemctl status` text with --evidence to include it' });
  }
  return { runtime, unseen };
}

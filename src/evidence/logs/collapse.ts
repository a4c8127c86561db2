import type { LogEvent } from '../../model/index.js';
import type { RawLogEvent } from './recognise.js';

/**
 * Collapses retry loops: sendmail retries a failed daemon socket every 5 s and logs the same pair of lines each time
 * (daemon.c opendaemonsocket), a crash-looping service logs the same failure per restart. Lines with the same
 * program, pid, message form, listener, errno, unit and address become one event with `count`, the first `time`
 * and `lastTime`, kept in the order of their first occurrence. Memory is bounded by `maxEvents` distinct events;
 * later new ones are counted in `dropped`.
 */
export class EventCollapser {
  private readonly byKey = new Map<string, LogEvent>();
  readonly events: LogEvent[] = [];
  /** The form of each kept event (parallel.ts merges the parts' collapsed events with it). */
  readonly forms: string[] = [];
  dropped = 0;

  constructor(private readonly maxEvents = 10_000) {}

  add(raw: RawLogEvent): void {
    const e = raw.event;
    const key = [e.program, e.pid, raw.form, e.kind, e.daemon, e.listenerName, e.errno, e.unit, e.address, e.port, e.exitStatus]
      .map((v) => (v === undefined ? '' : String(v)))
      .join('\u0000');
    const seen = this.byKey.get(key);
    if (seen) {
      seen.count += e.count;
      const last = e.lastTime ?? e.time;
      if (last !== undefined) seen.lastTime = last;
      return;
    }
    if (this.events.length >= this.maxEvents) {
      this.dropped++;
      return;
    }
    this.byKey.set(key, e);
    this.events.push(e);
    this.forms.push(raw.form);
  }
}

export function collapseEvents(raw: Iterable<RawLogEvent>, maxEvents?: number): LogEvent[] {
  const c = new EventCollapser(maxEvents);
  for (const r of raw) c.add(r);
  return c.events;
}

import type { Family, LogEventKind, Proto } from '../../model/index.js';
import type { SyslogHeader } from './syslog-line.js';

/** What a recogniser learned from one message; the scan adds time, host, program, pid, message and source. */
export interface Recognised {
  kind: LogEventKind;
  /** Which message form matched (`sendmail.cannot-bind`); part of the retry-loop collapse key, not of the event. */
  form: string;
  daemon?: string;
  listenerName?: string;
  unit?: string;
  proto?: Proto;
  family?: Family;
  address?: string;
  port?: number;
  errno?: string;
  exitStatus?: number;
}

/**
 * One daemon's (or one family's) log messages. A line is offered to a recogniser only when one of its `needles`
 * occurs in it: the needles drive the SIMD prefilter, so every message form a recogniser knows must contain one.
 * Needles are literal, case-sensitive, at least 3 bytes, and should start with an uncommon trigram.
 */
export interface LogRecogniser {
  id: string;
  needles: readonly string[];
  recognise(line: SyslogHeader): Recognised | null;
}

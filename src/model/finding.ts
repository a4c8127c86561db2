import type { Endpoint } from './endpoint.js';
import type { Location } from './location.js';

export type Severity = 'error' | 'warning' | 'info';

export interface EvidenceItem {
  location: Location;
  label: string;
}

/** A text edit: replace lines [startLine, endLine] (1-based, inclusive) of `file` with `newLines`. */
export interface TextEdit {
  file: string;
  startLine: number;
  endLine: number;
  newLines: string[];
}

export type FixSafety = 'safe' | 'unsafe' | 'display-only';

export interface Fix {
  description: string;
  safety: FixSafety;
  /** Why the fix is (or is not) safe to apply automatically. */
  safetyReason: string;
  edits: TextEdit[];
}

export interface Finding {
  code: string;
  /** The check's kebab-case name. */
  name: string;
  severity: Severity;
  message: string;
  /** The line the user should edit. */
  location: Location;
  /** Ordered from cause to effect. */
  evidence: EvidenceItem[];
  /** The kernel (or daemon) rule behind the finding, in one sentence. */
  rule?: string;
  errno?: string;
  endpoint?: Endpoint;
  fixes: Fix[];
  /** The daemon concerned, when there is one. */
  daemon?: string;
}

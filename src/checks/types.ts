import type { Analysis } from '../analysis/analyze.js';
import type { Finding, Severity } from '../model/finding.js';
import type { Inventory } from '../model/inventory.js';

export type CheckInput = 'config' | 'live' | 'logs' | 'strace';

export interface CheckContext {
  inventory: Inventory;
  analysis: Analysis;
}

/** A check: stable code, a kebab-case name for the bad pattern, and a pure run(). */
export interface Check {
  code: string;
  name: string;
  summary: string;
  severity: Severity;
  fixable: boolean;
  inputs: CheckInput[];
  run(ctx: CheckContext): Finding[];
}

/** The docs page of a code, relative to the package root (shipped in the npm package). */
export function docsPath(code: string): string {
  return `docs/checks/${code}.md`;
}

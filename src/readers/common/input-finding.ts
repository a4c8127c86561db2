import type { Finding, Severity } from '../../model/finding.js';
import type { Location } from '../../model/location.js';

/**
 * Input-problem codes (BC0xx). Readers report bad input with these instead of throwing; each code has a
 * check module in src/checks/ and a page in docs/checks/.
 */
export const INPUT_CODES = {
  BC001: { name: 'config-unreadable', severity: 'error' },
  BC002: { name: 'config-syntax-error', severity: 'error' },
  BC003: { name: 'unknown-port-name', severity: 'error' },
  BC004: { name: 'include-problem', severity: 'warning' },
  BC005: { name: 'unknown-option', severity: 'warning' },
} as const satisfies Record<string, { name: string; severity: Severity }>;

export type InputCode = keyof typeof INPUT_CODES;

/** Build a BC0xx finding at a location. */
export function inputFinding(code: InputCode, location: Location, message: string, daemon?: string): Finding {
  const meta = INPUT_CODES[code];
  const f: Finding = {
    code,
    name: meta.name,
    severity: meta.severity,
    message,
    location,
    evidence: [],
    fixes: [],
  };
  if (daemon !== undefined) f.daemon = daemon;
  return f;
}

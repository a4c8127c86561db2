import type { Finding } from '../model/finding.js';
import { numberedFingerprints } from './fingerprint.js';

/** A finding left out of the result, and what left it out. */
export interface Suppressed {
  finding: Finding;
  by: 'inline' | 'baseline';
  /** The text after `--` in an inline suppression. */
  reason?: string;
  /** The suppression comment's line (inline) or the baseline file. */
  where: { file: string; line: number };
}

/**
 * `bindcheck: ignore BC101, BC102 -- reason` in a whole-line comment directly above the finding's line, in the
 * comment syntax of the daemon's config (`#`, `;`, `dnl` for m4, `//`), or trailing the line itself.
 */
const IGNORE = /(?:^|\s)(?:#|;|dnl\b|\/\/)\s*bindcheck:\s*ignore\s+((?:BC\d{3}|all)(?:\s*,\s*(?:BC\d{3}|all))*)(?:\s+--\s*(.*?))?\s*$/;

export function inlineSuppression(line: string | undefined): { codes: string[]; reason?: string } | undefined {
  if (line === undefined) return undefined;
  const m = IGNORE.exec(line);
  if (!m?.[1]) return undefined;
  const out: { codes: string[]; reason?: string } = { codes: m[1].split(/\s*,\s*/) };
  if (m[2]) out.reason = m[2];
  return out;
}

export function applyInlineSuppressions(findings: Finding[], sources: ReadonlyMap<string, string>): { kept: Finding[]; suppressed: Suppressed[] } {
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];
  const lines = new Map<string, string[]>();
  const lineOf = (file: string, n: number): string | undefined => {
    let ls = lines.get(file);
    if (!ls) {
      ls = (sources.get(file) ?? '').split('\n');
      lines.set(file, ls);
    }
    return n >= 1 ? ls[n - 1] : undefined;
  };
  for (const f of findings) {
    const { file, line } = f.location;
    const hit = [line - 1, line]
      .map((n) => ({ n, s: inlineSuppression(lineOf(file, n)) }))
      .find((x) => x.s && (x.s.codes.includes(f.code) || x.s.codes.includes('all')));
    if (hit?.s && line > 0) {
      const s: Suppressed = { finding: f, by: 'inline', where: { file, line: hit.n } };
      if (hit.s.reason) s.reason = hit.s.reason;
      suppressed.push(s);
    } else kept.push(f);
  }
  return { kept, suppressed };
}

/** A baseline file: the fingerprints of findings accepted as known. */
export interface Baseline {
  bindcheckBaseline: 1;
  findings: { fingerprint: string; code: string; file: string; message: string }[];
}

export function makeBaseline(findings: Finding[], sources: ReadonlyMap<string, string>): Baseline {
  const prints = numberedFingerprints(findings, sources);
  return {
    bindcheckBaseline: 1,
    findings: findings.map((f, i) => ({ fingerprint: prints[i] as string, code: f.code, file: f.location.file, message: f.message })),
  };
}

export function parseBaseline(text: string): Baseline | { error: string } {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  const b = j as Partial<Baseline>;
  if (b === null || typeof b !== 'object' || b.bindcheckBaseline !== 1 || !Array.isArray(b.findings)) {
    return { error: 'not a bindcheck baseline (expected {"bindcheckBaseline": 1, "findings": [...]})' };
  }
  if (!b.findings.every((x) => x !== null && typeof x === 'object' && typeof (x as { fingerprint?: unknown }).fingerprint === 'string')) {
    return { error: 'a baseline entry has no fingerprint' };
  }
  return b as Baseline;
}

export function applyBaseline(findings: Finding[], sources: ReadonlyMap<string, string>, baseline: Baseline, file: string): { kept: Finding[]; suppressed: Suppressed[] } {
  const known = new Set(baseline.findings.map((x) => x.fingerprint));
  const prints = numberedFingerprints(findings, sources);
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];
  findings.forEach((f, i) => {
    if (known.has(prints[i] as string)) suppressed.push({ finding: f, by: 'baseline', where: { file, line: 0 } });
    else kept.push(f);
  });
  return { kept, suppressed };
}

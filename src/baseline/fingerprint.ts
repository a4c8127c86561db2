import { createHash } from 'node:crypto';
import type { Finding } from '../model/finding.js';

/**
 * Stable across line shifts: the check, the file, what the primary line says (whitespace-normalised) and the
 * endpoint, never the line number. Two findings differ when any of these differs. Used by SARIF's
 * partialFingerprints and by baseline files.
 */
export function findingFingerprint(f: Finding, sources: ReadonlyMap<string, string>): string {
  const text = f.location.line > 0 ? (sources.get(f.location.file)?.split('\n')[f.location.line - 1] ?? '') : '';
  const ep = f.endpoint ? `${f.endpoint.proto}/${f.endpoint.address}/${f.endpoint.port}` : '';
  const key = JSON.stringify([f.code, f.location.file, text.trim().replace(/\s+/g, ' '), ep]);
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** Fingerprints numbered in order, so identical findings on identical lines keep separate identities. */
export function numberedFingerprints(findings: Finding[], sources: ReadonlyMap<string, string>): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const base = findingFingerprint(f, sources);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `${base}:${n}`;
  });
}

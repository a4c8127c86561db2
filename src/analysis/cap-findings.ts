import type { Finding } from '../model/finding.js';

/** Findings of one code in one file listed before the rest are summed up in one. */
export const MAX_FINDINGS_PER_FILE = 50;

/**
 * The first `max` findings of each code in each file, in their order; the rest become one finding at the first
 * one left out, which says how many there were and on which lines. A damaged or foreign 10 MB file is hundreds
 * of thousands of "unknown keyword" lines: listing each makes a report of hundreds of megabytes that nobody
 * reads, and the first ones already say what is wrong with the file.
 */
export function capRepeatedFindings(findings: readonly Finding[], max = MAX_FINDINGS_PER_FILE): Finding[] {
  const seen = new Map<string, { count: number; summary?: Finding; firstLine: number; lastLine: number }>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.code}\u0000${f.location.file}`;
    let group = seen.get(key);
    if (!group) seen.set(key, (group = { count: 0, firstLine: 0, lastLine: 0 }));
    group.count++;
    if (group.count <= max) {
      out.push(f);
      continue;
    }
    if (!group.summary) {
      group.summary = { ...f, evidence: [], fixes: [] };
      group.firstLine = f.location.line;
      out.push(group.summary);
    }
    group.lastLine = Math.max(group.lastLine, f.location.line);
  }
  for (const group of seen.values()) {
    const s = group.summary;
    if (!s) continue;
    const more = group.count - max;
    const lines = group.lastLine > group.firstLine ? `lines ${group.firstLine}–${group.lastLine}` : group.firstLine > 0 ? `line ${group.firstLine}` : 'the file';
    s.message = `${more.toLocaleString('en')} more ${s.code} ${s.name} findings in ${s.location.file} (${lines}), not listed one by one: the first ${max} are above, and the file looks damaged or is not what this daemon reads`;
  }
  return out;
}

import { RootFs } from '../fs/root-fs.js';
import type { Finding, Fix, TextEdit } from '../model/finding.js';
import type { ScanResult } from '../run.js';
import { applyEdits } from './apply.js';
import { atomicReplace, backupFile } from './atomic-write.js';

export interface FixOptions {
  /** Apply unsafe fixes too. */
  unsafe: boolean;
  /** Keep FILE.bindcheck-bak next to each changed file. */
  backup: boolean;
  /** Re-run the scan after writing (to verify the fixes). */
  rescan: () => ScanResult;
}

export interface FixReport {
  applied: { finding: Finding; fix: Fix }[];
  skipped: { finding: Finding; fix?: Fix; why: string }[];
  files: { file: string; backup?: string }[];
  /** Set when the fixes were written, checked, and undone. */
  rolledBack?: string;
}

/** Which fix of each finding would be applied: the first that is safe (or unsafe, when allowed); not display-only. */
export function chooseFixes(findings: Finding[], unsafe: boolean): { chosen: { finding: Finding; fix: Fix }[]; skipped: FixReport['skipped'] } {
  const chosen: { finding: Finding; fix: Fix }[] = [];
  const skipped: FixReport['skipped'] = [];
  const taken: TextEdit[] = [];
  for (const finding of findings) {
    const fix = finding.fixes.find((f) => f.safety === 'safe' || (unsafe && f.safety === 'unsafe'));
    if (!fix) {
      if (finding.fixes.length > 0) {
        skipped.push({ finding, fix: finding.fixes[0], why: `only ${finding.fixes.map((f) => f.safety).join('/')} fixes (use --unsafe-fixes for unsafe ones)` });
      }
      continue;
    }
    if (fix.edits.some((e) => taken.some((t) => t.file === e.file && t.startLine <= e.endLine && e.startLine <= t.endLine))) {
      skipped.push({ finding, fix, why: 'its edit overlaps one already chosen; run --fix again after this pass' });
      continue;
    }
    taken.push(...fix.edits);
    chosen.push({ finding, fix });
  }
  return { chosen, skipped };
}

function key(f: Finding): string {
  return `${f.code} ${f.location.file} ${f.message}`;
}

/**
 * Apply fixes to the files under the scanned root. Refuses a file that changed since it was read; writes each
 * file atomically; re-scans, and rolls every file back if a fixed finding is still there or a new one appeared.
 */
export function applyFixes(result: ScanResult, opts: FixOptions): FixReport {
  const fs = new RootFs(result.inventory.root);
  const { chosen, skipped } = chooseFixes(result.findings, opts.unsafe);
  const report: FixReport = { applied: [], skipped, files: [] };
  const byFile = new Map<string, TextEdit[]>();
  for (const c of chosen) for (const e of c.fix.edits) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);

  const originals = new Map<string, { hostPath: string; text: string }>();
  for (const [file] of byFile) {
    const read = result.inventory.sources.get(file);
    const now = fs.readText(file);
    const resolved = fs.resolve(file);
    if (read === undefined || !now.ok || !resolved.ok || now.text !== read) {
      for (const c of chosen.filter((x) => x.fix.edits.some((e) => e.file === file))) {
        report.skipped.push({ finding: c.finding, fix: c.fix, why: `${file} changed since it was read (or cannot be read now); not written` });
      }
      byFile.delete(file);
      continue;
    }
    originals.set(file, { hostPath: resolved.hostPath, text: read });
  }
  const applied = chosen.filter((c) => c.fix.edits.every((e) => byFile.has(e.file)));
  for (const [file, edits] of byFile) {
    const o = originals.get(file);
    if (!o) continue;
    const entry: { file: string; backup?: string } = { file };
    if (opts.backup) entry.backup = backupFile(o.hostPath);
    atomicReplace(o.hostPath, applyEdits(o.text, edits));
    report.files.push(entry);
  }
  report.applied = applied;
  if (applied.length === 0) return report;

  const after = opts.rescan();
  const before = new Set(result.findings.map(key));
  const fixedKeys = new Set(applied.map((a) => key(a.finding)));
  const stillThere = after.findings.filter((f) => fixedKeys.has(key(f)));
  const appeared = after.findings.filter((f) => !before.has(key(f)));
  if (stillThere.length > 0 || appeared.length > 0) {
    for (const [, o] of originals) atomicReplace(o.hostPath, o.text);
    report.rolledBack =
      stillThere.length > 0
        ? `after fixing, ${stillThere[0]?.code} at ${stillThere[0]?.location.file}:${stillThere[0]?.location.line} was still reported`
        : `after fixing, a new finding appeared: ${appeared[0]?.code} ${appeared[0]?.message}`;
  }
  return report;
}

import pc from 'picocolors';
import type { Explanation } from '../explain/explain.js';
import { unifiedDiff } from '../fixes/diff.js';
import { formatLocation } from '../model/location.js';
import { escapeForTerminal as esc } from '../text/escape.js';
import { jsonFinding, type JsonFinding, type JsonFix, type JsonLocation } from './json.js';

export interface JsonExplanation {
  schemaVersion: 1;
  target: { raw: string; kind: string };
  daemons: string[];
  status: Explanation['status'];
  verdict: string;
  chain: (JsonLocation & { kind: string; label: string })[];
  findings: JsonFinding[];
  fixes: JsonFix[];
  unseen: { what: string; why: string }[];
}

export function toJsonExplanation(e: Explanation, sources: ReadonlyMap<string, string>): JsonExplanation {
  const findings = e.findings.map((f) => jsonFinding(f, sources));
  const main = e.findings.find((f) => f.fixes === e.fixes);
  return {
    schemaVersion: 1,
    target: { raw: e.target.raw, kind: e.target.kind },
    daemons: e.daemons,
    status: e.status,
    verdict: e.verdict,
    chain: e.chain.map((c) => ({
      kind: c.kind,
      file: c.location.file,
      line: c.location.line,
      ...(c.location.column !== undefined ? { column: c.location.column } : {}),
      label: c.label,
    })),
    findings,
    fixes: main ? (findings[e.findings.indexOf(main)]?.fixes ?? []) : [],
    unseen: e.unseen,
  };
}

export function renderWhy(e: Explanation, sources: ReadonlyMap<string, string>, color: boolean): string {
  const c = pc.createColors(color);
  const out: string[] = [];
  const head = e.status === 'fails' ? c.red(c.bold('fails')) : e.status === 'starts' ? c.green(c.bold('starts')) : c.yellow(c.bold(e.status));
  out.push(`${head}: ${esc(e.verdict)}`);
  if (e.chain.length > 0) {
    out.push('', c.bold('why (cause → effect):'));
    e.chain.forEach((step, i) => {
      out.push(`  ${String(i + 1).padStart(2)}. ${c.dim(`[${step.kind}]`)} ${c.cyan(esc(formatLocation(step.location)))}  ${esc(step.label)}`);
    });
  }
  for (const fix of e.fixes) {
    out.push('', `${c.bold('fix')} (${fix.safety}): ${esc(fix.description)} — ${esc(fix.safetyReason)}`);
    for (const file of [...new Set(fix.edits.map((x) => x.file))]) {
      for (const line of unifiedDiff(file, sources.get(file) ?? '', fix.edits).trimEnd().split('\n')) {
        const t = esc(line);
        out.push('  ' + (t.startsWith('+') ? c.green(t) : t.startsWith('-') ? c.red(t) : t));
      }
    }
  }
  if (e.unseen.length > 0) {
    out.push('', c.bold('could not see:'));
    for (const u of e.unseen) out.push(`  - ${esc(u.what)}: ${esc(u.why)}`);
  }
  return out.join('\n') + '\n';
}

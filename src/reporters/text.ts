import pc from 'picocolors';
import { unifiedDiff } from '../fixes/diff.js';
import { formatEndpoint } from '../model/endpoint.js';
import type { Finding } from '../model/finding.js';
import { formatLocation, type Location } from '../model/location.js';
import type { ScanResult } from '../run.js';
import { escapeForTerminal as esc } from '../text/escape.js';

export interface TextOptions {
  color: boolean;
  /** Show the per-daemon socket plan even when there are no findings. */
  verbose?: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

function severityLabel(c: Colors, s: Finding['severity']): string {
  if (s === 'error') return c.bold(c.red('error'));
  if (s === 'warning') return c.bold(c.yellow('warning'));
  return c.bold(c.blue('info'));
}

/** A code frame: the line, two lines around it, and a caret under the column range. */
export function codeFrame(c: Colors, text: string | undefined, l: Location): string[] {
  if (text === undefined || l.line <= 0) return [];
  const lines = text.split('\n');
  const from = Math.max(1, l.line - 1);
  const to = Math.min(lines.length, l.line + 1);
  const width = String(to).length;
  const out: string[] = [`${' '.repeat(width)} ${c.dim('|')}`];
  for (let n = from; n <= to; n++) {
    const src = esc(lines[n - 1] ?? '');
    const gutter = String(n).padStart(width);
    out.push(`${n === l.line ? c.bold(gutter) : c.dim(gutter)} ${c.dim('|')} ${src}`);
    if (n === l.line) {
      const col = l.column ?? 1;
      const len = Math.max(1, (l.endColumn ?? src.length + 1) - col);
      out.push(`${' '.repeat(width)} ${c.dim('|')} ${' '.repeat(col - 1)}${c.red('^'.repeat(len))}`);
    }
  }
  return out;
}

export function renderFinding(f: Finding, sources: ReadonlyMap<string, string>, c: Colors): string {
  const out: string[] = [];
  out.push(`${severityLabel(c, f.severity)} ${c.bold(f.code)} ${c.dim(f.name)}: ${esc(f.message)}`);
  out.push(`  ${c.dim('-->')} ${esc(formatLocation(f.location))}`);
  out.push(...codeFrame(c, sources.get(f.location.file), f.location).map((l) => '  ' + l));
  if (f.evidence.length > 0) {
    out.push(`  ${c.bold('evidence')} (cause → effect):`);
    f.evidence.forEach((e, i) => {
      out.push(`    ${i + 1}. ${c.cyan(esc(formatLocation(e.location)))}  ${esc(e.label)}`);
    });
  }
  if (f.rule) out.push(`  ${c.bold('rule')}: ${esc(f.rule)}`);
  for (const fix of f.fixes) {
    out.push(`  ${c.bold('fix')} (${fix.safety}): ${esc(fix.description)} — ${esc(fix.safetyReason)}`);
    const files = [...new Set(fix.edits.map((e) => e.file))];
    for (const file of files) {
      for (const line of unifiedDiff(file, sources.get(file) ?? '', fix.edits).trimEnd().split('\n')) {
        const t = esc(line);
        out.push('    ' + (t.startsWith('+') ? c.green(t) : t.startsWith('-') ? c.red(t) : t));
      }
    }
  }
  return out.join('\n');
}

export function renderText(r: ScanResult, opts: TextOptions): string {
  const c = pc.createColors(opts.color);
  const inv = r.inventory;
  const parts: string[] = [];
  for (const f of r.findings) parts.push(renderFinding(f, inv.sources, c));
  const daemonLines: string[] = [];
  inv.daemons.forEach((d, i) => {
    const pred = r.analysis.predictions[i];
    const verdict = pred?.starts ? c.green('starts') : c.red('fails to start');
    daemonLines.push(`${c.bold(d.daemon)} ${c.dim(esc(d.config))}: ${verdict}`);
    if (!opts.verbose && pred?.starts) return;
    d.sockets.forEach((s, k) => {
      const o = pred?.outcomes[k];
      const res =
        !o ? '' : o.ok === true ? c.green('ok') : o.call === 'none' ? c.dim(o.notNeeded ? o.reason : `not reached: ${o.reason}`) : c.red(`${o.call}() → ${o.errno}`);
      daemonLines.push(`  ${esc(s.name)} ${formatEndpoint(s)}  ${c.dim(esc(formatLocation(s.source)))}  ${res}`);
    });
  });
  if (daemonLines.length > 0) parts.push(daemonLines.join('\n'));
  else parts.push(c.dim(`no daemon configuration found under ${esc(inv.root)}`));
  const m = inv.mailers;
  if (m && (m.sendmailInterface || m.installed.length > 0 || m.submission || (m.running?.length ?? 0) > 0)) {
    const parts2: string[] = [];
    if (m.sendmailInterface) parts2.push(`/usr/sbin/sendmail is ${m.sendmailInterface.daemon ?? 'unknown'}${m.sendmailInterface.chain.length > 1 ? ` (${m.sendmailInterface.chain.map(esc).join(' → ')})` : ''}`);
    if (m.installed.length > 0) parts2.push(`installed: ${m.installed.map((x) => x.daemon).join(', ')}`);
    if (m.enabled.length > 0) parts2.push(`enabled: ${m.enabled.map((x) => x.unit).join(', ')}`);
    if (m.running && m.running.length > 0) parts2.push(`running: ${m.running.map((x) => `${x.daemon} (pid ${x.pid} on ${x.endpoint})`).join(', ')}`);
    if (m.submission) parts2.push(`local mail is relayed to ${formatEndpoint(m.submission)} (${esc(formatLocation(m.submission.source))})`);
    parts.push(`${c.bold('mail')}: ${parts2.join('; ')}`);
  }
  if (inv.unseen.length > 0) {
    parts.push(inv.unseen.map((u) => `${c.dim('unseen:')} ${esc(u.what)} — ${esc(u.why)}`).join('\n'));
  }
  const assumed = Object.entries(inv.hostFacts).filter(([, f]) => f.origin === 'assumed').map(([k]) => k);
  if (assumed.length > 0 && inv.daemons.length > 0) {
    parts.push(c.dim(`assumed Linux defaults (not found in the root): ${assumed.join(', ')}`));
  }
  if (r.suppressed.length > 0) {
    const inline = r.suppressed.filter((s) => s.by === 'inline').length;
    parts.push(c.dim(`${r.suppressed.length} finding(s) suppressed (${inline} inline, ${r.suppressed.length - inline} by the baseline)`));
  }
  const n = (s: Finding['severity']): number => r.findings.filter((f) => f.severity === s).length;
  parts.push(
    r.findings.length === 0
      ? c.green('no problems found')
      : `${n('error')} error(s), ${n('warning')} warning(s), ${n('info')} info`,
  );
  return parts.join('\n\n') + '\n';
}

import type { SocketOutcome } from '../analysis/startup.js';
import { unifiedDiff } from '../fixes/diff.js';
import type { Finding, FixSafety, Severity } from '../model/finding.js';
import type { Family, Proto } from '../model/endpoint.js';
import type { Location } from '../model/location.js';
import type { MailerFacts } from '../model/mailers.js';
import type { ScanResult } from '../run.js';

export const SCHEMA_VERSION = 1;

export interface JsonLocation {
  file: string;
  line: number;
  column?: number;
  /** The include chain that led to this file, outermost first: each item is an include directive's location. */
  includedFrom?: JsonLocation[];
}

export interface JsonFix {
  description: string;
  safety: FixSafety;
  safetyReason: string;
  edits: { file: string; startLine: number; endLine: number; newLines: string[] }[];
  /** Unified diff of the edits. */
  diff: string;
}

export interface JsonFinding {
  code: string;
  name: string;
  severity: Severity;
  message: string;
  daemon?: string;
  location: JsonLocation;
  evidence: (JsonLocation & { label: string })[];
  rule?: string;
  errno?: string;
  endpoint?: { proto: Proto; address: string; port: number };
  fixes: JsonFix[];
}

export type JsonOutcome =
  | { ok: true }
  | { ok: false; call: 'bind' | 'listen'; errno: string; reason: string; uncertain?: string[] }
  | { ok: false; call: 'none'; reason: string; notNeeded?: true };

export interface JsonSocket {
  name: string;
  proto: Proto;
  family: Family;
  address: string;
  port: number;
  v6Only: boolean | null;
  reuseAddr: boolean;
  reusePort: boolean;
  /** IP_FREEBIND (or IP_TRANSPARENT): binds an address the host does not have. */
  freeBind: boolean;
  /** SO_BINDTODEVICE interface, or null. */
  device: string | null;
  optional: boolean;
  /** Index of the socket this one stands in for (created only when that one fails), or null. */
  fallbackFor: number | null;
  source: JsonLocation;
  derivation: string[];
  outcome: JsonOutcome;
}

export interface JsonDaemon {
  daemon: string;
  config: string;
  files: string[];
  starts: boolean;
  sockets: JsonSocket[];
}

export interface JsonReport {
  schemaVersion: 1;
  tool: { name: 'bindcheck'; version: string };
  root: string;
  live: boolean;
  /** `incomplete` when some input could not be read. */
  status: 'complete' | 'incomplete';
  summary: { errors: number; warnings: number; infos: number };
  findings: JsonFinding[];
  daemons: JsonDaemon[];
  hostFacts: Record<string, { value: unknown; origin: 'read' | 'assumed'; source: string }>;
  unseen: { what: string; why: string }[];
  /** The distribution, from the root's os-release. */
  distro?: { id: string; family: string; prettyName?: string; source: JsonLocation };
  /** Which MTA this root runs, and where mail submitted with /usr/sbin/sendmail goes. */
  mailers?: MailerFacts;
  /** Findings left out by an inline `bindcheck: ignore` comment or the baseline file. */
  suppressed: { code: string; file: string; line: number; message: string; by: 'inline' | 'baseline'; reason?: string; where: JsonLocation }[];
}

function loc(l: Location): JsonLocation {
  const out: JsonLocation = l.column !== undefined ? { file: l.file, line: l.line, column: l.column } : { file: l.file, line: l.line };
  if (l.includedFrom && l.includedFrom.length > 0) out.includedFrom = l.includedFrom.map(loc);
  return out;
}

function outcome(o: SocketOutcome): JsonOutcome {
  if (o.ok === true) return { ok: true };
  if (o.call === 'none') return o.notNeeded ? { ok: false, call: 'none', reason: o.reason, notNeeded: true } : { ok: false, call: 'none', reason: o.reason };
  const r: JsonOutcome = { ok: false, call: o.call, errno: o.errno, reason: o.reason };
  if (o.dependsOn) r.uncertain = o.dependsOn;
  return r;
}

export function jsonFinding(f: Finding, sources: ReadonlyMap<string, string>): JsonFinding {
  const j: JsonFinding = {
    code: f.code,
    name: f.name,
    severity: f.severity,
    message: f.message,
    location: loc(f.location),
    evidence: f.evidence.map((e) => ({ ...loc(e.location), label: e.label })),
    fixes: f.fixes.map((x) => ({
      description: x.description,
      safety: x.safety,
      safetyReason: x.safetyReason,
      edits: x.edits,
      diff: [...new Set(x.edits.map((e) => e.file))]
        .map((file) => unifiedDiff(file, sources.get(file) ?? '', x.edits))
        .join(''),
    })),
  };
  if (f.daemon !== undefined) j.daemon = f.daemon;
  if (f.rule !== undefined) j.rule = f.rule;
  if (f.errno !== undefined) j.errno = f.errno;
  if (f.endpoint !== undefined) j.endpoint = f.endpoint;
  return j;
}

export function toJsonReport(r: ScanResult, version: string): JsonReport {
  const inv = r.inventory;
  const count = (s: Severity): number => r.findings.filter((f) => f.severity === s).length;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'bindcheck', version },
    root: inv.root,
    live: inv.live,
    status: inv.inputFindings.some((f) => f.code === 'BC001' || f.code === 'BC004') ? 'incomplete' : 'complete',
    summary: { errors: count('error'), warnings: count('warning'), infos: count('info') },
    findings: r.findings.map((f) => jsonFinding(f, inv.sources)),
    daemons: inv.daemons.map((d, i) => {
      const pred = r.analysis.predictions[i];
      return {
        daemon: d.daemon,
        config: d.config,
        files: d.files,
        starts: pred?.starts ?? false,
        sockets: d.sockets.map((s, k) => ({
          name: s.name,
          proto: s.proto,
          family: s.family,
          address: s.address,
          port: s.port,
          v6Only: s.v6Only ?? null,
          reuseAddr: s.reuseAddr,
          reusePort: s.reusePort,
          freeBind: s.freeBind ?? false,
          device: s.device ?? null,
          optional: s.optional ?? false,
          fallbackFor: s.fallbackFor ?? null,
          source: loc(s.source),
          derivation: s.derivation,
          outcome: outcome(pred?.outcomes[k] ?? { ok: false, call: 'none', reason: 'not analysed' }),
        })),
      };
    }),
    hostFacts: Object.fromEntries(
      Object.entries(inv.hostFacts).map(([k, f]) => [k, { value: f.value, origin: f.origin, source: f.source }]),
    ),
    unseen: inv.unseen,
    ...(inv.distro && inv.distro.source.line > 0 ? { distro: { id: inv.distro.id, family: inv.distro.family, ...(inv.distro.prettyName ? { prettyName: inv.distro.prettyName } : {}), source: loc(inv.distro.source) } } : {}),
    ...(inv.mailers && (inv.mailers.installed.length > 0 || inv.mailers.sendmailInterface || inv.mailers.submission) ? { mailers: inv.mailers } : {}),
    suppressed: r.suppressed.map((s) => ({
      code: s.finding.code,
      file: s.finding.location.file,
      line: s.finding.location.line,
      message: s.finding.message,
      by: s.by,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      where: s.where,
    })),
  };
}

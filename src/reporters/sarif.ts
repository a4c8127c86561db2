import { findingFingerprint, numberedFingerprints } from '../baseline/fingerprint.js';
/**
 * SARIF 2.1.0 (OASIS, errata 01) for code-scanning UIs. One run; rules[] lists every registered check so a viewer
 * can show a code's documentation even for results from an older or newer report. Paths are ROOT-relative: a
 * finding's file is the path as the daemon sees it (`/etc/mail/sendmail.cf`), and `originalUriBaseIds.ROOT` says
 * where that root was on the scanning machine (the host's `/`, or an appliance image).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { splitLines } from '../fixes/apply.js';
import { CHECKS } from '../checks/registry.js';
import { docsPath, type Check } from '../checks/types.js';
import type { Finding, Fix, Severity, TextEdit } from '../model/finding.js';
import type { Location } from '../model/location.js';
import type { ScanResult } from '../run.js';

export type SarifLog = Sarif.Log;

export interface SarifOptions {
  /**
   * Where the scanned root is, as a path or a `file:` URI, for `originalUriBaseIds.ROOT`. Default: the root that
   * was scanned, made absolute. Give it when the report is read on another machine (an image checked out elsewhere).
   */
  root?: string;
  /**
   * Where the package's files can be browsed (ends with `/`): `helpUri` is `docs/checks/BCnnn.md` and
   * `informationUri` is `README.md` resolved against it. Default: the repository named by package.json
   * `repository`/`homepage`, else the installed package itself (it ships docs/).
   */
  projectUri?: string;
}

export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** The partialFingerprints key; bump the version if the fingerprint's inputs ever change. */
export const FINGERPRINT_KEY = 'bindcheckFinding/v1';

const LEVEL: Record<Severity, Sarif.Result.level> = { error: 'error', warning: 'warning', info: 'note' };

export function toSarif(result: ScanResult, version: string, opts: SarifOptions = {}): SarifLog {
  const inv = result.inventory;
  const project = opts.projectUri ?? defaultProjectUri();
  const ruleIndex = new Map(CHECKS.map((c, i) => [c.code, i]));
  // Identical findings on identical lines (a config repeated twice) would collide: they are numbered in order, as
  // GitHub does for its own line hashes, so each keeps its identity across line shifts.
  const prints = numberedFingerprints(result.findings, inv.sources);
  const results = result.findings.map((f, fi): Sarif.Result => {
    const idx = ruleIndex.get(f.code);
    const r: Sarif.Result = {
      ruleId: f.code,
      ...(idx !== undefined ? { ruleIndex: idx } : {}),
      level: LEVEL[f.severity],
      message: { text: f.message },
      locations: [sarifLocation(f.location)],
      partialFingerprints: { [FINGERPRINT_KEY]: prints[fi] as string },
    };
    if (f.evidence.length > 0) {
      r.relatedLocations = f.evidence.map((e, i) => ({ id: i + 1, ...sarifLocation(e.location, e.label) }));
    }
    if (f.fixes.length > 0) r.fixes = f.fixes.map((x) => sarifFix(x, inv.sources));
    const props: Record<string, unknown> = {};
    if (f.errno !== undefined) props.errno = f.errno;
    if (f.endpoint !== undefined) props.endpoint = { proto: f.endpoint.proto, address: f.endpoint.address, port: f.endpoint.port };
    if (f.daemon !== undefined) props.daemon = f.daemon;
    if (f.rule !== undefined) props.rule = f.rule;
    if (Object.keys(props).length > 0) r.properties = props;
    return r;
  });
  const status = inv.inputFindings.some((f) => f.code === 'BC001' || f.code === 'BC004') ? 'incomplete' : 'complete';
  const invocation: Sarif.Invocation = { executionSuccessful: true };
  if (inv.unseen.length > 0) {
    invocation.toolExecutionNotifications = inv.unseen.map((u) => ({ level: 'note', message: { text: `${u.what}: ${u.why}` } }));
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'bindcheck',
            version,
            informationUri: new URL('README.md', project).href,
            rules: CHECKS.map((c) => sarifRule(c, project)),
          },
        },
        invocations: [invocation],
        originalUriBaseIds: { ROOT: { uri: rootUri(opts.root ?? inv.root) } },
        // Location.column counts JavaScript string indices.
        columnKind: 'utf16CodeUnits',
        results,
        properties: { status, live: inv.live },
      },
    ],
  };
}

/**
 * The log as JSON text. JSON escaping covers C0 controls only; DEL, C1 controls, bidi overrides and line separators
 * from configs and logs would otherwise reach a terminal or editor raw, so they are written as \u escapes too.
 * The parsed value is unchanged.
 */
export { findingFingerprint };

export function sarifJson(log: SarifLog): string {
  return (
    JSON.stringify(log, null, 2).replace(
      /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu,
      (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
    ) + '\n'
  );
}

function sarifRule(c: Check, project: string): Sarif.ReportingDescriptor {
  return {
    id: c.code,
    name: c.name,
    shortDescription: { text: c.summary },
    helpUri: new URL(docsPath(c.code), project).href,
    defaultConfiguration: { level: LEVEL[c.severity] },
    properties: { fixable: c.fixable, inputs: c.inputs },
  };
}

/** A path as the daemon sees it → a ROOT-relative URI reference (each segment percent-encoded). */
function artifactUri(file: string): string {
  return file.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
}

function rootUri(root: string): string {
  const uri = /^[a-z][a-z0-9+.-]*:/i.test(root) ? root : pathToFileURL(resolve(root)).href;
  return uri.endsWith('/') ? uri : `${uri}/`;
}

function sarifLocation(l: Location, label?: string): Sarif.Location {
  const out: Sarif.Location = {};
  if (l.file.startsWith('/')) {
    const phys: Sarif.PhysicalLocation = { artifactLocation: { uri: artifactUri(l.file), uriBaseId: 'ROOT' } };
    if (l.line > 0) {
      const region: Sarif.Region = { startLine: l.line };
      if (l.column !== undefined) region.startColumn = l.column;
      if (l.column !== undefined && l.endColumn !== undefined) region.endColumn = l.endColumn;
      phys.region = region;
    }
    out.physicalLocation = phys;
  } else {
    // A pseudo-source such as `(given by caller)`: not a file anyone can open.
    out.logicalLocations = [{ name: l.file, kind: 'resource' }];
  }
  if (label !== undefined) out.message = { text: label };
  return out;
}

function sarifFix(x: Fix, sources: ReadonlyMap<string, string>): Sarif.Fix {
  const byFile = new Map<string, TextEdit[]>();
  for (const e of x.edits) byFile.set(e.file, [...(byFile.get(e.file) ?? []), e]);
  return {
    description: { text: x.description },
    artifactChanges: [...byFile].map(([file, edits]) => ({
      artifactLocation: { uri: artifactUri(file), uriBaseId: 'ROOT' },
      replacements: edits.map((e) => sarifReplacement(e, sources.get(file))),
    })),
    properties: { safety: x.safety, safetyReason: x.safetyReason },
  };
}

/**
 * A region with startLine..endLine and no columns spans those whole lines without the final newline (SARIF
 * §3.30.2), so replacement lines are joined with newlines and no trailing one. Deleting lines outright must also
 * take a newline, which needs columns.
 */
function sarifReplacement(e: TextEdit, source: string | undefined): Sarif.Replacement {
  if (e.newLines.length > 0) {
    return { deletedRegion: { startLine: e.startLine, endLine: e.endLine }, insertedContent: { text: e.newLines.join('\n') } };
  }
  const lines = source !== undefined ? splitLines(source).lines : undefined;
  if (lines !== undefined && e.endLine < lines.length) {
    return { deletedRegion: { startLine: e.startLine, startColumn: 1, endLine: e.endLine + 1, endColumn: 1 } };
  }
  const prev = lines?.[e.startLine - 2];
  if (lines !== undefined && prev !== undefined) {
    const last = lines[e.endLine - 1] ?? '';
    return { deletedRegion: { startLine: e.startLine - 1, startColumn: prev.length + 1, endLine: e.endLine, endColumn: last.length + 1 } };
  }
  return { deletedRegion: { startLine: e.startLine, endLine: e.endLine } };
}


/**
 * Where a package.json's files can be browsed on the web: its repository (`github:o/r`, `o/r`, a git URL, with an
 * optional `directory`) or a repository-like homepage, at the default branch; undefined when neither names one.
 */
export function projectUriFromPackage(pkg: { repository?: unknown; homepage?: unknown }): string | undefined {
  let url: string | undefined;
  let dir = '';
  const repo = pkg.repository;
  if (typeof repo === 'string') url = repo;
  else if (repo !== null && typeof repo === 'object') {
    const r = repo as { url?: unknown; directory?: unknown };
    if (typeof r.url === 'string') url = r.url;
    if (typeof r.directory === 'string') dir = r.directory.replace(/^\/+|\/+$/g, '');
  }
  let web: string | undefined;
  if (url !== undefined) {
    const short = /^(?:(github|gitlab|bitbucket):)?([\w.-]+)\/([\w.-]+)$/.exec(url);
    if (short) web = `https://${short[1] ?? 'github'}.${short[1] === 'bitbucket' ? 'org' : 'com'}/${short[2]}/${short[3]}`;
    else {
      const m = /^(?:git\+)?(?:https?|git|ssh):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+?)(?:\.git)?\/?$/.exec(url) ?? /^git@([^:]+):(.+?)(?:\.git)?$/.exec(url);
      if (m) web = `https://${m[1]}/${m[2]}`;
    }
  }
  if (web === undefined && typeof pkg.homepage === 'string') {
    const m = /^https:\/\/((?:github|gitlab)\.com\/[^/#?]+\/[^/#?]+)/.exec(pkg.homepage);
    if (m) web = `https://${m[1]}`;
  }
  if (web === undefined) return undefined;
  const blob = web.includes('gitlab.') ? '/-/blob/HEAD/' : '/blob/HEAD/';
  return `${web}${blob}${dir ? `${dir}/` : ''}`;
}

let cachedProjectUri: string | undefined;

function defaultProjectUri(): string {
  if (cachedProjectUri !== undefined) return cachedProjectUri;
  // src/reporters/ and dist/reporters/ are both two levels below the package root, which ships docs/.
  const pkgRoot = new URL('../../', import.meta.url);
  let pkg: { repository?: unknown; homepage?: unknown } = {};
  try {
    pkg = JSON.parse(readFileSync(new URL('package.json', pkgRoot), 'utf8')) as typeof pkg;
  } catch {
    // No readable package.json: fall back to the shipped docs.
  }
  // SARIF wants an absolute helpUri (§3.49.12); without a repository, the page shipped in the package is the one.
  cachedProjectUri = projectUriFromPackage(pkg) ?? pkgRoot.href;
  return cachedProjectUri;
}

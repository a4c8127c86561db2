import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeBaseline, parseBaseline } from '../baseline/suppress.js';
import { unifiedDiff } from '../fixes/diff.js';
import { applyFixes, chooseFixes } from '../fixes/fixer.js';
import type { Severity } from '../model/finding.js';
import { toJsonReport } from '../reporters/json.js';
import { sarifJson, toSarif } from '../reporters/sarif.js';
import { renderText } from '../reporters/text.js';
import { scanInventory, type ScanOptions } from '../run.js';
import { escapeForTerminal, terminalSafeJson } from '../text/escape.js';
import { packageVersion } from '../version.js';
import type { CommandIo } from './why.js';

export const SCAN_HELP = `NAME
  bindcheck scan — predict which daemon sockets cannot be bound, and why

SYNOPSIS
  bindcheck [scan] [--root DIR] [--format text|json|sarif] [--fail-on LEVEL] [--no-live] [--verbose]
                   [--fix [--unsafe-fixes] [--no-backup] | --diff] [--baseline FILE | --write-baseline FILE]

DESCRIPTION
  Finds each daemon's configuration where the distribution keeps it (or where its systemd unit's ExecStart
  says), turns it into the sockets the daemon will create, in order, with the options it sets, and replays
  every bind() and listen() through a model of Linux's rules, next to the sockets the host already holds
  (from ROOT/proc). Each problem is a finding with a stable code (docs/checks/BCnnn.md), the line to edit, an
  evidence chain from cause to effect, the kernel rule, and fixes as diffs.

OPTIONS
  --root DIR       Scan an appliance image or any root instead of this host. Paths are read as the daemon
                   would see them on DIR; symbolic links never lead out of DIR; DIR/proc is used only if present.
  --format FMT     text (default), json (schemaVersion 1, docs/schema/report-v1.json) or sarif (2.1.0)
  --json           Same as --format json
  --fail-on LEVEL  error (default), warning or info: exit 1 on findings at or above it
  --no-live        Check the configuration only; ignore ROOT/proc (host facts take Linux defaults)
  --verbose        List every daemon's planned sockets, not only failing ones
  --fix            Apply safe fixes (atomically, keeping owner, mode and xattrs, with FILE.bindcheck-bak),
                   then check again; roll back if a fixed finding remains or a new one appears
  --unsafe-fixes   With --fix or --diff: include fixes marked unsafe (each fix says why it is unsafe)
  --diff           Print the fixes --fix would apply as a unified diff; write nothing
  --no-backup      With --fix: keep no backup file
  --baseline FILE  Leave out findings recorded in FILE (known and accepted); new ones still count
  --write-baseline FILE
                   Record the current findings in FILE and exit 0
  --color, --no-color
                   Force colour on or off (default: on a terminal, unless NO_COLOR is set)
  -h, --help       Show this help
  -V, --version    Print the version

  A comment \`bindcheck: ignore BC101 -- reason\` on the line above a finding, in the config's own comment
  syntax (#, ;, dnl), leaves that finding out; the report lists it as suppressed.

EXIT STATUS
  0 no findings at or above --fail-on; 1 findings at or above it; 2 usage or internal error.

EXAMPLES
  sudo bindcheck scan                                   this host
  bindcheck scan --root /srv/images/appliance-7.4       an unpacked image
  bindcheck scan --root img --format sarif > bindcheck.sarif
  sudo bindcheck scan --diff                            what --fix would change

ENVIRONMENT
  NO_COLOR         Disables colour.
`;

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export async function scanCommand(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        root: { type: 'string' },
        format: { type: 'string' },
        json: { type: 'boolean' },
        'fail-on': { type: 'string' },
        'no-live': { type: 'boolean' },
        verbose: { type: 'boolean' },
        fix: { type: 'boolean' },
        'unsafe-fixes': { type: 'boolean' },
        diff: { type: 'boolean' },
        'no-backup': { type: 'boolean' },
        baseline: { type: 'string' },
        'write-baseline': { type: 'string' },
        color: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`bindcheck: ${escapeForTerminal((e as Error).message)}\n\n${SCAN_HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(SCAN_HELP);
    return 0;
  }
  if (values.version) {
    io.stdout(packageVersion() + '\n');
    return 0;
  }
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (format !== 'text' && format !== 'json' && format !== 'sarif') {
    io.stderr(`bindcheck: --format must be text, json or sarif, not ${terminalSafeJson(JSON.stringify(format))}\n`);
    return 2;
  }
  const failOn = values['fail-on'] ?? 'error';
  if (failOn !== 'error' && failOn !== 'warning' && failOn !== 'info') {
    io.stderr(`bindcheck: --fail-on must be error, warning or info, not ${terminalSafeJson(JSON.stringify(failOn))}\n`);
    return 2;
  }
  const scanOpts: ScanOptions = { root: values.root ?? '/', live: !values['no-live'] };
  if (values.baseline !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.baseline, 'utf8');
    } catch (e) {
      io.stderr(`bindcheck: cannot read the baseline ${escapeForTerminal(values.baseline)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 2;
    }
    const b = parseBaseline(text);
    if ('error' in b) {
      io.stderr(`bindcheck: ${escapeForTerminal(values.baseline)}: ${escapeForTerminal(b.error)}\n`);
      return 2;
    }
    scanOpts.baseline = { baseline: b, file: values.baseline };
  }
  let result = scanInventory(scanOpts);
  if (values['write-baseline'] !== undefined) {
    writeFileSync(values['write-baseline'], JSON.stringify(makeBaseline(result.findings, result.inventory.sources), null, 2) + '\n');
    io.stderr(`bindcheck: recorded ${result.findings.length} finding(s) in ${escapeForTerminal(values["write-baseline"])}\n`);
    return 0;
  }
  const unsafe = values['unsafe-fixes'] ?? false;
  if (values.diff) {
    const { chosen } = chooseFixes(result.findings, unsafe);
    const edits = chosen.flatMap((c) => c.fix.edits);
    for (const file of [...new Set(edits.map((e) => e.file))]) {
      io.stdout(escapeForTerminal(unifiedDiff(file, result.inventory.sources.get(file) ?? '', edits)).replaceAll('\\x0a', '\n'));
    }
    return chosen.length > 0 ? 1 : 0;
  }
  if (values.fix) {
    const rep = applyFixes(result, { unsafe, backup: !values['no-backup'], rescan: () => scanInventory(scanOpts) });
    for (const a of rep.applied) io.stderr(`fixed ${a.finding.code} at ${escapeForTerminal(a.finding.location.file)}:${a.finding.location.line}: ${escapeForTerminal(a.fix.description)} (${a.fix.safety})\n`);
    for (const s of rep.skipped) io.stderr(`not fixed ${s.finding.code} at ${escapeForTerminal(s.finding.location.file)}:${s.finding.location.line}: ${escapeForTerminal(s.why)}\n`);
    for (const f of rep.files) if (f.backup) io.stderr(`backup of ${escapeForTerminal(f.file)}: ${escapeForTerminal(f.backup)}\n`);
    if (rep.rolledBack) io.stderr(`rolled back: ${escapeForTerminal(rep.rolledBack)}\n`);
    result = scanInventory(scanOpts);
  }
  if (format === 'json') {
    io.stdout(terminalSafeJson(JSON.stringify(toJsonReport(result, packageVersion()), null, 2)) + '\n');
  } else if (format === 'sarif') {
    io.stdout(sarifJson(toSarif(result, packageVersion())) + '\n');
  } else {
    const color = values['no-color'] ? false : values.color ? true : io.isTTY && !io.env.NO_COLOR;
    io.stdout(renderText(result, { color, verbose: values.verbose ?? false }));
  }
  return result.findings.some((f) => RANK[f.severity] <= RANK[failOn]) ? 1 : 0;
}

#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Severity } from './model/finding.js';
import { packageVersion } from './version.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: bindcheck [command] [options]

Commands:
  scan             Predict which daemon sockets cannot be bound, and why (default)
  why TARGET       Explain one failure: a unit, a port or a pasted log line (bindcheck why --help)
  trace            Analyse a strace of a daemon's start, or run one (bindcheck trace --help)
  sockets          Show the host's sockets with owning process and systemd unit

Options for scan:
  --root DIR       Scan an appliance image or any root instead of this host
  --format FMT     text (default), json or sarif
  --json           Same as --format json
  --fail-on LEVEL  error (default), warning or info: exit 1 on findings at or above it
  --no-live        Check the configuration only; ignore ROOT/proc
  --verbose        List every daemon's planned sockets, not only failing ones
  --fix            Apply safe fixes (atomically, keeping a FILE.bindcheck-bak), then check again
  --unsafe-fixes   With --fix or --diff: include fixes marked unsafe
  --diff           Print the fixes --fix would apply as a unified diff; write nothing
  --no-backup      With --fix: keep no backup file
  --baseline FILE  Leave out findings recorded in FILE (known and accepted); new ones still fail
  --write-baseline FILE  Record the current findings in FILE and exit 0
  Inline: a comment \`bindcheck: ignore BC101 -- reason\` on the line above a finding (in the config's own
  comment syntax: #, ;, dnl) leaves it out.
  --color / --no-color   Force colour on or off (default: on a TTY unless NO_COLOR is set)
  -h, --help       Show this help
  -V, --version    Print the version

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or internal error.
`;

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export async function main(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  // Each command loads only what it needs: `bindcheck sockets` must start fast.
  if (first === 'sockets') return (await import('./commands/sockets.js')).socketsCommand(rest, io);
  if (first === 'why') return (await import('./commands/why.js')).whyCommand(rest, io);
  if (first === 'trace') return (await import('./commands/trace.js')).traceCommand(rest, io);
  if (first === '-V' || first === '--version') {
    io.stdout(packageVersion() + '\n');
    return 0;
  }
  const args = first === 'scan' ? rest : argv;
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
    io.stderr(`bindcheck: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (values.version) {
    io.stdout(packageVersion() + '\n');
    return 0;
  }
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (format !== 'text' && format !== 'json' && format !== 'sarif') {
    io.stderr(`bindcheck: --format must be text, json or sarif, not ${JSON.stringify(format)}\n`);
    return 2;
  }
  const failOn = values['fail-on'] ?? 'error';
  if (failOn !== 'error' && failOn !== 'warning' && failOn !== 'info') {
    io.stderr(`bindcheck: --fail-on must be error, warning or info, not ${JSON.stringify(failOn)}\n`);
    return 2;
  }
  const { scanInventory } = await import('./run.js');
  const { toJsonReport } = await import('./reporters/json.js');
  const { renderText } = await import('./reporters/text.js');
  const scanOpts: import('./run.js').ScanOptions = { root: values.root ?? '/', live: !values['no-live'] };
  if (values.baseline !== undefined) {
    const { parseBaseline } = await import('./baseline/suppress.js');
    const { readFileSync } = await import('node:fs');
    let text: string;
    try {
      text = readFileSync(values.baseline, 'utf8');
    } catch (e) {
      io.stderr(`bindcheck: cannot read the baseline ${values.baseline}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 2;
    }
    const b = parseBaseline(text);
    if ('error' in b) {
      io.stderr(`bindcheck: ${values.baseline}: ${b.error}\n`);
      return 2;
    }
    scanOpts.baseline = { baseline: b, file: values.baseline };
  }
  let result = scanInventory(scanOpts);
  if (values['write-baseline'] !== undefined) {
    const { makeBaseline } = await import('./baseline/suppress.js');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(values['write-baseline'], JSON.stringify(makeBaseline(result.findings, result.inventory.sources), null, 2) + '\n');
    io.stderr(`bindcheck: recorded ${result.findings.length} finding(s) in ${values['write-baseline']}\n`);
    return 0;
  }
  const unsafe = values['unsafe-fixes'] ?? false;
  if (values.diff) {
    const { chooseFixes } = await import('./fixes/fixer.js');
    const { unifiedDiff } = await import('./fixes/diff.js');
    const { escapeForTerminal } = await import('./text/escape.js');
    const { chosen } = chooseFixes(result.findings, unsafe);
    const edits = chosen.flatMap((c) => c.fix.edits);
    for (const file of [...new Set(edits.map((e) => e.file))]) {
      io.stdout(escapeForTerminal(unifiedDiff(file, result.inventory.sources.get(file) ?? '', edits)).replaceAll('\\x0a', '\n'));
    }
    return chosen.length > 0 ? 1 : 0;
  }
  if (values.fix) {
    const { applyFixes } = await import('./fixes/fixer.js');
    const { escapeForTerminal } = await import('./text/escape.js');
    const rep = applyFixes(result, { unsafe, backup: !values['no-backup'], rescan: () => scanInventory(scanOpts) });
    for (const a of rep.applied) io.stderr(`fixed ${a.finding.code} at ${escapeForTerminal(a.finding.location.file)}:${a.finding.location.line}: ${escapeForTerminal(a.fix.description)} (${a.fix.safety})\n`);
    for (const s of rep.skipped) io.stderr(`not fixed ${s.finding.code} at ${escapeForTerminal(s.finding.location.file)}:${s.finding.location.line}: ${escapeForTerminal(s.why)}\n`);
    for (const f of rep.files) if (f.backup) io.stderr(`backup of ${escapeForTerminal(f.file)}: ${escapeForTerminal(f.backup)}\n`);
    if (rep.rolledBack) io.stderr(`rolled back: ${escapeForTerminal(rep.rolledBack)}\n`);
    result = scanInventory(scanOpts);
  }
  if (format === 'json') {
    io.stdout(JSON.stringify(toJsonReport(result, packageVersion()), null, 2) + '\n');
  } else if (format === 'sarif') {
    const { sarifJson, toSarif } = await import('./reporters/sarif.js');
    io.stdout(sarifJson(toSarif(result, packageVersion())) + '\n');
  } else {
    const color = values['no-color'] ? false : values.color ? true : io.isTTY && !io.env.NO_COLOR;
    io.stdout(renderText(result, { color, verbose: values.verbose ?? false }));
  }
  return result.findings.some((f) => RANK[f.severity] <= RANK[failOn]) ? 1 : 0;
}

function invokedDirectly(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    // npm installs the bin as a symlink; compare real paths.
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`bindcheck: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}

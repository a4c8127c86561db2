import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type TraceAnalysis,
  type TraceFailure,
  analyzeStraceText,
  parseStrace,
  pidText,
  verdictText,
} from '../evidence/strace/index.js';
import { readUserFile } from '../fs/root-fs.js';
import { formatEndpoint } from '../model/endpoint.js';
import { formatLocation } from '../model/location.js';
import type { TracedCall, TracedSocket } from '../model/runtime.js';
import { escapeForTerminal, terminalSafeJson } from '../text/escape.js';
import { explain, type Explanation } from '../explain/explain.js';
import { parseWhyTarget } from '../explain/target.js';
import type { RuntimeEvidence } from '../model/runtime.js';
import { renderWhy, toJsonExplanation } from '../reporters/why.js';

export interface TraceIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** The syscalls `bindcheck trace -- CMD` asks strace for. */
export const TRACED_SYSCALLS = ['socket', 'bind', 'listen', 'setsockopt', 'close', 'dup', 'dup2', 'dup3'];

export const TRACE_HELP = `Usage: bindcheck trace [options] --file TRACE
       bindcheck trace [options] -- COMMAND [ARGS...]

Replay a daemon's socket(), setsockopt(), bind(), listen() and close() calls through bindcheck's kernel model:
for each failed bind() or listen(), name the earlier socket that holds the address and the kernel rule; report
every call where the model and the real kernel disagree.

  --file TRACE          Analyse saved strace output (strace -f [-tt] -e trace=socket,bind,listen,setsockopt,close)
  -- COMMAND ARGS...    Run COMMAND under strace -f -tt -e trace=${TRACED_SYSCALLS.join(',')}
  --timeout SECONDS     Stop a COMMAND that has not exited after SECONDS (a daemon), then analyse what was captured
  --local-address ADDR  An address that is local on the traced host (repeatable; addresses the trace binds
                        successfully are taken as local anyway)
  --uid UID             The uid the traced daemon ran as (default 0), for the privileged-port rule
  --root DIR            Also trace each failure back to the daemon config under DIR (/ for this host): the
                        config line that causes it, and the fix
  --json                JSON: { schemaVersion: 1, trace, ...TraceAnalysis, explanations? }
  -h, --help            Show this help

Exit codes: 0 no failed bind()/listen(), 1 failures found, 2 usage error, strace missing or ptrace not permitted.
`;

/** `bindcheck trace …`. */
export async function traceCommand(args: string[], io: TraceIo): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const command = dash >= 0 ? args.slice(dash + 1) : [];
  let values: { file?: string; json?: boolean; timeout?: string; 'local-address'?: string[]; uid?: string; root?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        file: { type: 'string' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
        'local-address': { type: 'string', multiple: true },
        uid: { type: 'string' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    io.stderr(`bindcheck trace: ${escapeForTerminal((e as Error).message)}\n\n${TRACE_HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(TRACE_HELP);
    return 0;
  }
  if ((values.file === undefined) === (command.length === 0)) {
    io.stderr(`bindcheck trace: give either --file TRACE or -- COMMAND\n\n${TRACE_HELP}`);
    return 2;
  }
  let timeout: number | undefined;
  if (values.timeout !== undefined) {
    timeout = Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) {
      io.stderr(`bindcheck trace: --timeout wants a number of seconds, got ${terminalSafeJson(JSON.stringify(values.timeout))}\n`);
      return 2;
    }
  }
  const uid = values.uid === undefined ? 0 : Number(values.uid);
  if (!Number.isInteger(uid) || uid < 0) {
    io.stderr(`bindcheck trace: --uid wants a user id, got ${terminalSafeJson(JSON.stringify(values.uid))}\n`);
    return 2;
  }
  const replayOpts = { localAddresses: values['local-address'] ?? [], uid };

  let text: string;
  let file: string;
  let traced: string[] | undefined;
  if (values.file !== undefined) {
    file = values.file;
    const read = readUserFile(file);
    if (!read.ok) {
      io.stderr(`bindcheck trace: cannot read ${escapeForTerminal(file)}: ${escapeForTerminal(read.message)}\n`);
      return 2;
    }
    text = read.text;
  } else {
    const run = await runUnderStrace(command, timeout, io);
    if (!run.ok) {
      io.stderr(`bindcheck trace: ${run.error}\n`);
      return 2;
    }
    text = run.text;
    file = 'strace';
    traced = TRACED_SYSCALLS;
    if (run.timedOut) io.stderr(`bindcheck trace: stopped the command after ${timeout} s; analysing what was captured\n`);
  }

  let analysis: TraceAnalysis;
  try {
    analysis = analyzeStraceText(text, file, traced ? { ...replayOpts, traced } : replayOpts);
  } catch (e) {
    io.stderr(`bindcheck trace: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 2;
  }
  const explained = values.root !== undefined ? await explainFailures(analysis, values.root) : undefined;
  if (values.json) {
    const explanations = explained?.map((x) => toJsonExplanation(x.explanation, x.sources));
    io.stdout(`${terminalSafeJson(JSON.stringify({ schemaVersion: 1, trace: file, ...analysis, ...(explanations ? { explanations } : {}) }, null, 2))}\n`);
  } else {
    io.stdout(renderTraceAnalysis(analysis));
    const color = io.isTTY && !io.env.NO_COLOR;
    for (const x of explained ?? []) io.stdout(`\nIn the configuration under ${escapeForTerminal(values.root ?? '/')}, for ${escapeForTerminal(x.explanation.target.raw)}:\n${renderWhy(x.explanation, x.sources, color)}`);
  }
  return analysis.failures.length > 0 ? 1 : 0;
}

/** Each failed endpoint of the trace, explained from the daemon configs under `root`. */
async function explainFailures(analysis: TraceAnalysis, root: string): Promise<{ explanation: Explanation; sources: ReadonlyMap<string, string> }[]> {
  const { scanInventory } = await import('../run.js');
  const scan = scanInventory({ root, live: root === '/' });
  const runtime: RuntimeEvidence = { logEvents: [], units: [], traceFailures: [], traceDisagreements: [] };
  for (const f of analysis.failures) {
    const tf: RuntimeEvidence['traceFailures'][number] = { socket: f.socket, call: f.call, reason: f.reason };
    if (f.holder) tf.holder = f.holder;
    if (f.heldOutside) tf.heldOutside = true;
    runtime.traceFailures.push(tf);
  }
  const endpoints = [...new Set(analysis.failures.map((f) => {
    const a = f.call.address ?? f.socket.address;
    const p = f.call.port ?? f.socket.port;
    return a !== undefined && p !== undefined ? `${f.socket.proto}/${a.includes(':') ? `[${a}]` : a}:${p}` : undefined;
  }).filter((x): x is string => x !== undefined))];
  const out: { explanation: Explanation; sources: ReadonlyMap<string, string> }[] = [];
  for (const ep of endpoints) {
    const target = parseWhyTarget(ep);
    if ('error' in target) continue;
    out.push({ explanation: explain({ target, inventory: scan.inventory, analysis: scan.analysis, findings: scan.findings, runtime }), sources: scan.inventory.sources });
  }
  return out;
}

function endpointOf(call: TracedCall, s: TracedSocket): string | undefined {
  const address = call.call === 'bind' ? call.address : s.address;
  const port = call.call === 'bind' ? call.port : s.port;
  return address !== undefined && port !== undefined ? formatEndpoint({ address, port }) : undefined;
}

function callText(call: TracedCall, s: TracedSocket): string {
  const ep = endpointOf(call, s);
  const args = call.call === 'bind' ? `${call.fd ?? s.fd}, ${ep ?? '?'}` : `${call.fd ?? s.fd}`;
  const ret = call.ok ? '0' : `-1 ${call.errno ?? '?'}`;
  return `${call.call}(${args}) = ${ret}`;
}

function holderEndpoint(h: TracedSocket): string {
  return h.address !== undefined && h.port !== undefined ? formatEndpoint({ address: h.address, port: h.port }) : 'the address';
}

function renderFailure(f: TraceFailure): string {
  const head = `${callText(f.call, f.socket)} at ${formatLocation(f.call.source)}`;
  let body: string;
  if (f.heldOutside) body = f.reason;
  else if (f.holder) {
    const listening = f.holderListen ? `, listening since ${formatLocation(f.holderListen.source)}` : '';
    const bound = f.holderBind ? `, bound at ${formatLocation(f.holderBind.source)}` : '';
    body = `${holderEndpoint(f.holder)} is held by fd ${f.holder.fd} of ${pidText(f.holder.pid)}${bound}${listening} — the kernel rule: ${f.reason}`;
  } else body = f.reason;
  const unsure =
    f.modelVerdict.ok === 'unknown' && !/depends on/.test(body) ? `\n    (the model cannot be sure: ${verdictText(f.modelVerdict)})` : '';
  return `${head}: ${body}${unsure}`;
}

/** Text report: failures with holders, disagreements, exits, notes. Everything from the trace is escaped. */
export function renderTraceAnalysis(a: TraceAnalysis): string {
  const out: string[] = [];
  if (a.failures.length === 0) out.push('No bind() or listen() call failed in the trace.');
  for (const f of a.failures) out.push(renderFailure(f));
  if (a.disagreements.length > 0) {
    out.push('', `The kernel model disagrees with the trace on ${a.disagreements.length} call(s):`);
    for (const d of a.disagreements) {
      out.push(`  ${callText(d.call, d.socket)} at ${d.locations.map(formatLocation).join(', ')}: ${d.reason}`);
    }
  }
  if (a.exits.length > 0) {
    out.push('', 'Exits:');
    for (const e of a.exits) {
      const how = e.signal !== undefined ? `was killed by ${e.signal}` : `exited with ${e.status ?? '?'}`;
      out.push(`  ${pidText(e.pid)} ${how} at ${formatLocation(e.source)}`);
    }
  }
  const shown = a.notes.slice(0, 5);
  if (shown.length > 0) {
    out.push('', `Notes (${a.notes.length}${a.notes.length > shown.length ? `, first ${shown.length}; --json lists all` : ''}):`);
    for (const n of shown) out.push(`  ${formatLocation(n.source)}: ${n.message}`);
  }
  const c = a.checked;
  out.push(
    '',
    `${c.calls} bind()/listen() call(s) replayed: ${c.agreed} confirmed by the model, ${c.unknown} undecidable from the trace, ` +
      `${c.notModelled} outside the model, ${a.disagreements.length} disagreement(s).`,
  );
  return `${out.join('\n').split('\n').map(escapeForTerminal).join('\n')}\n`;
}

type RunResult = { ok: true; text: string; timedOut: boolean } | { ok: false; error: string };

const PTRACE_DENIED = /PTRACE_TRACEME: Operation not permitted|ptrace\(PTRACE_SEIZE[^)]*\): Operation not permitted|attach: ptrace/;

async function runUnderStrace(command: string[], timeout: number | undefined, io: TraceIo): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bindcheck-trace-'));
  const out = join(dir, 'strace.txt');
  try {
    const child = spawn('strace', ['-f', '-tt', '-e', `trace=${TRACED_SYSCALLS.join(',')}`, '-o', out, '--', ...command], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: io.env,
    });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => io.stderr(escapeForTerminal(d.toString('utf8')).replace(/\\x0a/g, '\n')));
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString('utf8');
      stderr += s;
      io.stderr(escapeForTerminal(s).replace(/\\x0a/g, '\n'));
    });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let killer: NodeJS.Timeout | undefined;
    const status = await new Promise<{ error?: NodeJS.ErrnoException; code: number | null }>((resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => resolve({ error, code: null }));
      child.on('close', (code) => resolve({ code }));
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          stopTracees(out, child.pid, 'SIGTERM');
          killer = setTimeout(() => stopTracees(out, child.pid, 'SIGKILL'), 2000);
        }, timeout * 1000);
      }
    });
    if (timer) clearTimeout(timer);
    if (killer) clearTimeout(killer);
    if (status.error) {
      return {
        ok: false,
        error:
          status.error.code === 'ENOENT'
            ? 'strace is not installed (apt-get install strace), so the command cannot be traced'
            : `cannot run strace: ${status.error.message}`,
      };
    }
    if (PTRACE_DENIED.test(stderr)) {
      return {
        ok: false,
        error:
          'ptrace is not permitted here, so strace cannot trace the command (in a container: --cap-add SYS_PTRACE ' +
          'or a seccomp profile that allows ptrace; on the host: kernel.yama.ptrace_scope)',
      };
    }
    let text = '';
    try {
      text = readFileSync(out, 'utf8');
    } catch {
      return { ok: false, error: `strace wrote no trace (exit status ${status.code ?? '?'})` };
    }
    return { ok: true, text, timedOut };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops what we started: strace's process group and every traced pid (a daemon leaves the group with setsid()). */
function stopTracees(traceFile: string, stracePid: number | undefined, signal: NodeJS.Signals): void {
  let pids: number[] = [];
  try {
    const parsed = parseStrace(readFileSync(traceFile, 'utf8'), traceFile);
    const exited = new Set(parsed.events.flatMap((e) => (e.kind === 'exit' && e.pid !== undefined ? [e.pid] : [])));
    pids = [...new Set(parsed.events.flatMap((e) => (e.pid !== undefined && !exited.has(e.pid) ? [e.pid] : [])))];
  } catch {
    // nothing captured yet
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  if (stracePid !== undefined) {
    try {
      process.kill(-stracePid, signal);
    } catch {
      // already gone
    }
  }
}

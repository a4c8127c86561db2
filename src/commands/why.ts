import { parseArgs } from 'node:util';
import { escapeForTerminal, terminalSafeJson } from '../text/escape.js';
import { gatherRuntime } from '../evidence/gather.js';
import { recogniseLine } from '../evidence/logs/index.js';
import { explain } from '../explain/explain.js';
import { parseWhyTarget } from '../explain/target.js';
import { renderWhy, toJsonExplanation } from '../reporters/why.js';
import { scanInventory } from '../run.js';

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export const WHY_HELP = `Usage: bindcheck why TARGET [options]

Explain why a daemon cannot bind its address: the config line, the sockets it asks for, the kernel rule,
who holds the address, the log lines and the unit's end, and the fix.

TARGET is one of:
  a unit or daemon        sendmail, sendmail.service
  a port                  25, tcp/25, 127.0.0.1:25, [::1]:25
  a pasted log line       'sendmail[24097]: … opendaemonsocket: daemon MTA: cannot bind: Address already in use'

Options:
  --root DIR         Explain for an appliance image instead of this host
  --evidence FILE    A saved strace, \`systemctl status\` text or log file (repeatable; the kind is detected)
  --json             Print the explanation as JSON
  --no-live          Ignore ROOT/proc, the journal and systemd state
  --color / --no-color
  -h, --help

Exit codes: 0 the target starts fine, 1 it fails (or may fail), 2 usage error or nothing to explain.
`;

export async function whyCommand(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        root: { type: 'string' },
        evidence: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        'no-live': { type: 'boolean' },
        color: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`bindcheck why: ${escapeForTerminal((e as Error).message)}\n\n${WHY_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(WHY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr(`bindcheck why: give exactly one TARGET (quote a log line)\n\n${WHY_HELP}`);
    return 2;
  }
  const target = parseWhyTarget(positionals[0] as string);
  if ('error' in target) {
    io.stderr(`bindcheck why: ${escapeForTerminal(target.error)}\n`);
    return 2;
  }
  const root = values.root ?? '/';
  const live = !values['no-live'];
  const result = scanInventory({ root, live });
  const inv = result.inventory;
  const isLiveHost = inv.live;
  const unitNames = [...new Set([...inv.units.map((u) => u.unit), ...(target.kind === 'unit' ? [target.unit] : [])])];
  const { runtime, unseen } = await gatherRuntime(inv, { live: isLiveHost, evidenceFiles: values.evidence ?? [], units: unitNames });
  const input: Parameters<typeof explain>[0] = { target, inventory: { ...inv, unseen: [...inv.unseen, ...unseen] }, analysis: result.analysis, findings: result.findings, runtime };
  if (target.kind === 'log-line') {
    const ev = recogniseLine(target.raw, { file: '(the line given)', line: 1 });
    if (ev) input.targetEvent = ev;
  }
  const e = explain(input);
  if (values.json) io.stdout(terminalSafeJson(JSON.stringify(toJsonExplanation(e, inv.sources), null, 2)) + '\n');
  else {
    const color = values['no-color'] ? false : values.color ? true : io.isTTY && !io.env.NO_COLOR;
    io.stdout(renderWhy(e, inv.sources, color));
  }
  if (e.status === 'fails' || e.status === 'at-risk') return 1;
  return e.status === 'starts' ? 0 : 2;
}

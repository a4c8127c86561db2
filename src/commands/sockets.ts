import { parseArgs } from 'node:util';
import { escapeForTerminal, terminalSafeJson } from '../text/escape.js';
import { readLiveSockets } from '../live/read-live-sockets.js';
import type { LiveSocket } from '../model/live.js';
import { renderSocketsTable } from '../reporters/sockets-table.js';

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const SOCKETS_HELP = `Usage: bindcheck sockets [options]

Show the sockets of this network namespace with the processes that hold them, their systemd unit and namespace.
By default: listening TCP and bound (unconnected) UDP sockets, like \`ss -ltnup\`.

Options:
  --all             Every socket, in every state (ESTAB, TIME-WAIT, ...)
  --json            JSON: { schemaVersion: 1, sockets: LiveSocket[], unseen: [{what, why}] }
  --root DIR        Read DIR/proc instead of /proc (a captured /proc tree or an image)
  --no-owners       Do not look up owning processes (much faster on hosts with many fds)
  --max-owners N    Owners listed per socket (default 3 in text, 16 in JSON; 0 = all). ownerCount is exact.
  -h, --help        Show this help

/proc/net lists only the network namespace bindcheck runs in. Seeing other users' processes needs root;
without it, uid and inode are still shown and the output says which owners could not be seen.
`;

/** `bindcheck sockets …`. Exit codes: 0 shown, 2 usage error. */
export async function socketsCommand(args: string[], io: CommandIo): Promise<number> {
  let values: { json?: boolean; all?: boolean; root?: string; 'no-owners'?: boolean; 'max-owners'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        root: { type: 'string' },
        'no-owners': { type: 'boolean' },
        'max-owners': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    io.stderr(`bindcheck sockets: ${escapeForTerminal((e as Error).message)}\n\n${SOCKETS_HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(SOCKETS_HELP);
    return 0;
  }
  let maxOwners: number | undefined;
  if (values['max-owners'] !== undefined) {
    maxOwners = Number(values['max-owners']);
    if (!Number.isInteger(maxOwners) || maxOwners < 0) {
      io.stderr(`bindcheck sockets: --max-owners wants a whole number, got ${terminalSafeJson(JSON.stringify(values['max-owners']))}\n`);
      return 2;
    }
    if (maxOwners === 0) maxOwners = Infinity;
  }
  const table = readLiveSockets(values.root ?? '/', { owners: !values['no-owners'], states: values.all ? 'all' : 'listening', cmdline: values.json === true });
  if (values.json) {
    io.stdout(renderSocketsJson(table.sockets, table.unseen, maxOwners ?? 16));
  } else {
    io.stdout(renderSocketsTable(table.sockets, { maxOwners: maxOwners ?? 3 }));
    for (const n of table.unseen) io.stderr(`bindcheck: not shown: ${escapeForTerminal(n.what)}: ${escapeForTerminal(n.why)}\n`);
  }
  return 0;
}

/**
 * The JSON contract: LiveSocket objects, owners capped at `maxOwners` (a prefork server has 100 owners per
 * socket, and listing all of them makes the document grow by the product) with `ownerCount` always exact.
 */
export function renderSocketsJson(sockets: readonly LiveSocket[], unseen: readonly { what: string; why: string }[], maxOwners: number): string {
  const out = sockets.map((s) => (s.owners.length > maxOwners ? { ...s, owners: s.owners.slice(0, maxOwners), ownerCount: s.owners.length } : { ...s, ownerCount: s.owners.length }));
  return terminalSafeJson(JSON.stringify({ schemaVersion: 1, sockets: out, unseen }, null, 2)) + '\n';
}

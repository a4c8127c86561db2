#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { escapeForTerminal } from './text/escape.js';
import { syncWriter } from './text/sync-writer.js';
import { packageVersion } from './version.js';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export const USAGE = `NAME
  bindcheck — why can't this daemon bind its address?

SYNOPSIS
  bindcheck [scan] [options]            predict which daemon sockets cannot be bound, and why (default)
  bindcheck why TARGET [options]        explain one failure: a unit, a port or a pasted log line
  bindcheck trace --file TRACE | -- CMD replay a daemon's socket calls from strace through the kernel model
  bindcheck sockets [options]           the host's sockets with owning process, systemd unit and netns
  bindcheck help [COMMAND]              this text, or a command's full help
  bindcheck completion bash|zsh         a shell completion script
  bindcheck --version

  Run \`bindcheck help COMMAND\` for each command's options, exit status and examples.

EXIT STATUS
  0 clean; 1 findings (scan: at or above --fail-on); 2 usage or internal error.
`;

type Command = (args: string[], io: Io) => Promise<number>;

/** Each command loads only its own modules: `bindcheck sockets` must start fast. */
const COMMANDS: Record<string, { run: () => Promise<Command>; help: () => Promise<string> }> = {
  scan: { run: async () => (await import('./commands/scan.js')).scanCommand, help: async () => (await import('./commands/scan.js')).SCAN_HELP },
  why: { run: async () => (await import('./commands/why.js')).whyCommand, help: async () => (await import('./commands/why.js')).WHY_HELP },
  trace: { run: async () => (await import('./commands/trace.js')).traceCommand, help: async () => (await import('./commands/trace.js')).TRACE_HELP },
  sockets: { run: async () => (await import('./commands/sockets.js')).socketsCommand, help: async () => (await import('./commands/sockets.js')).SOCKETS_HELP },
  completion: { run: async () => (await import('./commands/completion.js')).completionCommand, help: async () => 'Usage: bindcheck completion bash|zsh\n' },
};

export async function main(argv: string[], io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-V' || first === '--version') {
    io.stdout(packageVersion() + '\n');
    return 0;
  }
  if (first === '-h' || first === '--help') {
    io.stdout(USAGE);
    return 0;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      io.stdout(USAGE);
      return 0;
    }
    const cmd = COMMANDS[topic];
    if (!cmd) {
      io.stderr(`bindcheck help: no command ${escapeForTerminal(JSON.stringify(topic))}; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
      return 2;
    }
    io.stdout(await cmd.help());
    return 0;
  }
  const named = first !== undefined ? COMMANDS[first] : undefined;
  if (named) return (await named.run())(rest, io);
  // No command word: scan, with every argument as its option.
  return (await (COMMANDS.scan as (typeof COMMANDS)[string]).run())(argv, io);
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

/** Run the CLI on this process's argv and stdio; the exit status goes to process.exitCode. */
export function runCli(): void {
  main(process.argv.slice(2), {
    stdout: syncWriter(1),
    stderr: syncWriter(2),
    // Asked only by commands that colour their output: process.stdout (and its stream modules) is made then.
    get isTTY() {
      return process.stdout.isTTY === true;
    },
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      syncWriter(2)(`bindcheck: internal error: ${escapeForTerminal(e instanceof Error ? (e.stack ?? e.message) : String(e)).replaceAll('\\x0a', '\n')}\n`);
      process.exitCode = 2;
    },
  );
}

if (invokedDirectly()) runCli();

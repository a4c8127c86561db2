import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { COMMAND_OPTIONS } from '../../src/commands/completion.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false, env: {} });
  return { code, out, err };
}

describe('help', () => {
  it('bindcheck help COMMAND prints the same text as COMMAND --help, for every command', async () => {
    for (const cmd of ['scan', 'why', 'trace', 'sockets']) {
      const a = await run(['help', cmd]);
      const b = await run([cmd, '--help']);
      expect(a.code).toBe(0);
      expect(a.out).toBe(b.out);
      expect(a.out).toMatch(/Usage|SYNOPSIS/);
    }
    expect((await run(['help', 'nope'])).code).toBe(2);
    expect((await run(['help'])).out).toMatch(/^NAME\n/);
  });

  it('every option the completion offers is accepted by its command', async () => {
    for (const [cmd, opts] of Object.entries(COMMAND_OPTIONS)) {
      if (cmd === 'help' || cmd === 'completion') continue;
      const help = (await run(['help', cmd])).out;
      for (const o of opts) expect(help, `${cmd} ${o}`).toContain(o);
    }
  });
});

describe('completion', () => {
  it('bash: the script is valid bash and completes commands', async () => {
    const script = (await run(['completion', 'bash'])).out;
    const check = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(bindcheck wh); COMP_CWORD=1; _bindcheck; echo "\${COMPREPLY[@]}"`]);
    expect(check.stderr.toString()).toBe('');
    expect(check.stdout.toString().trim()).toBe('why');
    const opts = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(bindcheck why --ev); COMP_CWORD=2; _bindcheck; echo "\${COMPREPLY[@]}"`]);
    expect(opts.stdout.toString().trim()).toBe('--evidence');
  });

  it('zsh: a #compdef script naming every command', async () => {
    const script = (await run(['completion', 'zsh'])).out;
    expect(script.startsWith('#compdef bindcheck')).toBe(true);
    for (const cmd of Object.keys(COMMAND_OPTIONS)) expect(script).toContain(cmd);
    const zsh = spawnSync('zsh', ['-n'], { input: script });
    if (zsh.error && !process.env.CI) console.warn('[completion] zsh is not installed: the zsh script was not syntax-checked');
    else expect(zsh.status, 'zsh -n (CI installs zsh)').toBe(0);
  });

  it('an unknown shell is a usage error', async () => {
    expect((await run(['completion', 'fish'])).code).toBe(2);
  });
});

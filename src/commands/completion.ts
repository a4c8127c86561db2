import type { CommandIo } from './why.js';

/** Commands and their options, for shell completion. Kept next to the commands' own parseArgs tables. */
export const COMMAND_OPTIONS: Record<string, string[]> = {
  scan: ['--root', '--format', '--json', '--fail-on', '--no-live', '--verbose', '--fix', '--unsafe-fixes', '--diff', '--no-backup', '--baseline', '--write-baseline', '--color', '--no-color', '--help', '--version'],
  why: ['--root', '--evidence', '--json', '--no-live', '--color', '--no-color', '--help'],
  trace: ['--file', '--timeout', '--local-address', '--uid', '--root', '--json', '--help'],
  sockets: ['--json', '--all', '--root', '--no-owners', '--max-owners', '--help'],
  help: [],
  completion: [],
};

/** Options that take a directory or file argument, and the fixed values of the others. */
const DIR_OPTS = ['--root'];
const FILE_OPTS = ['--file', '--evidence', '--baseline', '--write-baseline'];
const VALUES: Record<string, string[]> = { '--format': ['text', 'json', 'sarif'], '--fail-on': ['error', 'warning', 'info'] };

export function bashCompletion(): string {
  const cases = Object.entries(COMMAND_OPTIONS)
    .map(([cmd, opts]) => `    ${cmd}) opts="${opts.join(' ')}" ;;`)
    .join('\n');
  const values = Object.entries(VALUES)
    .map(([o, v]) => `    ${o}) COMPREPLY=( $(compgen -W "${v.join(' ')}" -- "$cur") ); return ;;`)
    .join('\n');
  return `# bash completion for bindcheck (bindcheck completion bash > /etc/bash_completion.d/bindcheck)
_bindcheck() {
  local cur prev cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${DIR_OPTS.join('|')}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
    ${FILE_OPTS.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
${values}
  esac
  cmd=scan
  local w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in ${Object.keys(COMMAND_OPTIONS).join('|')}) cmd=$w; break ;; esac
  done
  case "$cmd" in
${cases}
  esac
  if [ "$COMP_CWORD" -eq 1 ] && [[ "$cur" != -* ]]; then
    COMPREPLY=( $(compgen -W "${Object.keys(COMMAND_OPTIONS).join(' ')}" -- "$cur") )
  elif [ "$cmd" = help ] || [ "$cmd" = completion ]; then
    COMPREPLY=( $(compgen -W "${Object.keys(COMMAND_OPTIONS).join(' ')} bash zsh" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  fi
}
complete -F _bindcheck bindcheck
`;
}

export function zshCompletion(): string {
  const cmds = Object.keys(COMMAND_OPTIONS);
  const optSpec = (o: string): string => {
    if (DIR_OPTS.includes(o)) return `'${o}[${o.slice(2)}]:directory:_files -/'`;
    if (FILE_OPTS.includes(o)) return `'${o}[${o.slice(2)}]:file:_files'`;
    const v = VALUES[o];
    if (v) return `'${o}[${o.slice(2)}]:value:(${v.join(' ')})'`;
    return `'${o}[${o.slice(2)}]'`;
  };
  const cases = Object.entries(COMMAND_OPTIONS)
    .map(([cmd, opts]) => `    ${cmd}) _arguments ${opts.map(optSpec).join(' ')} '*:target:' ;;`)
    .join('\n');
  return `#compdef bindcheck
# zsh completion for bindcheck (bindcheck completion zsh > "\${fpath[1]}/_bindcheck")
_bindcheck() {
  local cmd=scan
  if (( CURRENT == 2 )); then
    _alternatives 'commands:command:(${cmds.join(' ')})' 'options:option:(${(COMMAND_OPTIONS.scan ?? []).join(' ')})'
    return
  fi
  case \${words[2]} in ${cmds.join('|')}) cmd=\${words[2]}; shift words; (( CURRENT-- )) ;; esac
  case $cmd in
${cases}
  esac
}
_bindcheck "$@"
`;
}

export async function completionCommand(args: string[], io: CommandIo): Promise<number> {
  const shell = args[0];
  if (shell === 'bash') io.stdout(bashCompletion());
  else if (shell === 'zsh') io.stdout(zshCompletion());
  else {
    io.stderr('Usage: bindcheck completion bash|zsh\n');
    return 2;
  }
  return 0;
}

// `herd completion bash|zsh|fish`: a shell completion script for herd's verbs, their flags and
// (for verbs that take them) the project's services, read through `herd config --services`.
import type { Command } from 'commander';
import { HerdError } from '../../util/errors.ts';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      `
Examples:
  $ source <(herd completion bash)              # this shell; add it to ~/.bashrc to keep it
  $ herd completion zsh > "\${fpath[1]}/_herd"
  $ herd completion fish > ~/.config/fish/completions/herd.fish`,
    )
    .action((shell: string, _opts: unknown, cmd: Command) => {
      if (!SHELLS.includes(shell as Shell))
        throw new HerdError(
          `unknown shell ${shell}: expected bash, zsh or fish`,
          'INVALID_ARGUMENT',
        );
      const verbs = cmd.parent!.commands.map((c) => ({
        name: c.name(),
        flags: c.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)),
        services: c.registeredArguments.some((a) => /service/.test(a.name())),
      }));
      process.stdout.write(script(shell as Shell, verbs));
    });
}

interface Verb {
  name: string;
  flags: string[];
  services: boolean;
}

function script(shell: Shell, verbs: Verb[]): string {
  const names = verbs.map((v) => v.name).join(' ');
  const withServices = verbs.filter((v) => v.services).map((v) => v.name);
  if (shell === 'bash') {
    const cases = verbs.map((v) => `    ${v.name}) flags="${v.flags.join(' ')}" ;;`).join('\n');
    return `# herd completion for bash: source <(herd completion bash)
_herd() {
  local cur verb flags i
  cur=\${COMP_WORDS[COMP_CWORD]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      -f|--file|-p|--project-name|--project-directory|--env-file|--profile) ((i++)) ;;
      -*) ;;
      *) verb=\${COMP_WORDS[i]}; break ;;
    esac
  done
  if [ -z "$verb" ]; then
    COMPREPLY=($(compgen -W "${names} -f --file -p --project-name --project-directory --env-file --profile --version --help" -- "$cur"))
    return
  fi
  case $verb in
${cases}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
  elif [[ " ${withServices.join(' ')} " == *" $verb "* ]]; then
    COMPREPLY=($(compgen -W "$(herd config --services 2>/dev/null)" -- "$cur"))
  fi
}
complete -F _herd herd
`;
  }
  if (shell === 'zsh') {
    return `#compdef herd
# herd completion for zsh: herd completion zsh > "\${fpath[1]}/_herd"
_herd() {
  local -a verbs
  verbs=(${names})
  if (( CURRENT == 2 )); then
    _describe 'verb' verbs
    return
  fi
  case \${words[2]} in
    ${withServices.join('|')})
      local -a services
      services=(\${(f)"$(herd config --services 2>/dev/null)"})
      _describe 'service' services ;;
  esac
}
compdef _herd herd
`;
  }
  const lines = verbs.map(
    (v) =>
      `complete -c herd -n '__fish_use_subcommand' -a ${v.name}` +
      v.flags
        .filter((f) => f.startsWith('--'))
        .map(
          (f) => `\ncomplete -c herd -n '__fish_seen_subcommand_from ${v.name}' -l ${f.slice(2)}`,
        )
        .join(''),
  );
  return `# herd completion for fish: herd completion fish > ~/.config/fish/completions/herd.fish
complete -c herd -f
${lines.join('\n')}
complete -c herd -n '__fish_seen_subcommand_from ${withServices.join(' ')}' -a '(herd config --services 2>/dev/null)'
`;
}

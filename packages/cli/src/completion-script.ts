/**
 * Shell completion scripts for bash and zsh, generated from the command table: command names (with shortcuts), then
 * the flags of the command being typed.
 * @module
 */
import type { CommandSpec } from './command-spec.ts';
import { allOptions } from './help-text.ts';

function flagsOf(spec: CommandSpec): string[] {
  return Object.entries(allOptions(spec)).flatMap(([name, option]) => [`--${name}`, ...(option.short ? [`-${option.short}`] : [])]);
}

export function bashCompletion(specs: readonly CommandSpec[], shortcuts: Record<string, string>): string {
  const names = [...specs.map((spec) => spec.name), ...Object.keys(shortcuts), 'help'].sort();
  const cases = specs.map((spec) => `    ${[spec.name, ...Object.keys(shortcuts).filter((s) => shortcuts[s] === spec.name)].join('|')}) flags="${flagsOf(spec).join(' ')}" ;;`);
  return `# bash completion for deis; load with: source <(deis completion bash)
_deis() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names.join(' ')}" -- "$cur") )
    return 0
  fi
  local flags=""
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -F _deis deis
`;
}

export function zshCompletion(specs: readonly CommandSpec[], shortcuts: Record<string, string>): string {
  const quote = (text: string) => text.replace(/'/g, "'\\''").replace(/:/g, '\\:');
  const entries = [
    ...specs.map((spec) => `    '${quote(spec.name)}:${quote(spec.summary)}'`),
    ...Object.entries(shortcuts).map(([name, target]) => `    '${quote(name)}:${quote(`alias for ${target}`)}'`),
  ];
  const cases = specs.map((spec) => `    ${[spec.name, ...Object.keys(shortcuts).filter((s) => shortcuts[s] === spec.name)].join('|')}) flags=(${flagsOf(spec).join(' ')}) ;;`);
  return `#compdef deis
# zsh completion for deis; load with: source <(deis completion zsh)
_deis() {
  local -a commands flags
  commands=(
${entries.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
${cases.join('\n')}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $flags
  else
    _files
  fi
}
compdef _deis deis
`;
}

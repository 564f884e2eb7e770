/**
 * Help texts: the overview of every command, the usage of one command, and the list of
 * a command group (`paired kv`, `paired team --help`, `paired help task`).
 */
import { UsageError } from './args.js'
import { COMMANDS, COMMAND_GROUPS } from './commands/index.js'
import type { CommandModule } from './context.js'

export const COMMON_HELP = 'Every command takes --home DIR (default: $PAIRED_HOME, else ~/.paired) and --json (print one JSON document).'

/** `  usage  summary` lines, the summaries aligned */
function listing (entries: Array<[string, CommandModule]>, short: (name: string, c: CommandModule) => string): string[] {
  const usages = entries.map(([name, c]) => [short(name, c), c.summary])
  const width = Math.max(...usages.map(([usage]) => usage.length))
  return usages.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`)
}

/** the overview of every command */
export function overview (): string {
  return [
    'paired: a peer-to-peer daemon for developer teams',
    '',
    'usage: paired <command> [options]',
    '',
    'commands:',
    ...listing(Object.entries(COMMANDS), (name, c) => c.usage.length > 40 ? `${name} [options]` : c.usage),
    '',
    COMMON_HELP,
    'Run \'paired help <command>\' for the options of one command.'
  ].join('\n')
}

/** the commands of a group: `team` itself (when it is a command), then `team create`, … */
export function groupCommands (group: string): Array<[string, CommandModule]> {
  return Object.entries(COMMANDS).filter(([name]) => name === group || name.startsWith(`${group} `))
}

/** `paired kv`, `paired help kv`, `paired kv --help`: the commands of a group */
export function groupHelp (group: string): string {
  const info = COMMAND_GROUPS[group]
  return [
    `usage: paired ${info?.usage ?? `${group} <command> [options]`}`,
    '',
    ...listing(groupCommands(group), (name, c) => c.usage.length > 60 ? `${name} [options]` : c.usage),
    '',
    ...(info?.note != null ? [info.note] : []),
    `Run 'paired help ${group} <command>' for the options of one command.`
  ].join('\n')
}

/** the usage of one command */
export function commandHelp (command: CommandModule): string {
  return [
    `usage: paired ${command.usage} [--home DIR] [--json]`,
    '',
    command.summary,
    ...(command.details != null ? ['', command.details] : []),
    '',
    COMMON_HELP
  ].join('\n')
}

/**
 * The help for `words` (`paired help WORDS...`): the overview for none, a group's list for
 * a group, else the longest command that `words` starts with (`team invite revoke` is
 * `team invite`'s); a `UsageError` when nothing matches.
 */
export function helpText (words?: string): string {
  const parts = words?.split(/\s+/).filter(w => w !== '') ?? []
  if (parts.length === 0) return overview()
  if (parts.length === 1 && Object.hasOwn(COMMAND_GROUPS, parts[0])) return groupHelp(parts[0])
  for (let n = parts.length; n > 0; n--) {
    const name = parts.slice(0, n).join(' ')
    if (Object.hasOwn(COMMANDS, name)) return commandHelp(COMMANDS[name])
  }
  throw new UsageError(`unknown command '${parts.join(' ')}'`)
}

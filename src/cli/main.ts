/**
 * @packageDocumentation
 *
 * The `paired` command line: finds the command, parses its flags strictly, runs it and
 * turns any error into one line on stderr and an exit code (DESIGN §7). Each command is a
 * thin client of the local API in its own file under `commands/`.
 */
import { resolveHome } from '../daemon/home.js'
import { UsageError, parseCommandArgs, splitCommandLine, stringOption } from './args.js'
import { COMMANDS, GROUPS } from './commands/index.js'
import { makeContext, type CliIo, type CommandModule } from './context.js'
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js'
import { packageVersion } from './version.js'

export type { CliIo } from './context.js'
export { exitCodeFor } from './exit-codes.js'

const COMMON_HELP = 'Every command takes --home DIR (default: $PAIRED_HOME, else ~/.paired) and --json (print one JSON document).'

/** the overview of every command */
export function overview (): string {
  const usages = Object.entries(COMMANDS).map(([name, c]) => [c.usage.length > 40 ? `${name} [options]` : c.usage, c.summary])
  const width = Math.max(...usages.map(([usage]) => usage.length))
  const lines = usages.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`)
  return [
    'paired: a peer-to-peer daemon for developer teams',
    '',
    'usage: paired <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    COMMON_HELP,
    'Run \'paired help <command>\' for the options of one command.'
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

function usageText (words?: string): string {
  if (words == null) return overview()
  const command = COMMANDS[words]
  if (command == null) throw new UsageError(`unknown command '${words}'`)
  return commandHelp(command)
}

function checkPositionals (name: string, command: CommandModule, positionals: string[]): void {
  const required = command.args ?? []
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required[positionals.length]}: paired ${command.usage}`)
  }
  const extra = positionals[required.length + (command.optionalArgs ?? 0)]
  if (extra != null) throw new UsageError(`unexpected argument '${extra}' for 'paired ${name}'`)
}

/** one line: no stack, no line breaks */
function oneLine (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.replace(/\s*\n\s*/g, ' ').trim()
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit
 * code. Writes to `io` (default: the process's stdout and stderr); never exits the process.
 */
export async function main (argv: string[], io: CliIo = {}): Promise<number> {
  const write = {
    out: io.out ?? ((chunk: string) => { process.stdout.write(chunk) }),
    err: io.err ?? ((chunk: string) => { process.stderr.write(chunk) })
  }
  const env = io.env ?? process.env
  let name = ''
  try {
    const { leading, words, rest } = splitCommandLine(argv, word => GROUPS.includes(word))
    if (leading.includes('--version')) {
      write.out(`${await packageVersion()}\n`)
      return EXIT_OK
    }
    if (words.length === 0) {
      if (rest.length > 0) throw new UsageError(`unknown option ${rest[0].split('=')[0]}`)
      if (leading.includes('--help') || leading.includes('-h')) {
        write.out(overview() + '\n')
        return EXIT_OK
      }
      write.err(overview() + '\n')
      return EXIT_USAGE
    }
    name = words.join(' ')
    const command = COMMANDS[name]
    if (command == null) throw new UsageError(`unknown command '${name}'`)
    const args = parseCommandArgs([...leading, ...rest], command.options ?? {})
    if (args.values.help === true) {
      write.out(commandHelp(command) + '\n')
      return EXIT_OK
    }
    checkPositionals(name, command, args.positionals)
    const ctx = makeContext({
      home: resolveHome(stringOption(args, 'home'), env),
      json: args.values.json === true,
      env,
      write,
      usage: usageText
    })
    return (await command.run(args, ctx)) ?? EXIT_OK
  } catch (err) {
    const code = exitCodeFor(err)
    let line = `paired: ${oneLine(err)}`
    if (err instanceof UsageError) line += ` (run 'paired help${name !== '' && COMMANDS[name] != null ? ` ${name}` : ''}')`
    write.err(line + '\n')
    if (env.PAIRED_DEBUG === '1' && err instanceof Error && err.stack != null) write.err(err.stack + '\n')
    return code
  }
}

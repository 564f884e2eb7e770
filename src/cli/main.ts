/**
 * @packageDocumentation
 *
 * The `paired` command line: finds the command, parses its flags strictly, runs it and
 * turns any error into one line on stderr and an exit code (docs/DESIGN.md §7). Each command is a
 * thin client of the local API in its own file under `commands/`.
 */
import { resolveHome } from '../daemon/home.js'
import { UsageError, parseCommandArgs, splitCommandLine, stringOption } from './args.js'
import { COMMANDS, COMMAND_GROUPS, GROUPS } from './commands/index.js'
import { makeContext, type CliIo, type CommandModule } from './context.js'
import { EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit-codes.js'
import { groupHelp, helpText, overview } from './help.js'
import { packageVersion } from '../model/version.js'

export type { CliIo } from './context.js'
export { exitCodeFor } from './exit-codes.js'
export { commandHelp, overview } from './help.js'

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
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
    if (command == null) {
      // a group without its command word (`paired kv`, `paired kv --help`): its commands
      if (words.length === 1 && Object.hasOwn(COMMAND_GROUPS, name)) {
        const args = parseCommandArgs([...leading, ...rest], {})
        if (args.positionals.length > 0) throw new UsageError(`unknown command '${name} ${args.positionals[0]}'`)
        const text = groupHelp(name)
        write.out((args.values.json === true ? JSON.stringify({ usage: text }, null, 2) : text) + '\n')
        return EXIT_OK
      }
      name = ''
      throw new UsageError(`unknown command '${words.join(' ')}'`)
    }
    const args = parseCommandArgs([...leading, ...rest], command.options ?? {})
    if (args.values.help === true) {
      write.out(helpText(name) + '\n')
      return EXIT_OK
    }
    checkPositionals(name, command, args.positionals)
    const ctx = makeContext({
      home: resolveHome(stringOption(args, 'home'), env),
      json: args.values.json === true,
      env,
      write,
      usage: helpText
    })
    return (await command.run(args, ctx)) ?? EXIT_OK
  } catch (err) {
    const code = exitCodeFor(err)
    let line = `paired: ${oneLine(err)}`
    if (err instanceof UsageError) line += ` (run 'paired help${name !== '' && name !== 'help' && Object.hasOwn(COMMANDS, name) ? ` ${name}` : ''}')`
    write.err(line + '\n')
    if (env.PAIRED_DEBUG === '1' && err instanceof Error && err.stack != null) write.err(err.stack + '\n')
    return code
  }
}

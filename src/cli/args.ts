/**
 * Reading a command line: the leading global flags, the command words, `parseArgs`
 * (strict) and typed accessors for option values. Usage mistakes are `UsageError`s.
 */
import { parseArgs } from 'node:util'
import type { CommandArgs, CommandOptions } from './context.js'

/** A mistake in the command line itself: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** options every command takes */
export const COMMON_OPTIONS: CommandOptions = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

/**
 * Splits `argv` into global flags written before the command (`--home DIR`, `--json`,
 * `--help`, `--version`), the command words and the rest.
 */
export function splitCommandLine (argv: readonly string[], isGroup: (word: string) => boolean): { leading: string[], words: string[], rest: string[] } {
  const leading: string[] = []
  let i = 0
  while (i < argv.length && argv[i].startsWith('-')) {
    const token = argv[i]
    if (token === '--home' && i + 1 < argv.length) {
      leading.push(token, argv[i + 1])
      i += 2
    } else if (token.startsWith('--home=') || ['--json', '--help', '-h', '--version'].includes(token)) {
      leading.push(token)
      i += 1
    } else {
      break
    }
  }
  const words: string[] = []
  if (i < argv.length && !argv[i].startsWith('-')) {
    words.push(argv[i++])
    if (isGroup(words[0]) && i < argv.length && !argv[i].startsWith('-')) words.push(argv[i++])
  }
  return { leading, words, rest: argv.slice(i) }
}

/** `parseArgs` in strict mode, its errors turned into one-line `UsageError`s */
export function parseCommandArgs (args: string[], options: CommandOptions): CommandArgs {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, strict: true, allowPositionals: true })
    return { values, positionals }
  } catch (err) {
    throw new UsageError(describeParseError(err as NodeJS.ErrnoException))
  }
}

function describeParseError (err: NodeJS.ErrnoException): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1]
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? err.message}`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/argument missing|argument is ambiguous/.test(err.message) && quoted != null) return `option ${quoted.replace(/ <value>$/, '')} needs a value`
      if (/does not take an argument/.test(err.message) && quoted != null) return `option ${quoted} does not take a value`
      break
    default:
      break
  }
  const first = err.message.split(/\.\s/)[0].replace(/\.$/, '')
  return first.charAt(0).toLowerCase() + first.slice(1)
}

export function stringOption (args: CommandArgs, name: string): string | undefined {
  const value = args.values[name]
  if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined
  return typeof value === 'string' ? value : undefined
}

export function stringList (args: CommandArgs, name: string): string[] {
  const value = args.values[name]
  if (value == null) return []
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
}

export function flag (args: CommandArgs, name: string): boolean {
  return args.values[name] === true
}

/** a whole number option within bounds, else a `UsageError` naming `--name` */
export function intOption (args: CommandArgs, name: string, min: number, max: number): number | undefined {
  const text = stringOption(args, name)
  if (text == null) return undefined
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${text}"`)
  }
  return Number(text)
}

/**
 * The text of a duration flag, refused when it is a bare number: `--timeout 5` must not
 * silently mean 5 ms. Durations take a unit: `500ms`, `30s`, `2m`, `1h30m`, `7d`.
 */
export function checkDurationUnit (text: string, flagName: string): string {
  const trimmed = text.trim()
  if (/^[+-]?\d+(?:\.\d+)?$/.test(trimmed)) {
    throw new UsageError(`${flagName} ${trimmed} has no unit: write ${trimmed}s, ${trimmed}m or ${trimmed}ms (units: ms, s, m, h, d)`)
  }
  return text
}

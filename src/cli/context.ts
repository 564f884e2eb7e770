/**
 * What every command gets: the resolved home, `--json`, writers for stdout and stderr,
 * and a factory for an API client of this home's daemon.
 */
import type { ParseArgsConfig } from 'node:util'
import { ApiClient, readApiToken } from '../api/index.js'
import { homePaths } from '../daemon/home.js'
import { DaemonNotRunningError } from '../errors.js'

/** Where the CLI writes; tests pass their own to capture output. */
export interface CliIo {
  /** raw stdout chunks. @default process.stdout */
  out?: (chunk: string) => void
  /** raw stderr chunks. @default process.stderr */
  err?: (chunk: string) => void
  /** @default process.env */
  env?: NodeJS.ProcessEnv
}

export type OptionValue = string | boolean | Array<string | boolean> | undefined

/** a command line after `parseArgs`: the command words are gone */
export interface CommandArgs {
  positionals: string[]
  values: Record<string, OptionValue>
}

export interface CommandContext {
  home: string
  json: boolean
  env: NodeJS.ProcessEnv
  /** one line (or several) on stdout */
  out: (text: string) => void
  /** one line (or several) on stderr */
  err: (text: string) => void
  /** `--json`: the one JSON document; else the human text */
  result: (doc: unknown, human: () => string) => void
  /** a client of this home's daemon; DaemonNotRunningError when there is no token file */
  client: () => Promise<ApiClient>
  /** help text: the overview, or one command's */
  usage: (command?: string) => string
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>

/** one file per command under `commands/` exports these */
export interface CommandModule {
  /** `ping PEER`: the command words, then its arguments and options */
  usage: string
  /** one line for the overview */
  summary: string
  /** more lines for `paired help COMMAND` */
  details?: string
  /** options besides --home, --json and --help */
  options?: CommandOptions
  /** names of the required positional arguments, in order */
  args?: readonly string[]
  /** how many optional positional arguments may follow the required ones */
  optionalArgs?: number
  /** resolves with the exit code (undefined = 0) */
  run: (args: CommandArgs, ctx: CommandContext) => Promise<number | undefined>
}

export function noDaemonMessage (home: string): string {
  return `no daemon is running for home ${home} (start one with: paired daemon --home ${home})`
}

export function makeContext (init: {
  home: string
  json: boolean
  env: NodeJS.ProcessEnv
  write: { out: (chunk: string) => void, err: (chunk: string) => void }
  usage: (command?: string) => string
}): CommandContext {
  const line = (write: (chunk: string) => void) => (text: string): void => {
    write(text.endsWith('\n') ? text : text + '\n')
  }
  const out = line(init.write.out)
  const err = line(init.write.err)
  return {
    home: init.home,
    json: init.json,
    env: init.env,
    out,
    err,
    result: (doc, human) => {
      if (init.json) out(JSON.stringify(doc, null, 2))
      else out(human())
    },
    client: async () => {
      const paths = homePaths(init.home)
      const token = await readApiToken(paths.apiToken)
      if (token == null) throw new DaemonNotRunningError(noDaemonMessage(init.home))
      return new ApiClient({ socketPath: paths.apiSocket, token, home: init.home })
    },
    usage: init.usage
  }
}

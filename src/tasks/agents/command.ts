/**
 * Command agents (an argv from `config.json`, given the task input as JSON on stdin) and
 * the opt-in `shell` agent (`/bin/sh -c <script>`). Both run through `runProcess`: own
 * process group, capped stdout, stderr lines to `onLog`, timeout and cancel kill the group.
 */
import {
  DEFAULT_SHELL_TIMEOUT_MS, EXIT_CANCELLED, EXIT_INVALID_INPUT, MAX_SCRIPT_LENGTH, DEFAULT_MAX_OUTPUT_BYTES
} from './constants.js'
import { effectiveTimeout, isJsonValue, makeOutcome } from './outcome.js'
import { runProcess } from './process.js'
import type { Agent, AgentOutcome, AgentRunOptions, CommandAgentConfig } from './types.js'

function invalidInput (error: string, startedAt: number): AgentOutcome {
  return makeOutcome({ exitCode: EXIT_INVALID_INPUT, output: '', reason: 'invalid-input', error, startedAt })
}

function cancelledBeforeStart (startedAt: number): AgentOutcome {
  return makeOutcome({ exitCode: EXIT_CANCELLED, output: '', reason: 'cancelled', error: 'cancelled', startedAt })
}

/** Runs `config.command` with the task input as one line of JSON on stdin. */
export class CommandAgent implements Agent {
  readonly kind = 'command'
  readonly name: string
  readonly slots?: number
  readonly timeoutMs: number
  private readonly config: CommandAgentConfig

  constructor (name: string, config: CommandAgentConfig) {
    this.name = name
    this.config = { ...config, command: [...config.command], env: config.env != null ? { ...config.env } : undefined }
    this.timeoutMs = config.timeoutMs
    if (config.slots != null) this.slots = config.slots
  }

  async run (options: AgentRunOptions): Promise<AgentOutcome> {
    const startedAt = performance.now()
    if (options.signal?.aborted === true) return cancelledBeforeStart(startedAt)
    if (!isJsonValue(options.input)) return invalidInput(`${this.name} input must be a JSON value`, startedAt)
    const [file, ...args] = this.config.command
    return await runProcess({
      file,
      args,
      cwd: this.config.cwd,
      env: this.config.env,
      stdin: JSON.stringify(options.input) + '\n',
      maxOutputBytes: this.config.maxOutputBytes,
      timeoutMs: effectiveTimeout(options.timeoutMs, this.timeoutMs)
    }, { signal: options.signal, onLog: options.onLog, onStart: options.onStart, startedAt })
  }
}

export interface ShellAgentInit {
  /** @default DEFAULT_SHELL_TIMEOUT_MS */
  timeoutMs?: number
  /** @default DEFAULT_MAX_OUTPUT_BYTES */
  maxOutputBytes?: number
  /** @default '/bin/sh' */
  shell?: string
}

const SCRIPT_USAGE = 'shell input must be {"script": "<shell commands>"}'

/** Checks a shell agent's input; returns the script or one line saying what is wrong. */
function readScript (input: unknown): { script: string } | { error: string } {
  if (input == null || typeof input !== 'object' || Array.isArray(input)) return { error: SCRIPT_USAGE }
  const extra = Object.keys(input).find(key => key !== 'script')
  if (extra != null) return { error: `${SCRIPT_USAGE}; unknown key ${JSON.stringify(extra.slice(0, 64))}` }
  const script = (input as { script?: unknown }).script
  if (typeof script !== 'string' || script.trim() === '') return { error: `${SCRIPT_USAGE} with a non-empty script` }
  if (script.length > MAX_SCRIPT_LENGTH) return { error: `shell script is longer than ${MAX_SCRIPT_LENGTH} characters` }
  if (script.includes('\0')) return { error: 'shell script contains a NUL character' }
  return { script }
}

/** `shell`: input `{"script": "..."}`, run as `/bin/sh -c <script>` with stdin closed. Opt-in. */
export class ShellAgent implements Agent {
  readonly kind = 'shell'
  readonly name = 'shell'
  readonly timeoutMs: number
  private readonly maxOutputBytes: number
  private readonly shell: string

  constructor (init: ShellAgentInit = {}) {
    this.timeoutMs = init.timeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS
    this.maxOutputBytes = init.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES
    this.shell = init.shell ?? '/bin/sh'
  }

  async run (options: AgentRunOptions): Promise<AgentOutcome> {
    const startedAt = performance.now()
    if (options.signal?.aborted === true) return cancelledBeforeStart(startedAt)
    const read = readScript(options.input)
    if ('error' in read) return invalidInput(read.error, startedAt)
    return await runProcess({
      file: this.shell,
      args: ['-c', read.script],
      maxOutputBytes: this.maxOutputBytes,
      timeoutMs: effectiveTimeout(options.timeoutMs, this.timeoutMs)
    }, { signal: options.signal, onLog: options.onLog, onStart: options.onStart, startedAt })
  }
}

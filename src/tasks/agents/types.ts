/**
 * The shapes every agent shares: how a run is asked for, what it answers, and the
 * `agents` section of `config.json` once validated.
 */

export interface AgentRunOptions {
  /** the task input: a JSON value */
  input: unknown
  /** abort to cancel: the work is stopped and the run resolves with reason `'cancelled'` */
  signal?: AbortSignal
  /** overrides the agent's configured timeout (ms); ignored unless a positive finite number */
  timeoutMs?: number
  /**
   * Stderr, one call per line (a partial last line is flushed at exit). At most
   * `MAX_LOG_LINES` lines / `MAX_LOG_BYTES` bytes, then one `LOG_TRUNCATED_LINE`.
   */
  onLog?: (line: string) => void
  /** called once the work has started (with the pid for processes) */
  onStart?: (info: { pid?: number }) => void
}

/** Why a run did not succeed. */
export type AgentFailureReason = 'timeout' | 'cancelled' | 'output-too-large' | 'exit' | 'spawn' | 'invalid-input'

export interface AgentOutcome {
  /**
   * 0 = success. Otherwise the child's exit code (128 + signal number for a signal
   * death), or: timeout 124, cancel 130, spawn failure 127, output too large 125,
   * invalid input 2.
   */
  exitCode: number
  /**
   * A JSON value. Command agents: stdout parsed as JSON when its trimmed text parses,
   * else the stdout text (also on failure; may be `''`). Built-ins: their result, or
   * `null` when they fail.
   */
  output: unknown
  /** sha256 hex of `canonicalJson(output)` */
  outputHash: string
  /** set when `exitCode !== 0` */
  reason?: AgentFailureReason
  /** one clear line, set when `exitCode !== 0` */
  error?: string
  pid?: number
  durationMs: number
}

export interface Agent {
  readonly name: string
  readonly kind: 'builtin' | 'command' | 'shell'
  /** max concurrent runs of this agent on this machine (undefined = only the daemon's slots) */
  readonly slots?: number
  /** default timeout (ms) */
  readonly timeoutMs: number
  /** never rejects: every failure is an outcome */
  run(options: AgentRunOptions): Promise<AgentOutcome>
}

export interface CommandAgentConfig {
  /** argv: `command[0]` is the program, found on `PATH`; never run through a shell */
  command: string[]
  /** absolute working directory; @default the daemon's */
  cwd?: string
  /** added to (and overriding) the daemon's environment */
  env?: Record<string, string>
  /** @default DEFAULT_COMMAND_TIMEOUT_MS (10 minutes) */
  timeoutMs: number
  slots?: number
  /** @default DEFAULT_MAX_OUTPUT_BYTES (1 MiB) */
  maxOutputBytes: number
}

export interface AgentsConfig {
  /** @default enabled, timeout DEFAULT_BUILTIN_TIMEOUT_MS */
  echo: { enabled: boolean, timeoutMs?: number }
  /** @default enabled, timeout DEFAULT_BUILTIN_TIMEOUT_MS */
  sleep: { enabled: boolean, timeoutMs?: number }
  /** @default disabled, timeout DEFAULT_SHELL_TIMEOUT_MS */
  shell: { enabled: boolean, timeoutMs: number }
  /** command agents by name */
  commands: Record<string, CommandAgentConfig>
}

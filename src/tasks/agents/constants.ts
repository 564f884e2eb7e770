/**
 * Named defaults and limits of the agent runner.
 */

/** Default timeout of a command agent (ms): 10 minutes. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60_000

/** Default timeout of the `shell` agent (ms): 10 minutes. */
export const DEFAULT_SHELL_TIMEOUT_MS = 10 * 60_000

/** Default timeout of the `echo` and `sleep` built-ins (ms): 1 hour. */
export const DEFAULT_BUILTIN_TIMEOUT_MS = 60 * 60_000

/** Longest timeout accepted anywhere (ms): 7 days, well under `setTimeout`'s 2^31 − 1 ms limit. */
export const MAX_TIMEOUT_MS = 7 * 24 * 60 * 60_000

/** Default cap on a command's stdout (bytes): 1 MiB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024

/** Largest `maxOutputBytes` a command agent may configure (bytes): 64 MiB. */
export const MAX_OUTPUT_BYTES_LIMIT = 64 * 1024 * 1024

/** Largest per-agent `slots` value. */
export const MAX_AGENT_SLOTS = 1024

/** Time between SIGTERM and SIGKILL to a process group (ms). */
export const KILL_GRACE_MS = 2_000

/**
 * After SIGKILL, how long to wait for the child's pipes to close before giving up on
 * them (a process that left the group with `setsid` may still hold them) (ms).
 */
export const PIPE_CLOSE_WAIT_MS = 1_000

/** Stderr lines passed to `onLog` per run before the log is truncated. */
export const MAX_LOG_LINES = 1_000

/** Stderr bytes passed to `onLog` per run before the log is truncated: 256 KiB. */
export const MAX_LOG_BYTES = 256 * 1024

/** The one line `onLog` receives when a run's log is truncated. */
export const LOG_TRUNCATED_LINE = '... logs truncated'

/** Longest `sleep` accepted by the `sleep` built-in (ms): 24 hours. */
export const MAX_SLEEP_MS = 24 * 60 * 60_000

/** Longest script accepted by the `shell` agent (characters): 64 KiB. */
export const MAX_SCRIPT_LENGTH = 64 * 1024

/** Names of the built-in agents; no command agent may take them. */
export const RESERVED_AGENT_NAMES: readonly string[] = ['echo', 'shell', 'sleep']


/** Exit codes of outcomes that are not a child's own exit code. */
export const EXIT_INVALID_INPUT = 2
export const EXIT_TIMEOUT = 124
export const EXIT_OUTPUT_TOO_LARGE = 125
export const EXIT_SPAWN = 127
export const EXIT_CANCELLED = 130

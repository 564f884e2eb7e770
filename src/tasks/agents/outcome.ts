/**
 * Helpers every agent uses to build its outcome: the output hash, the effective timeout,
 * and calling the caller's hooks without letting them break a run.
 */
import { createHash } from 'node:crypto'
import { formatDuration } from '../../model/duration.js'
import { canonicalJson } from '../../team/canonical.js'
import { MAX_TIMEOUT_MS } from './constants.js'
import type { AgentFailureReason, AgentOutcome } from './types.js'

/** sha256 hex of `canonicalJson(output)`; throws when `output` is not a JSON value. */
export function hashOutput (output: unknown): string {
  return createHash('sha256').update(canonicalJson(output)).digest('hex')
}

/** True when `value` is a plain JSON value (what `canonicalJson` accepts). */
export function isJsonValue (value: unknown): boolean {
  try {
    canonicalJson(value)
    return true
  } catch {
    return false
  }
}

export interface OutcomeParts {
  exitCode: number
  /** must be a JSON value */
  output: unknown
  reason?: AgentFailureReason
  error?: string
  pid?: number
  /** `performance.now()` when the run began */
  startedAt: number
}

/** The outcome of `parts`: hashed, timed, and with `reason`/`error` only on failure. */
export function makeOutcome (parts: OutcomeParts): AgentOutcome {
  const outcome: AgentOutcome = {
    exitCode: parts.exitCode,
    output: parts.output,
    outputHash: hashOutput(parts.output),
    durationMs: Math.max(0, Math.round(performance.now() - parts.startedAt))
  }
  if (parts.exitCode !== 0) {
    outcome.reason = parts.reason ?? 'exit'
    outcome.error = parts.error ?? `exited with code ${parts.exitCode}`
  }
  if (parts.pid != null) outcome.pid = parts.pid
  return outcome
}

/** The timeout of one run: `requested` when it is a positive finite number, else the agent's; capped. */
export function effectiveTimeout (requested: number | undefined, agentDefault: number): number {
  const ms = typeof requested === 'number' && Number.isFinite(requested) && requested > 0 ? requested : agentDefault
  return Math.min(Math.max(1, Math.round(ms)), MAX_TIMEOUT_MS)
}

/** `timed out after 10s` */
export function timeoutMessage (ms: number): string {
  return `timed out after ${formatDuration(ms)}`
}

/** Call a caller's hook; a hook that throws must not break the run. */
export function callHook<T> (hook: ((arg: T) => void) | undefined, arg: T): void {
  if (hook == null) return
  try {
    hook(arg)
  } catch {}
}

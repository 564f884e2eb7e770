/**
 * The built-in agents: `echo` (answers its input) and `sleep` (waits, then answers how
 * long). They run in the daemon's process, obey cancel and timeout like every agent,
 * and are how a team checks its task plumbing without running anything on a machine.
 */
import { canonicalJson } from '../../team/canonical.js'
import {
  DEFAULT_BUILTIN_TIMEOUT_MS, EXIT_CANCELLED, EXIT_INVALID_INPUT, EXIT_TIMEOUT, MAX_SLEEP_MS
} from './constants.js'
import { callHook, effectiveTimeout, makeOutcome, timeoutMessage } from './outcome.js'
import type { Agent, AgentOutcome, AgentRunOptions } from './types.js'

/** What a built-in does; `BuiltinAgent` adds validation order, timeout and cancel. */
interface BuiltinWork {
  /** one line saying what is wrong with `input`, or `undefined` when it is good */
  check(input: unknown): string | undefined
  /** the output (a JSON value); must settle soon after `signal` aborts */
  perform(input: unknown, signal: AbortSignal): Promise<unknown>
}

class BuiltinAgent implements Agent {
  readonly kind = 'builtin'
  readonly name: string
  readonly timeoutMs: number
  private readonly work: BuiltinWork

  constructor (name: string, timeoutMs: number, work: BuiltinWork) {
    this.name = name
    this.timeoutMs = timeoutMs
    this.work = work
  }

  async run (options: AgentRunOptions): Promise<AgentOutcome> {
    const startedAt = performance.now()
    const timeoutMs = effectiveTimeout(options.timeoutMs, this.timeoutMs)
    if (options.signal?.aborted === true) {
      return makeOutcome({ exitCode: EXIT_CANCELLED, output: null, reason: 'cancelled', error: 'cancelled', startedAt })
    }
    const invalid = this.work.check(options.input)
    if (invalid != null) {
      return makeOutcome({ exitCode: EXIT_INVALID_INPUT, output: null, reason: 'invalid-input', error: invalid, startedAt })
    }
    callHook(options.onStart, {})

    const stop = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const stopped = new Promise<'timeout' | 'cancelled'>(resolve => {
      timer = setTimeout(() => { resolve('timeout') }, timeoutMs)
      onAbort = () => { resolve('cancelled') }
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      const done = this.work.perform(options.input, stop.signal).then(
        output => ({ output }),
        (err: unknown) => ({ failed: err instanceof Error ? err.message : String(err) })
      )
      const first = await Promise.race([done, stopped])
      if (first === 'timeout') {
        return makeOutcome({ exitCode: EXIT_TIMEOUT, output: null, reason: 'timeout', error: timeoutMessage(timeoutMs), startedAt })
      }
      if (first === 'cancelled') {
        return makeOutcome({ exitCode: EXIT_CANCELLED, output: null, reason: 'cancelled', error: 'cancelled', startedAt })
      }
      if ('failed' in first) {
        return makeOutcome({ exitCode: 1, output: null, reason: 'exit', error: first.failed, startedAt })
      }
      return makeOutcome({ exitCode: 0, output: first.output, startedAt })
    } finally {
      clearTimeout(timer)
      if (onAbort != null) options.signal?.removeEventListener('abort', onAbort)
      stop.abort()
    }
  }
}

/** `echo`: the output is the input (a JSON copy of it). Input that is not JSON is invalid. */
export function createEchoAgent (timeoutMs: number = DEFAULT_BUILTIN_TIMEOUT_MS): Agent {
  return new BuiltinAgent('echo', timeoutMs, {
    check (input) {
      try {
        canonicalJson(input)
        return undefined
      } catch (err) {
        return `echo input must be a JSON value: ${(err as Error).message}`
      }
    },
    async perform (input) {
      // a copy, so the output cannot change if the caller mutates its input later
      return JSON.parse(canonicalJson(input)) as unknown
    }
  })
}

const SLEEP_USAGE = `sleep input must be {"ms": <integer from 0 to ${MAX_SLEEP_MS}>}`

/** A short, safe description of a bad value for an error line. */
function describe (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}...` : value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a value of type ${typeof value}`
}

/** `sleep`: input `{"ms": N}` (integer, 0 ≤ N ≤ 24 h); waits N ms, answers `{"slept": N}`. */
export function createSleepAgent (timeoutMs: number = DEFAULT_BUILTIN_TIMEOUT_MS): Agent {
  return new BuiltinAgent('sleep', timeoutMs, {
    check (input) {
      if (input == null || typeof input !== 'object' || Array.isArray(input)) {
        return `${SLEEP_USAGE}, got ${describe(input)}`
      }
      const extra = Object.keys(input).find(key => key !== 'ms')
      if (extra != null) return `${SLEEP_USAGE}; unknown key ${JSON.stringify(extra.slice(0, 64))}`
      const ms = (input as { ms?: unknown }).ms
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
        return `${SLEEP_USAGE}, got "ms": ${describe(ms)}`
      }
      return undefined
    },
    async perform (input, signal) {
      const ms = (input as { ms: number }).ms
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, ms)
        signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
      })
      return { slept: ms }
    }
  })
}

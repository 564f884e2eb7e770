/**
 * What a failed probe says about the peer. Only a refused connection (`ECONNREFUSED`:
 * nothing listens where the peer was, so its process is gone) is proof; a timeout, a reset
 * or a closed stream happens to live peers too when a box is busy (20 daemons on one
 * address reset each other's unproven connections while they join); and a limit of our
 * own (a second ping stream to the same peer) or our own stop says nothing at all.
 */
import type { ProbeOutcome } from './failure-detector.js'

/** the outcome for the detector, or undefined when the failure was our own */
export function probeOutcome (err: unknown): ProbeOutcome | undefined {
  const text = describe(err, 0)
  if (/too many outbound protocol streams|AbortError|has been stopped|not started/i.test(text) && !/TimeoutError|timed out/i.test(text)) return undefined
  return /ECONNREFUSED|connection refused/i.test(text) ? 'refused' : 'failed'
}

/** names, codes and messages of an error, its causes and, for an aggregate, its errors */
function describe (err: unknown, depth: number): string {
  if (err == null || typeof err !== 'object' || depth > 4) return String(err)
  const e = err as { name?: unknown, code?: unknown, message?: unknown, cause?: unknown, errors?: unknown }
  const parts = [e.name, e.code, e.message].filter(x => typeof x === 'string')
  if (e.cause != null) parts.push(describe(e.cause, depth + 1))
  if (Array.isArray(e.errors)) for (const inner of e.errors.slice(0, 8)) parts.push(describe(inner, depth + 1))
  return parts.join(' ')
}

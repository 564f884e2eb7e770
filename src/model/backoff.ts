/**
 * The one jittered exponential backoff: the redialer's wait between dials of a peer and
 * the coordinator's wait before a task's next attempt both come from here.
 */

/** doublings past this add nothing (and keep `2 ** n` finite) */
const MAX_DOUBLINGS = 20

/**
 * The delay (whole ms) before attempt `failures + 1`: `minMs` doubled per failure, capped
 * at `maxMs`, times a jitter of ±20 % from `random` (a number in [0, 1]). Pure.
 */
export function backoffDelay (failures: number, minMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, failures), MAX_DOUBLINGS))
  return Math.round(base * (0.8 + 0.4 * random))
}

/**
 * Retry policy: whether a task that failed, or lost its executor, gets another attempt, and
 * how long it waits before the next one. Pure (the random source is passed in), so the
 * budget and the backoff curve are tested without timers; the coordinator applies them.
 */
import { backoffDelay } from '../model/backoff.js'
import { DEFAULT_RETRIES, MAX_LOST_EXECUTORS, RETRY_BASE_MS, RETRY_MAX_MS } from './constants.js'

/**
 * Why a task gets no further attempt (`why`, then the budget that ran out), or `undefined`
 * while it may retry. `failures` counts failed results; `lost` counts executors that lapsed
 * or went away, which is not the task's fault and so has a larger allowance.
 * @param retries - further attempts after a failure; @default DEFAULT_RETRIES
 */
export function retryExhausted (why: string, failures: number, lost: number, retries = DEFAULT_RETRIES): string | undefined {
  const budget = retries + 1
  if (failures >= budget) return `${why}; retry budget of ${budget - 1} spent`
  if (lost > MAX_LOST_EXECUTORS + budget) return `${why}; lost ${lost} executors`
  return undefined
}

/**
 * The wait (ms) before the attempt after the `failures`-th failure: `RETRY_BASE_MS`,
 * doubling per failure up to `RETRY_MAX_MS`, times a jitter of ±20 % from `random`.
 */
export function retryDelay (failures: number, random: () => number = Math.random): number {
  return backoffDelay(failures - 1, RETRY_BASE_MS, RETRY_MAX_MS, random())
}

import { describe, expect, it } from 'vitest'
import { DEFAULT_RETRIES, MAX_LOST_EXECUTORS, RETRY_BASE_MS, RETRY_MAX_MS } from '../../../src/tasks/constants.js'
import { retryDelay, retryExhausted } from '../../../src/tasks/retry-policy.js'

describe('retryExhausted', () => {
  it('allows the default retries after the first failure, then names the spent budget', () => {
    expect(retryExhausted('boom', DEFAULT_RETRIES, 0)).toBeUndefined()
    expect(retryExhausted('boom', DEFAULT_RETRIES + 1, 0)).toBe(`boom; retry budget of ${DEFAULT_RETRIES} spent`)
  })

  it('follows the task\'s own retries, zero included', () => {
    expect(retryExhausted('x', 1, 0, 0)).toBe('x; retry budget of 0 spent')
    expect(retryExhausted('x', 4, 0, 5)).toBeUndefined()
  })

  it('lost executors have a larger allowance than failures, and failures are named first', () => {
    const budget = DEFAULT_RETRIES + 1
    expect(retryExhausted('gone', 0, MAX_LOST_EXECUTORS + budget)).toBeUndefined()
    expect(retryExhausted('gone', 0, MAX_LOST_EXECUTORS + budget + 1)).toBe(`gone; lost ${MAX_LOST_EXECUTORS + budget + 1} executors`)
    expect(retryExhausted('both', budget, 99)).toBe(`both; retry budget of ${DEFAULT_RETRIES} spent`)
  })
})

describe('retryDelay', () => {
  const mid = (): number => 0.5

  it('doubles from the base per failure up to the cap', () => {
    expect([0, 1, 2, 3, 4].map(f => retryDelay(f, mid))).toStrictEqual([1, 1, 2, 4, 8].map(x => x * RETRY_BASE_MS))
    expect(retryDelay(40, mid)).toBe(RETRY_MAX_MS)
  })

  it('jitters by ±20 %', () => {
    expect(retryDelay(3, () => 0)).toBeCloseTo(4 * RETRY_BASE_MS * 0.8)
    expect(retryDelay(3, () => 1)).toBeCloseTo(4 * RETRY_BASE_MS * 1.2)
    for (let i = 0; i < 100; i++) {
      const d = retryDelay(2)
      expect(d).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS * 0.8)
      expect(d).toBeLessThanOrEqual(2 * RETRY_BASE_MS * 1.2)
    }
  })
})

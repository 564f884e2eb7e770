import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../../src/model/backoff.js'
import { backoffDelay as redialBackoff } from '../../../src/daemon/redialer.js'
import { retryDelay } from '../../../src/tasks/retry-policy.js'
import { RETRY_BASE_MS, RETRY_MAX_MS } from '../../../src/tasks/constants.js'

describe('backoffDelay', () => {
  it('doubles per failure from the minimum', () => {
    expect([0, 1, 2, 3, 4].map(f => backoffDelay(f, 100, 1_000_000, 0.5))).toStrictEqual([100, 200, 400, 800, 1600])
  })

  it('is capped at the maximum, however many failures', () => {
    expect(backoffDelay(7, 100, 10_000, 0.5)).toBe(10_000)
    expect(backoffDelay(1e9, 100, 10_000, 0.5)).toBe(10_000)
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER, 0.5)).toBe(2 ** 20)
  })

  it('treats a negative count as none', () => {
    expect(backoffDelay(-3, 250, 10_000, 0.5)).toBe(250)
  })

  it('jitters by ±20 % at the ends of the random range', () => {
    expect(backoffDelay(2, 1000, 60_000, 0)).toBe(3200)
    expect(backoffDelay(2, 1000, 60_000, 1)).toBe(4800)
    expect(backoffDelay(30, 1000, 60_000, 0)).toBe(48_000)
    expect(backoffDelay(30, 1000, 60_000, 1)).toBe(72_000)
  })

  it('stays within [0.8, 1.2] × the capped base, in whole ms, growing with failures', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }),
      (failures, min, max, random) => {
        const base = Math.min(max, min * 2 ** Math.min(failures, 20))
        const d = backoffDelay(failures, min, max, random)
        expect(Number.isInteger(d)).toBe(true)
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8))
        expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2))
        expect(backoffDelay(failures + 1, min, max, random)).toBeGreaterThanOrEqual(d)
      }))
  })

  it('is the one the redialer and the task retry policy use', () => {
    expect(redialBackoff).toBe(backoffDelay)
    expect(retryDelay(0, () => 0.5)).toBe(backoffDelay(0, RETRY_BASE_MS, RETRY_MAX_MS, 0.5))
    expect(retryDelay(4, () => 0.25)).toBe(backoffDelay(3, RETRY_BASE_MS, RETRY_MAX_MS, 0.25))
  })
})

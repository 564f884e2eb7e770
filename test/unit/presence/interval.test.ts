import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { heartbeatBandwidth, heartbeatInterval } from '../../../src/presence/interval.js'

describe('heartbeatInterval', () => {
  it('keeps the modelled heartbeat bandwidth within budget for every team size up to 1,000', () => {
    for (let n = 1; n <= 1000; n++) {
      expect(heartbeatBandwidth(n, heartbeatInterval(n))).toBeLessThanOrEqual(20_000 * (1 + 1e-12))
    }
  })

  it('stays within any budget and never below baseMs, monotonic in team size (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.record({
        baseMs: fc.integer({ min: 100, max: 10_000 }),
        maxBytesPerSec: fc.integer({ min: 1000, max: 1_000_000 }),
        heartbeatBytes: fc.integer({ min: 50, max: 4000 }),
        fanout: fc.integer({ min: 1, max: 12 }),
        overhead: fc.double({ min: 0, max: 1, noNaN: true })
      }),
      (a, b, options) => {
        const [small, large] = a <= b ? [a, b] : [b, a]
        const interval = heartbeatInterval(large, options)
        expect(interval).toBeGreaterThanOrEqual(options.baseMs)
        expect(heartbeatBandwidth(large, interval, options)).toBeLessThanOrEqual(options.maxBytesPerSec * (1 + 1e-12))
        expect(heartbeatInterval(small, options)).toBeLessThanOrEqual(interval)
      }
    ))
  })

  it('uses the base interval for a small team and stretches for a large one', () => {
    expect(heartbeatInterval(1)).toBe(3000)
    expect(heartbeatInterval(5)).toBe(3000)
    expect(heartbeatInterval(10)).toBe(3000)
    // past ten members the bandwidth budget, not the base, sets the interval
    expect(heartbeatInterval(11)).toBe(3150)
    expect(heartbeatInterval(8, { baseMs: 1000 })).toBe(2250)
    expect(heartbeatInterval(1000)).toBe(299_850)
    expect(heartbeatInterval(1000, { fanout: 1 })).toBeLessThan(60_000)
  })

  it('rejects a team size that is not a whole number ≥ 1', () => {
    expect(() => heartbeatInterval(0)).toThrow(/team size/)
    expect(() => heartbeatInterval(2.5)).toThrow(/team size/)
    expect(() => heartbeatInterval(3, { fanout: 0 })).toThrow(/fanout/)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TokenBuckets } from '../../../src/net/rate-limit.js'

const EPSILON = 1e-6

describe('TokenBuckets', () => {
  it('a new key starts full: burst takes, then a refusal', () => {
    const tb = new TokenBuckets({ ratePerSec: 10, burst: 5, maxKeys: 10 })
    for (let i = 0; i < 5; i++) expect(tb.take('p', 0)).toBe(true)
    expect(tb.take('p', 0)).toBe(false)
  })

  it('refills at the rate, never past the burst', () => {
    const tb = new TokenBuckets({ ratePerSec: 10, burst: 5, maxKeys: 10 })
    for (let i = 0; i < 5; i++) tb.take('p', 0)
    expect(tb.take('p', 99)).toBe(false) // 0.99 token
    expect(tb.take('p', 100)).toBe(true) // 1 token at 100 ms
    expect(tb.take('p', 100)).toBe(false)
    expect(tb.peek('p', 60_000)).toBe(5)
  })

  it('a refused take consumes nothing', () => {
    const tb = new TokenBuckets({ ratePerSec: 1, burst: 3, maxKeys: 10 })
    expect(tb.take('p', 0, 2)).toBe(true)
    expect(tb.take('p', 0, 2)).toBe(false)
    expect(tb.take('p', 0, 1)).toBe(true)
  })

  it('a cost above the burst is never granted; a cost of 0 always is', () => {
    const tb = new TokenBuckets({ ratePerSec: 100, burst: 3, maxKeys: 10 })
    expect(tb.take('p', 1e9, 4)).toBe(false)
    for (let i = 0; i < 3; i++) tb.take('p', 0)
    expect(tb.take('p', 0, 0)).toBe(true)
  })

  it('time that goes backwards refills nothing', () => {
    const tb = new TokenBuckets({ ratePerSec: 1, burst: 2, maxKeys: 10 })
    tb.take('p', 10_000)
    tb.take('p', 10_000)
    expect(tb.take('p', 5_000)).toBe(false)
    expect(tb.take('p', 10_999)).toBe(false) // refill counts from 10 000, not from 5 000
    expect(tb.take('p', 11_000)).toBe(true)
  })

  it('keys are independent', () => {
    const tb = new TokenBuckets({ ratePerSec: 0, burst: 1, maxKeys: 10 })
    expect(tb.take('a', 0)).toBe(true)
    expect(tb.take('a', 1e9)).toBe(false) // rate 0: a fixed budget
    expect(tb.take('b', 0)).toBe(true)
  })

  it('past maxKeys the least recently used key is forgotten, and starts full again', () => {
    const tb = new TokenBuckets({ ratePerSec: 0, burst: 1, maxKeys: 2 })
    tb.take('a', 0)
    tb.take('b', 0)
    tb.take('a', 1) // a is now the most recent
    tb.take('c', 2) // evicts b
    expect(tb.size).toBe(2)
    expect(tb.take('a', 3)).toBe(false) // a kept its empty bucket
    expect(tb.take('b', 3)).toBe(true) // b was forgotten (and now evicts c)
    expect(tb.take('c', 4)).toBe(true)
  })

  it('peek changes neither tokens nor recency; delete forgets', () => {
    const tb = new TokenBuckets({ ratePerSec: 0, burst: 1, maxKeys: 2 })
    tb.take('a', 0)
    tb.take('b', 0)
    expect(tb.peek('a', 5)).toBe(0)
    expect(tb.peek('nobody', 5)).toBe(1)
    tb.take('c', 1) // a is still the least recently used
    expect(tb.take('a', 2)).toBe(true)
    expect(tb.delete('a')).toBe(true)
    expect(tb.size).toBe(1)
  })

  it('refuses bad arguments with InvalidArgumentError', () => {
    const bad = [
      { ratePerSec: -1, burst: 1, maxKeys: 1 },
      { ratePerSec: Number.NaN, burst: 1, maxKeys: 1 },
      { ratePerSec: 1, burst: 0, maxKeys: 1 },
      { ratePerSec: 1, burst: Infinity, maxKeys: 1 },
      { ratePerSec: 1, burst: 1, maxKeys: 0 },
      { ratePerSec: 1, burst: 1, maxKeys: 1.5 }
    ]
    for (const init of bad) expect(() => new TokenBuckets(init)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    const tb = new TokenBuckets({ ratePerSec: 1, burst: 1, maxKeys: 1 })
    expect(() => tb.take('p', Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => tb.take('p', 0, -1)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => tb.take('p', 0, Infinity)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  describe('properties', () => {
    const config = fc.record({
      ratePerSec: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 10_000, noNaN: true })),
      // small bursts are drained often, which is where refill mistakes show
      burst: fc.oneof(fc.double({ min: 0.5, max: 5, noNaN: true }), fc.double({ min: 0.5, max: 1_000, noNaN: true }))
    })
    const calls = fc.array(fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: -500, max: 0 })),
      cost: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }))
    }), { maxLength: 300 })

    it('over any window of t ms, one key is granted at most burst + rate × t', () => {
      fc.assert(fc.property(config, calls, ({ ratePerSec, burst }, seq) => {
        const tb = new TokenBuckets({ ratePerSec, burst, maxKeys: 4 })
        let now = 1_000_000
        // a bucket's clock is the latest `now` it was given (earlier ones refill nothing)
        const clock = new Map<string, number>()
        const granted = new Map<string, Array<{ at: number, cost: number }>>()
        for (const { key, dt, cost } of seq) {
          now += dt
          const at = Math.max(clock.get(key) ?? -Infinity, now)
          clock.set(key, at)
          if (tb.take(key, now, cost)) {
            const list = granted.get(key) ?? []
            list.push({ at, cost })
            granted.set(key, list)
          }
        }
        for (const list of granted.values()) {
          for (let i = 0; i < list.length; i++) {
            let sum = 0
            for (let j = i; j < list.length; j++) {
              sum += list[j].cost
              expect(sum).toBeLessThanOrEqual(burst + ratePerSec * (list[j].at - list[i].at) / 1000 + EPSILON)
            }
          }
        }
      }), { numRuns: 300 })
    })

    it('a key idle for burst / rate seconds can take a full burst again', () => {
      fc.assert(fc.property(config.filter(c => c.ratePerSec > 0), calls, ({ ratePerSec, burst }, seq) => {
        const tb = new TokenBuckets({ ratePerSec, burst, maxKeys: 4 })
        let now = 0
        for (const { key, dt, cost } of seq) {
          now += Math.max(0, dt)
          tb.take(key, now, cost)
        }
        const idle = Math.ceil(burst / ratePerSec * 1000) + 1
        for (const key of ['a', 'b', 'c', 'd']) expect(tb.take(key, now + idle, burst)).toBe(true)
      }), { numRuns: 300 })
    })

    it('never holds more than maxKeys buckets, and evicts the least recently used', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), (maxKeys, keys) => {
        const tb = new TokenBuckets({ ratePerSec: 0, burst: 1, maxKeys })
        const recency: string[] = [] // a model: least recent first
        keys.forEach((k, t) => {
          const key = `k${k}`
          const held = recency.includes(key)
          // with rate 0 and burst 1, a held key is empty and a fresh one is full
          expect(tb.take(key, t)).toBe(!held)
          if (held) recency.splice(recency.indexOf(key), 1)
          else if (recency.length >= maxKeys) recency.shift()
          recency.push(key)
          expect(tb.size).toBe(recency.length)
          expect(tb.size).toBeLessThanOrEqual(maxKeys)
        })
      }), { numRuns: 300 })
    })
  })
})

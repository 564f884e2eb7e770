import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareHlc, lwwMerge, type LwwEntry, type LwwMap } from '../../../../src/state/crdt/index.js'
import { lwwMapArb } from './arbitraries.js'
import { assertAssociative, assertCommutative, assertIdempotent } from './laws.js'

// The law checkers must be able to fail, or a passing property proves nothing.
describe('law-checking helpers catch broken merges', () => {
  const ints = fc.integer({ min: -100, max: 100 })

  it('catches a non-commutative merge (left projection: associative, idempotent)', () => {
    const left = (a: number, _b: number): number => a
    assertAssociative(ints, left, { numRuns: 200 })
    assertIdempotent(ints, left, { numRuns: 200 })
    expect(() => { assertCommutative(ints, left, { numRuns: 200 }) }).toThrow(/Property failed/)
  })

  it('catches a non-associative merge (average: commutative)', () => {
    const avg = (a: number, b: number): number => (a + b) / 2
    assertCommutative(ints, avg, { numRuns: 200 })
    expect(() => { assertAssociative(ints, avg, { numRuns: 200 }) }).toThrow(/Property failed/)
  })

  it('catches a non-idempotent merge (sum: commutative, associative)', () => {
    const sum = (a: number, b: number): number => a + b
    assertCommutative(ints, sum, { numRuns: 200 })
    assertAssociative(ints, sum, { numRuns: 200 })
    expect(() => { assertIdempotent(ints, sum, { numRuns: 200 }) }).toThrow(/Property failed/)
  })

  it('the LWW arbitraries are rich enough to catch a merge that forgets the author tie-break', () => {
    // picks the left entry whenever the hlcs are equal: wrong when two authors share an hlc
    const sloppy = (a: LwwMap, b: LwwMap): LwwMap => {
      const out = new Map<string, LwwEntry>()
      for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
        const x = a.get(key)
        const y = b.get(key)
        out.set(key, (x === undefined ? y : y === undefined ? x : compareHlc(x.hlc, y.hlc) >= 0 ? x : y) as LwwEntry)
      }
      return out
    }
    expect(() => { assertCommutative(lwwMapArb, sloppy) }).toThrow(/Property failed/)
    assertCommutative(lwwMapArb, lwwMerge)
  })
})

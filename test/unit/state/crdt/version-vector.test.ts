import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  vvAdvance, vvCompare, vvGet, vvIncludes, vvMerge, vvMissing, type VersionVector
} from '../../../../src/state/crdt/index.js'
import { vvArb } from './arbitraries.js'
import { assertAssociative, assertCommutative, assertIdempotent } from './laws.js'

const mirror = { equal: 'equal', before: 'after', after: 'before', concurrent: 'concurrent' } as const

describe('vvMerge laws', () => {
  it('is commutative', () => { assertCommutative(vvArb, vvMerge) })
  it('is associative', () => { assertAssociative(vvArb, vvMerge) })
  it('is idempotent', () => { assertIdempotent(vvArb, vvMerge) })
})

describe('version vectors', () => {
  it('vvCompare agrees with the merge order and mirrors when swapped', () => {
    fc.assert(fc.property(vvArb, vvArb, (a, b) => {
      const order = vvCompare(a, b)
      expect(vvCompare(b, a)).toBe(mirror[order])
      const m = vvMerge(a, b)
      expect(['equal', 'after']).toContain(vvCompare(m, a))
      expect(['equal', 'after']).toContain(vvCompare(m, b))
      expect(vvCompare(m, a) === 'equal').toBe(order === 'equal' || order === 'after')
    }), { numRuns: 1000 })
  })

  it('vvMissing lists exactly what the other side has beyond mine', () => {
    fc.assert(fc.property(vvArb, vvArb, (mine, theirs) => {
      const ranges = vvMissing(mine, theirs)
      let filled: VersionVector = mine
      for (const { author, fromSeq, toSeq } of ranges) {
        expect(fromSeq).toBe(vvGet(mine, author) + 1)
        expect(toSeq).toBeGreaterThanOrEqual(fromSeq)
        expect(vvIncludes(mine, author, fromSeq)).toBe(false)
        expect(vvIncludes(theirs, author, toSeq)).toBe(true)
        for (let seq = fromSeq; seq <= toSeq; seq++) filled = vvAdvance(filled, author, seq)
      }
      expect(['equal', 'after']).toContain(vvCompare(filled, theirs))
      expect(vvMissing(filled, theirs)).toStrictEqual([])
      expect(ranges.map(r => r.author)).toStrictEqual(ranges.map(r => r.author).sort())
    }), { numRuns: 1000 })
  })

  it('compares, includes and advances', () => {
    expect(vvCompare({}, { a: 0 })).toBe('equal')
    expect(vvCompare({ a: 1 }, { a: 2 })).toBe('before')
    expect(vvCompare({ a: 3, b: 1 }, { a: 2 })).toBe('after')
    expect(vvCompare({ a: 3 }, { b: 1 })).toBe('concurrent')
    expect(vvMissing({ a: 2, c: 9 }, { a: 5, b: 1, c: 3 })).toStrictEqual([
      { author: 'a', fromSeq: 3, toSeq: 5 }, { author: 'b', fromSeq: 1, toSeq: 1 }
    ])
    expect(vvIncludes({ a: 2 }, 'a', 2)).toBe(true)
    expect(vvIncludes({ a: 2 }, 'a', 3)).toBe(false)
    expect(vvAdvance({ a: 2 }, 'a', 3)).toStrictEqual({ a: 3 })
    const gap = { a: 2 }
    expect(vvAdvance(gap, 'a', 4)).toBe(gap) // a gap: nothing recorded until seq 3 arrives
  })

  it('treats prototype-named authors as ordinary authors', () => {
    expect(vvGet({}, 'constructor')).toBe(0)
    expect(vvIncludes({}, 'toString', 1)).toBe(false)
    const vv = vvAdvance({}, '__proto__', 1)
    expect(Object.keys(vv)).toStrictEqual(['__proto__'])
    expect(vvGet(vv, '__proto__')).toBe(1)
    expect(vvMissing({}, vv)).toStrictEqual([{ author: '__proto__', fromSeq: 1, toSeq: 1 }])
  })
})

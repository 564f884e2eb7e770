import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  canonicalEncode, lwwDelete, lwwEmpty, lwwEntries, lwwGet, lwwHas, lwwMerge, lwwSet, type Hlc
} from '../../../../src/state/crdt/index.js'
import { applyLwwOps, lwwMapArb, lwwOpArb } from './arbitraries.js'
import { assertAssociative, assertCommutative, assertIdempotent } from './laws.js'

const h = (wall: number, logical = 0, node = 'a'): Hlc => ({ wall, logical, node })

describe('lwwMerge laws', () => {
  it('is commutative', () => { assertCommutative(lwwMapArb, lwwMerge) })
  it('is associative', () => { assertAssociative(lwwMapArb, lwwMerge) })
  it('is idempotent', () => { assertIdempotent(lwwMapArb, lwwMerge) })

  it('applying the same ops in any order gives the same map, equal to merging the parts', () => {
    fc.assert(fc.property(
      fc.array(lwwOpArb, { maxLength: 16 }).chain(ops => fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }))),
      fc.nat(16),
      ([ops, shuffled], cut) => {
        const whole = applyLwwOps(ops)
        expect(applyLwwOps(shuffled)).toStrictEqual(whole)
        expect(lwwMerge(applyLwwOps(ops.slice(0, cut)), applyLwwOps(ops.slice(cut)))).toStrictEqual(whole)
      }
    ), { numRuns: 1000 })
  })

  it('does not modify its inputs', () => {
    fc.assert(fc.property(lwwMapArb, lwwMapArb, (a, b) => {
      const before = [canonicalEncode(a), canonicalEncode(b)]
      lwwMerge(a, b)
      expect([canonicalEncode(a), canonicalEncode(b)]).toStrictEqual(before)
    }), { numRuns: 200 })
  })
})

describe('LWW map semantics', () => {
  it('the later hlc wins whichever arrives first', () => {
    const m1 = lwwSet(lwwSet(lwwEmpty(), 'k', 'old', h(1), 'a'), 'k', 'new', h(2), 'b')
    const m2 = lwwSet(lwwSet(lwwEmpty(), 'k', 'new', h(2), 'b'), 'k', 'old', h(1), 'a')
    expect(lwwGet(m1, 'k')).toBe('new')
    expect(m2).toStrictEqual(m1)
  })

  it('a delete leaves a tombstone that outranks older sets and loses to newer ones', () => {
    let m = lwwSet(lwwEmpty(), 'k', 1, h(1), 'a')
    m = lwwDelete(m, 'k', h(3), 'b')
    expect(lwwHas(m, 'k')).toBe(false)
    expect(lwwGet(m, 'k')).toBeUndefined()
    expect(m.get('k')).toMatchObject({ value: undefined, author: 'b' })
    expect(lwwSet(m, 'k', 2, h(2), 'a')).toBe(m) // older write: no change, same object
    expect(lwwGet(lwwSet(m, 'k', 3, h(4), 'a'), 'k')).toBe(3)
  })

  it('equal hlcs break ties by author, then tombstone, then value', () => {
    const hlc = h(5, 0, 'n')
    expect(lwwGet(lwwMerge(lwwSet(lwwEmpty(), 'k', 'from-a', hlc, 'a'), lwwSet(lwwEmpty(), 'k', 'from-b', hlc, 'b')), 'k')).toBe('from-b')
    const set = lwwSet(lwwEmpty(), 'k', 'v', hlc, 'a')
    const del = lwwDelete(lwwEmpty(), 'k', hlc, 'a')
    expect(lwwHas(lwwMerge(set, del), 'k')).toBe(false)
    expect(lwwMerge(set, del)).toStrictEqual(lwwMerge(del, set))
    const x = lwwSet(lwwEmpty(), 'k', { v: 1 }, hlc, 'a')
    const y = lwwSet(lwwEmpty(), 'k', { v: 2 }, hlc, 'a')
    expect(lwwGet(lwwMerge(x, y), 'k')).toStrictEqual({ v: 2 })
    expect(lwwGet(lwwMerge(y, x), 'k')).toStrictEqual({ v: 2 })
  })

  it('lists live entries only, sorted by key, and handles prototype-named keys', () => {
    let m = lwwSet(lwwEmpty(), 'b', 2, h(1), 'a')
    m = lwwSet(m, '__proto__', 'p', h(1), 'a')
    m = lwwSet(m, 'a', 1, h(1), 'a')
    m = lwwDelete(m, 'c', h(1), 'a')
    expect(lwwEntries(m).map(e => [e.key, e.value])).toStrictEqual([['__proto__', 'p'], ['a', 1], ['b', 2]])
    expect(lwwGet(m, 'constructor')).toBeUndefined()
    expect([...m.keys()]).toStrictEqual(['__proto__', 'a', 'b', 'c'])
  })

  it('refuses a malformed hlc', () => {
    expect(() => lwwSet(lwwEmpty(), 'k', 1, h(-1), 'a')).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
  })
})

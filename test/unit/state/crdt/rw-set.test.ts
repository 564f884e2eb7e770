import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  canonicalEncode, rwAdd, rwEmpty, rwHas, rwMerge, rwObserved, rwRemove, rwTag, rwValues, type Hlc, type RwSet
} from '../../../../src/state/crdt/index.js'
import { ELEMENTS, applyRwOps, rwOpArb, rwSetArb } from './arbitraries.js'
import { assertAssociative, assertCommutative, assertIdempotent } from './laws.js'

const h = (wall: number, logical = 0, node = 'a'): Hlc => ({ wall, logical, node })

describe('rwMerge laws', () => {
  it('is commutative', () => { assertCommutative(rwSetArb, rwMerge) })
  it('is associative', () => { assertAssociative(rwSetArb, rwMerge) })
  it('is idempotent', () => { assertIdempotent(rwSetArb, rwMerge) })

  it('applying the same ops in any order gives the same set, equal to merging the parts', () => {
    // removes carry explicit covers here: a local remove's default covers depend on arrival order
    const opsArb = fc.array(rwOpArb.map(op => op.kind === 'remove' ? { ...op, covers: op.covers ?? [] } : op), { maxLength: 16 })
    fc.assert(fc.property(
      opsArb.chain(ops => fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }))),
      fc.nat(16),
      ([ops, shuffled], cut) => {
        const whole = applyRwOps(ops)
        expect(applyRwOps(shuffled)).toStrictEqual(whole)
        expect(rwMerge(applyRwOps(ops.slice(0, cut)), applyRwOps(ops.slice(cut)))).toStrictEqual(whole)
        expect(rwValues(whole)).toStrictEqual(ELEMENTS.filter(e => rwHas(whole, e)).sort())
      }
    ), { numRuns: 1000 })
  })

  it('does not modify its inputs', () => {
    fc.assert(fc.property(rwSetArb, rwSetArb, (a, b) => {
      const before = [canonicalEncode(a), canonicalEncode(b)]
      rwMerge(a, b)
      expect([canonicalEncode(a), canonicalEncode(b)]).toStrictEqual(before)
    }), { numRuns: 200 })
  })
})

describe('remove-wins semantics', () => {
  const added = rwAdd(rwEmpty(), 'x', rwTag('a', 1), h(10))

  it('an add makes the element present; a remove that observed it takes it out', () => {
    expect(rwHas(added, 'x')).toBe(true)
    expect(rwObserved(added, 'x')).toStrictEqual(['a:1'])
    const removed = rwRemove(added, 'x', rwTag('b', 1), h(11, 0, 'b'))
    expect(rwHas(removed, 'x')).toBe(false)
    expect(rwValues(removed)).toStrictEqual([])
    expect(removed.get('x')?.removes.get('b:1')?.covers).toStrictEqual(['a:1'])
  })

  it('a remove concurrent with an add (same wall and logical, other node) wins', () => {
    const remoteRemove = rwRemove(rwEmpty(), 'x', rwTag('b', 1), h(10, 0, 'b'), [])
    expect(rwHas(rwMerge(added, remoteRemove), 'x')).toBe(false)
    expect(rwHas(rwMerge(remoteRemove, added), 'x')).toBe(false)
    // even with the smaller node id, which would lose an LWW tie-break
    const zAdd = rwAdd(rwEmpty(), 'x', rwTag('z', 1), h(10, 0, 'z'))
    expect(rwHas(rwMerge(zAdd, rwRemove(rwEmpty(), 'x', 'a:9', h(10, 0, 'a'), [])), 'x')).toBe(false)
  })

  it('a remove later by hlc wins over an add it never observed', () => {
    const unseen = rwRemove(rwEmpty(), 'x', rwTag('b', 1), h(12, 0, 'b'), [])
    expect(rwHas(rwMerge(added, unseen), 'x')).toBe(false)
  })

  it('an add strictly later than every remove wins: re-adding after a remove', () => {
    const removed = rwRemove(added, 'x', rwTag('b', 1), h(11, 0, 'b'))
    const readded = rwAdd(removed, 'x', rwTag('a', 2), h(12))
    expect(rwHas(readded, 'x')).toBe(true)
    // another replica that only now hears of the old remove still agrees
    expect(rwHas(rwMerge(rwAdd(added, 'x', rwTag('a', 2), h(12)), removed), 'x')).toBe(true)
    // a remove observing the re-add takes it out again
    expect(rwHas(rwRemove(readded, 'x', rwTag('c', 1), h(13, 0, 'c')), 'x')).toBe(false)
  })

  it('a covered add stays removed even if its hlc is later (a remove never loses what it observed)', () => {
    const s = rwRemove(rwAdd(rwEmpty(), 'x', 'a:1', h(20)), 'x', 'b:1', h(5, 0, 'b'), ['a:1'])
    expect(rwHas(s, 'x')).toBe(false)
  })

  it('elements are independent and listed sorted', () => {
    let s: RwSet = rwEmpty()
    for (const [i, e] of ['b', '__proto__', 'a', 'c'].entries()) s = rwAdd(s, e, rwTag('a', i + 1), h(1, i))
    s = rwRemove(s, 'c', rwTag('a', 9), h(2))
    expect(rwValues(s)).toStrictEqual(['__proto__', 'a', 'b'])
    expect(rwHas(s, 'constructor')).toBe(false)
  })

  it('is idempotent per op: re-applying returns the same object', () => {
    expect(rwAdd(added, 'x', rwTag('a', 1), h(10))).toBe(added)
    const removed = rwRemove(added, 'x', rwTag('b', 1), h(11, 0, 'b'))
    expect(rwRemove(removed, 'x', rwTag('b', 1), h(11, 0, 'b'), ['a:1'])).toBe(removed)
  })
})

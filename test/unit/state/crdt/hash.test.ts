import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CanonicalEncodingError, canonicalEncode, lwwEmpty, lwwSet, rwAdd, rwEmpty, stateHash
} from '../../../../src/state/crdt/index.js'

describe('canonicalEncode', () => {
  it('ignores key and insertion order of objects, Maps and Sets', () => {
    expect(canonicalEncode({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}')
    expect(canonicalEncode(new Map([['b', 1], ['a', 2]]))).toBe(canonicalEncode(new Map([['a', 2], ['b', 1]])))
    expect(canonicalEncode(new Set(['b', 'a']))).toBe('["a","b"]')
    expect(canonicalEncode({ a: undefined, b: -0, c: new Uint8Array([1, 255]) })).toBe('{"b":0,"c":"01ff"}')
    expect(canonicalEncode(Object.assign(Object.create(null) as object, { z: 1 }))).toBe('{"z":1}')
  })

  it('is insensitive to object key order for any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), value => {
      const reversed = JSON.parse(JSON.stringify(value), (_key, v: unknown) =>
        v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v) as unknown
      expect(canonicalEncode(reversed)).toBe(canonicalEncode(value))
      expect(JSON.parse(canonicalEncode(value))).toStrictEqual(JSON.parse(JSON.stringify(value)))
    }), { numRuns: 300 })
  })

  it('refuses what it cannot encode with a named error', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const bad of [undefined, () => 1, Symbol('s'), 1n, Number.NaN, Infinity, [undefined], new Date(0),
      new Map([[1, 'x']]), cyclic]) {
      expect(() => canonicalEncode(bad)).toThrow(CanonicalEncodingError)
    }
  })
})

describe('stateHash', () => {
  const view = (order: 'ab' | 'ba'): unknown => {
    const keys = order === 'ab' ? ['a', 'b'] : ['b', 'a']
    let map = lwwEmpty()
    let set = rwEmpty()
    for (const [i, k] of keys.entries()) {
      map = lwwSet(map, k, { n: k.charCodeAt(0) }, { wall: 1, logical: 0, node: 'n' }, 'n')
      set = rwAdd(set, k, `n:${k === 'a' ? 1 : 2}`, { wall: 1, logical: i, node: 'n' })
    }
    return { map, set: [...set.keys()] }
  }

  it('is a sha256 hex that depends on content, not construction order', () => {
    expect(stateHash(view('ab'))).toMatch(/^[0-9a-f]{64}$/)
    expect(stateHash(view('ab'))).toBe(stateHash(view('ba')))
    expect(stateHash({ a: 1 })).not.toBe(stateHash({ a: 2 }))
    expect(stateHash({ a: 1 }, { b: 2 })).not.toBe(stateHash({ b: 2 }, { a: 1 }))
  })

  it('matches the golden fixture (a change here breaks stored hashes: bump STATE_HASH_VERSION)', () => {
    expect(canonicalEncode([view('ab')])).toBe(
      '[{"map":{"a":{"author":"n","hlc":{"logical":0,"node":"n","wall":1},"value":{"n":97}},' +
      '"b":{"author":"n","hlc":{"logical":0,"node":"n","wall":1},"value":{"n":98}}},"set":["a","b"]}]')
    // sha256('paired/state-hash/v1\n' + the encoding above), computed independently
    expect(stateHash(view('ab'))).toBe('d08a4786dfd63f7c90f92407305de9f45773b6bd4ee38762a3c05f6e0f31f8e3')
  })
})

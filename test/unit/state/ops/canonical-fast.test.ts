/**
 * The ingest path's canonical JSON (`canonicalFast`) is the model's encoder, byte for byte:
 * a signature or a state hash computed by either must be the other's. For any value, it
 * returns what `canonicalJsonStrict` (or `canonicalEncode`) returns, or throws what it throws.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalEncode, canonicalJsonStrict } from '../../../../src/model/canonical.js'
import { canonicalEncodeFast, canonicalHlc, canonicalJsonFast, quoted } from '../../../../src/state/ops/canonical-fast.js'

const RUNS = { numRuns: 2000 }

function outcome (fn: () => string): { ok: string } | { error: string } {
  try {
    return { ok: fn() }
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` }
  }
}

// keys that sort differently by code unit, by code point and by enumeration order
// (integer-like keys are enumerated first, in numeric order)
const trickyKey = fc.constantFrom('', 'a', 'b', 'B', '10', '9', '2', '01', '-1', '__proto__', 'constructor', 'toJSON', '\uffff', '\ud83d\ude00', '\ud800', 'é', 'e\u0301', 'value', 'key')
const jsonish = fc.letrec(tie => ({
  value: fc.oneof({ depthSize: 'small' },
    fc.jsonValue(), fc.constant(-0), fc.constant(undefined), fc.constant(Number.NaN), fc.constant(Infinity),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(trickyKey, fc.string()), tie('value'), { maxKeys: 5 }))
})).value
const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withSparseArray: true })

function nested (depth: number, leaf: unknown): unknown {
  let v = leaf
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v }
  return v
}

describe('canonicalJsonFast', () => {
  it('is canonicalJsonStrict for JSON values, with keys in any order', () => {
    fc.assert(fc.property(jsonish, value => {
      expect(outcome(() => canonicalJsonFast(value))).toEqual(outcome(() => canonicalJsonStrict(value)))
    }), RUNS)
  })

  it('is canonicalJsonStrict for anything at all (what it does not take, the model refuses the same way)', () => {
    fc.assert(fc.property(anything, value => {
      expect(outcome(() => canonicalJsonFast(value))).toEqual(outcome(() => canonicalJsonStrict(value)))
    }), RUNS)
  })

  it('sorts keys by UTF-16 code unit, not by enumeration order', () => {
    const value = { b: 1, 10: 2, 9: 3, a: { z: null, y: [true, -0] }, '\ud83d\ude00': 4, '\uffff': 5 }
    expect(canonicalJsonFast(value)).toBe(canonicalJsonStrict(value))
    expect(canonicalJsonFast(value)).toBe('{"10":2,"9":3,"a":{"y":[true,0],"z":null},"b":1,"\ud83d\ude00":4,"\uffff":5}')
  })

  it('refuses nesting past the model\'s limit as the model does, and takes it up to the limit', () => {
    for (const depth of [63, 64, 65, 66]) {
      expect(outcome(() => canonicalJsonFast(nested(depth, 1)))).toEqual(outcome(() => canonicalJsonStrict(nested(depth, 1))))
    }
    expect(() => canonicalJsonFast(nested(70, 1))).toThrow(TypeError)
  })

  it('refuses what is not plain JSON: undefined in an array, a non-finite number, a Map, a class instance', () => {
    for (const bad of [[1, undefined], { a: Number.NaN }, new Map([['a', 1]]), new Date(0), { a: 1n }]) {
      expect(() => canonicalJsonFast(bad)).toThrow(TypeError)
    }
  })
})

describe('canonicalEncodeFast', () => {
  it('is canonicalEncode for anything (Maps, Sets and bytes included)', () => {
    fc.assert(fc.property(fc.oneof(jsonish, anything), value => {
      expect(outcome(() => canonicalEncodeFast(value))).toEqual(outcome(() => canonicalEncode(value)))
    }), RUNS)
  })
})

describe('canonicalHlc', () => {
  it('is the model\'s encoding of a clock { wall, logical, node }, and undefined for anything not exactly that', () => {
    const clockish = fc.record({
      wall: fc.oneof(fc.integer(), fc.double(), fc.constant(-0), fc.string()),
      logical: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(Number.NaN)),
      node: fc.oneof(fc.string(), fc.constant('12D3KooWQ4rS1d4wVYQ3HUbXyZ7cSx9bLqnRzAP1G4eWbH5cX5XU'), fc.integer()),
      extra: fc.integer()
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.oneof(clockish, jsonish), value => {
      const fast = canonicalHlc(value)
      if (fast !== undefined) expect(fast).toBe(canonicalJsonStrict(value))
      const exact = typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).sort().join() === 'logical,node,wall' &&
        Number.isFinite((value as { wall?: unknown }).wall) && Number.isFinite((value as { logical?: unknown }).logical) && typeof (value as { node?: unknown }).node === 'string'
      expect(fast !== undefined).toBe(exact)
    }), RUNS)
  })

  it('quoted is JSON.stringify, short or long', () => {
    fc.assert(fc.property(fc.string({ maxLength: 100 }), text => {
      expect(quoted(text)).toBe(JSON.stringify(text))
      expect(quoted(text)).toBe(JSON.stringify(text))
    }), RUNS)
  })
})


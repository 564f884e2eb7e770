/**
 * Untrusted input never crashes the decoders: `validateOp` throws only `InvalidOpError`,
 * `inspectBatch` only `InvalidBatchError`, `verifyBatch` never throws, and a mutated
 * batch never verifies unless the mutation changed nothing.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkFold, encodeOp, inspectBatch, signBatch, validateOp, verifyBatch, verifyOpInBatch, type OpBatch
} from '../../../../src/state/ops/index.js'
import { canonicalJson } from '../../../../src/team/canonical.js'
import { TEAM, clone, kvOps, makeAuthors } from './helpers.js'

const RUNS = { numRuns: 1000 }
const [alice, bob] = await makeAuthors(2)
const valid = signBatch(kvOps(alice.peerId, 1, 3), alice.signer, TEAM)

function only (name: string, fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect((err as Error).name).toBe(name)
  }
}

const anything = fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true, withSparseArray: true })
const field = fc.constantFrom('author', 'seq', 'hlc', 'kind', 'body')
const opLike = fc.record({
  author: fc.oneof(fc.constant(alice.peerId), fc.string()),
  seq: fc.oneof(fc.integer(), fc.double(), fc.constant(1)),
  hlc: fc.oneof(fc.record({ wall: fc.integer(), logical: fc.integer(), node: fc.constant(alice.peerId) }), anything),
  kind: fc.oneof(fc.constantFrom('kv:set', 'kv:del', 'x:y'), fc.string()),
  body: fc.oneof(fc.record({ key: fc.string(), value: anything }), anything)
}, { requiredKeys: [] })

describe('validateOp on untrusted input', () => {
  it('throws nothing but InvalidOpError for any value', () => {
    fc.assert(fc.property(anything, input => { only('InvalidOpError', () => validateOp(input)) }), RUNS)
  })

  it('throws nothing but InvalidOpError for op-shaped values', () => {
    fc.assert(fc.property(opLike, input => { only('InvalidOpError', () => validateOp(input)) }), RUNS)
  })

  it('throws nothing but InvalidOpError for a valid op with one field replaced', () => {
    fc.assert(fc.property(field, anything, (key, value) => {
      only('InvalidOpError', () => validateOp({ ...clone(valid.ops[0]), [key]: value }))
    }), RUNS)
  })

  it('encodes an op exactly as the canonical JSON of it', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 2 ** 40 }), (body, seq) => {
      const op = { ...clone(valid.ops[0]), seq, kind: 'x:y', body }
      expect(Buffer.from(encodeOp(op)).toString('utf8')).toBe(canonicalJson(op))
    }), RUNS)
  })

  it('accepts whatever JSON round trip it accepted, with the same encoding', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.string({ minLength: 1, maxLength: 20 }), (value, key) => {
      const op = { ...clone(valid.ops[0]), body: { key, value } }
      let ok: ReturnType<typeof validateOp> | undefined
      try { ok = validateOp(op) } catch { return }
      expect(canonicalJson(validateOp(JSON.parse(JSON.stringify(ok))))).toBe(canonicalJson(ok))
    }), RUNS)
  })
})

describe('verifyBatch on untrusted input', () => {
  it('never throws, and inspectBatch throws only InvalidBatchError, for any value', () => {
    fc.assert(fc.property(anything, input => {
      expect(verifyBatch(input, TEAM)).toBe(false)
      only('InvalidBatchError', () => inspectBatch(input, TEAM))
      only('InvalidBatchError', () => checkFold(input))
      expect(verifyOpInBatch(input, valid, TEAM)).toBe(false)
    }), RUNS)
  })

  it('random bytes decoded as JSON never verify', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), bytes => {
      let parsed: unknown
      try { parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) } catch { parsed = bytes }
      expect(verifyBatch(parsed, TEAM)).toBe(false)
    }), RUNS)
  })

  const path = fc.oneof(
    fc.constantFrom('author', 'fromSeq', 'toSeq', 'sig', 'ops', 'hashes', 'extra').map(k => [k]),
    fc.tuple(fc.constant('ops'), fc.integer({ min: 0, max: 3 }), fc.constantFrom('author', 'seq', 'hlc', 'kind', 'body', 'extra')),
    fc.tuple(fc.constant('ops'), fc.integer({ min: 0, max: 2 }), fc.constant('body'), fc.constantFrom('key', 'value')),
    fc.tuple(fc.constant('ops'), fc.integer({ min: 0, max: 2 }), fc.constant('hlc'), fc.constantFrom('wall', 'logical', 'node'))
  )
  const replacement = fc.oneof(anything, fc.jsonValue(), fc.constantFrom(bob.peerId, alice.peerId, 0, 1, 2, 3, 4))

  it('a batch with any one value replaced verifies only if its canonical form is unchanged', () => {
    // (the converse need not hold: an own property set to undefined is refused, though it encodes away)
    fc.assert(fc.property(path, replacement, (keys, value) => {
      const batch = clone(valid) as unknown as Record<string, unknown>
      let at: Record<string | number, unknown> = batch
      for (const k of keys.slice(0, -1)) {
        const next = at[k as string]
        if (typeof next !== 'object' || next === null) return
        at = next as Record<string, unknown>
      }
      at[keys[keys.length - 1] as string] = value
      let same = false
      try { same = canonicalJson(batch) === canonicalJson(valid) } catch { same = false }
      if (verifyBatch(batch, TEAM)) expect(same).toBe(true)
      let json = ''
      try { json = JSON.stringify(batch) } catch {}
      if (json === JSON.stringify(valid) && !(keys as unknown[]).includes('extra')) expect(verifyBatch(batch, TEAM)).toBe(same)
      only('InvalidBatchError', () => inspectBatch(batch, TEAM))
    }), RUNS)
  })

  it('a batch re-signed by another key never verifies', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), n => {
      const forged = signBatch(kvOps(bob.peerId, 1, n), bob.signer, TEAM) as OpBatch
      const claimed = { ...clone(forged), author: alice.peerId, ops: clone(forged.ops).map(op => ({ ...op, author: alice.peerId, hlc: { ...op.hlc, node: alice.peerId } })) }
      expect(verifyBatch(claimed, TEAM)).toBe(false)
    }), { numRuns: 50 })
  })
})

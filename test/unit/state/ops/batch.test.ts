import { describe, expect, it } from 'vitest'
import {
  BatchTooLargeError, InvalidOpError, MAX_BATCH_BYTES, MAX_KV_VALUE_BYTES, MAX_OPS_PER_BATCH, ValueTooLargeError,
  batchOpHashes, checkBatch, encodeOp, inspectBatch, kvDelDraft, kvSetDraft, opHash, pruneBatch, registerOpKind,
  signBatch, signOps, validateOp, verifyBatch, verifyOpInBatch, type OpBatch
} from '../../../../src/state/ops/index.js'
import { canonicalJson } from '../../../../src/team/canonical.js'
import { T0, TEAM, clone, kvOps, makeAuthor, makeAuthors } from './helpers.js'

const [alice, bob] = await makeAuthors(2)

function aliceBatch (fromSeq = 1, n = 3): OpBatch {
  return signBatch(kvOps(alice.peerId, fromSeq, n), alice.signer, TEAM)
}

describe('signBatch / verifyBatch', () => {
  it('round-trips through JSON and verifies', () => {
    const batch = aliceBatch(5, 4)
    expect(batch).toMatchObject({ author: alice.peerId, fromSeq: 5, toSeq: 8 })
    expect(verifyBatch(batch, TEAM)).toBe(true)
    expect(verifyBatch(clone(batch), TEAM)).toBe(true)
    expect(checkBatch(clone(batch), TEAM)).toEqual(batch)
  })

  it('signs over op hashes, so each op checks on its own, also from a pruned batch', () => {
    const batch = aliceBatch(1, 5)
    const hashes = inspectBatch(batch, TEAM).hashes
    expect(hashes.map(h => Buffer.from(h).toString('hex'))).toEqual(batch.ops.map(op => Buffer.from(opHash(op)).toString('hex')))
    const pruned = pruneBatch(batch, op => op.seq === 3)
    expect(pruned.ops.map(op => op.seq)).toEqual([3])
    expect(pruned.hashes).toHaveLength(5)
    expect(verifyBatch(clone(pruned), TEAM)).toBe(true)
    expect(batchOpHashes(pruned)).toEqual(hashes)
    for (const op of batch.ops) expect(verifyOpInBatch(op, pruned, TEAM)).toBe(true)
    expect(verifyOpInBatch({ ...batch.ops[1], body: { key: 'k2', value: 'forged' } }, pruned, TEAM)).toBe(false)
    expect(verifyOpInBatch(kvOps(alice.peerId, 6, 1)[0], pruned, TEAM)).toBe(false)
    const noneLeft = pruneBatch(batch, () => false)
    expect(noneLeft.ops).toEqual([])
    expect(verifyBatch(noneLeft, TEAM)).toBe(true)
  })

  const tamperings: Array<[string, (b: OpBatch & Record<string, unknown>) => void]> = [
    ['author', b => { b.author = bob.peerId }],
    ['author (not a peer id)', b => { b.author = 'alice' }],
    ['fromSeq', b => { b.fromSeq = 2 }],
    ['toSeq', b => { b.toSeq = 4 }],
    ['fromSeq and toSeq shifted together', b => { b.fromSeq = 2; b.toSeq = 4; b.ops.forEach(op => { op.seq++ }) }],
    ['sig (one bit)', b => { const s = Buffer.from(b.sig, 'base64url'); s[7] ^= 1; b.sig = s.toString('base64url') }],
    ['sig (missing)', b => { delete (b as Partial<OpBatch>).sig }],
    ['op seq', b => { b.ops[1].seq = 7 }],
    ['op author', b => { b.ops[0].author = bob.peerId }],
    ['op hlc wall', b => { b.ops[0].hlc = { ...b.ops[0].hlc, wall: b.ops[0].hlc.wall + 1 } }],
    ['op hlc logical', b => { b.ops[2].hlc = { ...b.ops[2].hlc, logical: 1 } }],
    ['op hlc node', b => { b.ops[2].hlc = { ...b.ops[2].hlc, node: bob.peerId } }],
    ['op kind', b => { b.ops[0].kind = 'kv:del'; b.ops[0].body = { key: 'k1' } }],
    ['op body key', b => { (b.ops[0].body as { key: string }).key = 'other' }],
    ['op body value', b => { (b.ops[1].body as { value: unknown }).value = { n: 99 } }],
    ['an extra op field', b => { (b.ops[0] as unknown as Record<string, unknown>).extra = 1 }],
    ['an extra batch field', b => { b.extra = 1 }],
    ['an op dropped', b => { b.ops.pop() }],
    ['ops reordered', b => { b.ops.reverse() }],
    ['an op duplicated', b => { b.ops[2] = clone(b.ops[1]) }],
    ['a hash list that does not match the ops', b => { b.hashes = b.ops.map(() => Buffer.alloc(32, 7).toString('base64url')) }]
  ]
  it.each(tamperings)('rejects a tampered %s', (_, tamper) => {
    const batch = clone(aliceBatch(1, 3)) as OpBatch & Record<string, unknown>
    tamper(batch)
    expect(verifyBatch(batch, TEAM)).toBe(false)
    expect(() => checkBatch(batch, TEAM)).toThrow(expect.objectContaining({ name: 'InvalidBatchError' }))
  })

  it('rejects a full batch with two ops swapped, two bodies swapped, one value changed or one op dropped, and names why', () => {
    const batch = aliceBatch(1, 50)
    const swapped = clone(batch)
    ;[swapped.ops[10], swapped.ops[11]] = [swapped.ops[11], swapped.ops[10]]
    expect(() => inspectBatch(swapped, TEAM)).toThrow(/op seq 12 is out of place/)
    const bodies = clone(batch)
    ;[bodies.ops[10].body, bodies.ops[11].body] = [bodies.ops[11].body, bodies.ops[10].body]
    expect(() => inspectBatch(bodies, TEAM)).toThrow(/signature of batch .* does not verify/)
    const changed = clone(batch)
    ;(changed.ops[49].body as { value: unknown }).value = { n: 'forged' }
    expect(() => inspectBatch(changed, TEAM)).toThrow(/does not verify/)
    const dropped = clone(batch)
    dropped.ops.pop()
    expect(() => inspectBatch(dropped, TEAM)).toThrow(/must carry 50 ops/)
    // and the hashes it returns are each op's own, in order
    expect(inspectBatch(clone(batch), TEAM).hashes.map(h => Buffer.from(h).toString('hex'))).toEqual(batch.ops.map(op => Buffer.from(opHash(op)).toString('hex')))
  })

  it('rejects a tampered pruned batch: hash list, kept op, or range', () => {
    const pruned = pruneBatch(aliceBatch(1, 4), op => op.seq !== 2)
    const badHash = clone(pruned)
    badHash.hashes![1] = Buffer.alloc(32, 1).toString('base64url')
    expect(verifyBatch(badHash, TEAM)).toBe(false)
    const badOp = clone(pruned)
    ;(badOp.ops[0].body as { value: unknown }).value = 'x'
    expect(verifyBatch(badOp, TEAM)).toBe(false)
    const shortList = clone(pruned)
    shortList.hashes!.pop()
    expect(verifyBatch(shortList, TEAM)).toBe(false)
    const unordered = clone(pruned)
    unordered.ops.reverse()
    expect(verifyBatch(unordered, TEAM)).toBe(false)
  })

  it('rejects a batch signed by another key than its author', () => {
    const forged = signBatch(kvOps(bob.peerId, 1, 2), bob.signer, TEAM)
    expect(verifyBatch({ ...clone(forged), author: alice.peerId }, TEAM)).toBe(false)
    expect(() => signBatch(kvOps(alice.peerId, 1, 2), bob.signer, TEAM)).toThrow(InvalidOpError)
  })

  it('refuses to sign non-contiguous ops or nothing', () => {
    const ops = kvOps(alice.peerId, 1, 3)
    expect(() => signBatch([ops[0], ops[2]], alice.signer, TEAM)).toThrow(InvalidOpError)
    expect(() => signBatch([], alice.signer, TEAM)).toThrow(InvalidOpError)
  })
})

describe('limits', () => {
  it('caps a batch at MAX_OPS_PER_BATCH ops and MAX_BATCH_BYTES bytes', () => {
    expect(() => signBatch(kvOps(alice.peerId, 1, MAX_OPS_PER_BATCH + 1), alice.signer, TEAM)).toThrow(BatchTooLargeError)
    const big = 'x'.repeat(MAX_KV_VALUE_BYTES - 100)
    const heavy = kvOps(alice.peerId, 1, 4, seq => `k${seq}`, () => big)
    expect(4 * (MAX_KV_VALUE_BYTES - 100)).toBeGreaterThan(MAX_BATCH_BYTES)
    expect(() => signBatch(heavy, alice.signer, TEAM)).toThrow(BatchTooLargeError)
    const split = signOps(heavy, alice.signer, TEAM)
    expect(split.map(b => [b.fromSeq, b.toSeq])).toEqual([[1, 3], [4, 4]])
    expect(split.every(b => verifyBatch(clone(b), TEAM))).toBe(true)
    expect(signOps(kvOps(alice.peerId, 1, 2500), alice.signer, TEAM).map(b => b.ops.length)).toEqual([1000, 1000, 500])
  })

  it('refuses a range longer than MAX_OPS_PER_BATCH on verify', () => {
    const batch = clone(aliceBatch(1, 2))
    batch.toSeq = MAX_OPS_PER_BATCH + 1
    batch.hashes = Array.from({ length: MAX_OPS_PER_BATCH + 1 }, () => Buffer.alloc(32).toString('base64url'))
    expect(() => checkBatch(batch, TEAM)).toThrow(/at most 1000 ops/)
  })

  it('kv values up to 1 MiB; above, a ValueTooLargeError that says so', () => {
    const fits = 'x'.repeat(MAX_KV_VALUE_BYTES - 2) // the JSON quotes make it exactly 1 MiB
    expect(kvSetDraft('k', fits).body.value).toBe(fits)
    let caught: unknown
    try { kvSetDraft('k', fits + 'x') } catch (err) { caught = err }
    expect(caught).toBeInstanceOf(ValueTooLargeError)
    expect(caught).toMatchObject({ name: 'ValueTooLargeError', bytes: MAX_KV_VALUE_BYTES + 1, limit: MAX_KV_VALUE_BYTES })
    expect((caught as Error).message).toMatch(/1048577 bytes .*limit is 1 MiB/)
    // from outside, the same op is an InvalidOpError
    const op = kvOps(alice.peerId, 1, 1, () => 'k', () => fits + 'x')[0]
    expect(() => validateOp(op)).toThrow(InvalidOpError)
    expect(() => validateOp(kvOps(alice.peerId, 1, 1, () => 'k', () => fits)[0])).not.toThrow()
  })

  it('checks kv keys and values', () => {
    expect(() => kvSetDraft('', 1)).toThrow(InvalidOpError)
    expect(() => kvSetDraft('x'.repeat(1025), 1)).toThrow(InvalidOpError)
    expect(() => kvSetDraft('\ud800', 1)).toThrow(/well-formed/)
    expect(() => kvSetDraft('k', undefined)).toThrow(InvalidOpError)
    expect(() => kvSetDraft('k', new Map())).toThrow(InvalidOpError)
    expect(() => kvSetDraft('k', Number.NaN)).toThrow(InvalidOpError)
    expect(kvDelDraft('k')).toEqual({ kind: 'kv:del', body: { key: 'k' } })
  })
})

describe('validateOp', () => {
  const good = () => clone(kvOps(alice.peerId, 3, 1)[0])

  it('returns a fresh op with only its own fields', () => {
    const op = good()
    const valid = validateOp(op)
    expect(valid).toEqual(op)
    expect(valid).not.toBe(op)
  })

  it.each([
    ['not an object', 'op'],
    ['an array', []],
    ['seq 0', { ...good(), seq: 0 }],
    ['seq fractional', { ...good(), seq: 1.5 }],
    ['seq unsafe', { ...good(), seq: 2 ** 53 }],
    ['hlc node not the author', { ...good(), hlc: { wall: T0, logical: 0, node: bob.peerId } }],
    ['hlc with an extra field', { ...good(), hlc: { wall: T0, logical: 0, node: alice.peerId, x: 1 } }],
    ['hlc negative wall', { ...good(), hlc: { wall: -1, logical: 0, node: alice.peerId } }],
    ['kind unknown shape', { ...good(), kind: 'KV SET' }],
    ['body missing', { author: alice.peerId, seq: 1, hlc: { wall: T0, logical: 0, node: alice.peerId }, kind: 'kv:set' }],
    ['kv:set body without value', { ...good(), body: { key: 'k' } }],
    ['kv:del body with value', { ...good(), kind: 'kv:del', body: { key: 'k', value: 1 } }],
    ['body not JSON', { ...good(), body: { key: 'k', value: 1n } }]
  ])('refuses %s with InvalidOpError', (_, input) => {
    expect(() => validateOp(input)).toThrow(InvalidOpError)
  })

  it('accepts unregistered kinds with JSON bodies, and checks registered ones', () => {
    expect(validateOp({ ...good(), kind: 'future:thing', body: { any: ['json'] } }).kind).toBe('future:thing')
    expect(() => validateOp({ ...good(), kind: 'task:create', body: { any: ['json'] } })).toThrow(InvalidOpError)
    registerOpKind('test:strict', { validateBody: body => { if (body !== 1) throw new InvalidOpError('must be 1') } })
    expect(() => validateOp({ ...good(), kind: 'test:strict', body: 2 })).toThrow('must be 1')
    expect(validateOp({ ...good(), kind: 'test:strict', body: 1 }).body).toBe(1)
  })

  it('encodes exactly as canonical JSON of the op', () => {
    for (const op of [good(), { ...good(), body: { key: 'k', value: { z: [1, -0, 'é\u2028'], a: null } } }, { ...good(), kind: 'x:y', body: 1.5e300 }]) {
      expect(Buffer.from(encodeOp(op)).toString('utf8')).toBe(canonicalJson(op))
    }
  })

  it('encodes canonically: key order does not change the hash', () => {
    const op = good()
    const reordered = { body: op.body, kind: op.kind, hlc: { node: op.hlc.node, logical: op.hlc.logical, wall: op.hlc.wall }, seq: op.seq, author: op.author }
    expect(encodeOp(reordered)).toEqual(encodeOp(op))
  })

  it('binds a batch to its team: signed for another team, the same ops do not verify here', () => {
    const other = 'ffeeddccbbaa99887766554433221100'
    const batch = signBatch(kvOps(alice.peerId, 1, 2), alice.signer, TEAM)
    expect(verifyBatch(batch, TEAM)).toBe(true)
    expect(verifyBatch(batch, other)).toBe(false)
    expect(() => checkBatch(batch, other)).toThrow(/does not verify/)
    expect(verifyOpInBatch(batch.ops[0], batch, other)).toBe(false)
  })

  it('a freshly made author signs', async () => {
    const carol = await makeAuthor()
    expect(verifyBatch(signBatch(kvOps(carol.peerId, 1, 1), carol.signer, TEAM), TEAM)).toBe(true)
  })
})

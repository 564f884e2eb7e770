/**
 * Receipts signed per batch (`signReceipts`): one signature over a Merkle root, each
 * receipt with its inclusion proof, each still checkable on its own; any change to a
 * receipt, its place or its signature fails; the cache of verified roots never turns a
 * failure into a success; receipts signed alone keep the plain v1 form.
 */
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../../src/team/index.js'
import { toBase64url } from '../../../src/team/canonical.js'
import { leafHash, merkleTree } from '../../../src/team/merkle.js'
import { PROOF_CACHE_SIZE, forgetVerified, rememberSigned, verifiedCount } from '../../../src/tasks/proof-cache.js'
import {
  RECEIPT_BATCH_DOMAIN, RECEIPT_DOMAIN, hashJson, isReceipt, signReceipt, signReceipts, verifyReceipt,
  type Receipt, type ReceiptBody
} from '../../../src/tasks/receipt.js'
import { T0, clone, makePeers, type TestPeer } from '../team/helpers.js'

let executor: TestPeer
let other: TestPeer

beforeAll(async () => {
  [executor, other] = await makePeers(2)
})

afterEach(() => { forgetVerified() })

const output = { ok: true }

function bodies (n: number, tag = 'b'): ReceiptBody[] {
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    teamId: '0123456789abcdef0123456789abcdef',
    taskId: `task-${tag}-${i}`,
    attempt: 1 + (i % 3),
    agent: 'echo',
    inputHash: hashJson({ i }),
    outputHash: hashJson(output),
    exitCode: i % 2,
    executor: executor.peerId,
    startedWall: T0 + i,
    endedWall: T0 + i + 10
  }))
}

const reasonOf = (value: unknown): string => {
  const check = verifyReceipt(value)
  return check.ok ? 'ok' : check.reason
}

/** a distinct, canonical 32-byte hash in base64url */
const otherHash = (h: string): string => {
  const bytes = Buffer.from(h, 'base64url')
  bytes[0] ^= 1
  return bytes.toString('base64url')
}

/** `signer`'s signature of the root of a tree of `n` over `receipts`' bodies, as a batch would carry */
function rootSig (receipts: ReceiptBody[], signer: TestPeer['signer']): string {
  const leaves = receipts.map(r => leafHash(new TextEncoder().encode(RECEIPT_DOMAIN + canonicalJson(bodyOnly(r)))))
  const { root } = merkleTree(leaves)
  const message = RECEIPT_BATCH_DOMAIN + canonicalJson({ n: receipts.length, root: Buffer.from(root).toString('hex') })
  return toBase64url(signer.sign(new TextEncoder().encode(message)))
}

function bodyOnly (r: ReceiptBody): ReceiptBody {
  const { sig: _sig, batch: _batch, ...body } = r as Receipt
  return body
}

describe('receipts signed per batch', () => {
  it('every receipt of random batches of 1 to 1,000 verifies on its own, on a member that saw none of them', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), n => {
      const receipts = signReceipts(bodies(n, `r${n}`), executor.signer)
      forgetVerified()
      expect(receipts).toHaveLength(n)
      for (const [i, r] of receipts.entries()) {
        expect(isReceipt(r)).toBe(true)
        expect(verifyReceipt(clone(r), { executor: executor.peerId, taskId: `task-r${n}-${i}`, output }), `${i}/${n}`).toEqual({ ok: true })
        if (n > 1) expect(r.batch).toMatchObject({ i, n })
      }
      // the batch's one signature was checked once and is remembered
      expect(verifiedCount()).toBe(1)
    }), { numRuns: 6, examples: [[1], [2], [3], [1000]] })
  })

  it('shares one signature over a root that binds the batch size; a lone receipt keeps the v1 form', () => {
    const receipts = signReceipts(bodies(5), executor.signer)
    expect(new Set(receipts.map(r => r.sig)).size).toBe(1)
    expect(receipts[0].sig).toBe(rootSig(receipts, executor.signer))
    expect(receipts.map(r => r.batch?.path.length)).toEqual([3, 3, 3, 3, 1])
    const [alone] = signReceipts(bodies(1), executor.signer)
    expect(Object.hasOwn(alone, 'batch')).toBe(false)
    expect(alone.sig).toBe(toBase64url(executor.signer.sign(new TextEncoder().encode(RECEIPT_DOMAIN + canonicalJson(bodyOnly(alone))))))
    expect(signReceipt(bodies(1)[0], executor.signer)).toEqual(alone)
    expect(signReceipts([], executor.signer)).toEqual([])
  })

  it('fails for any change: a body field, the index, the size, a path entry', () => {
    const receipts = signReceipts(bodies(37), executor.signer)
    const r = receipts[12]
    expect(verifyReceipt(r)).toEqual({ ok: true })
    const changed: Array<[string, unknown]> = [
      ['teamId', 'f'.repeat(32)], ['taskId', 'task-b-13'], ['attempt', 3], ['agent', 'deploy'],
      ['inputHash', hashJson({ i: 13 })], ['outputHash', hashJson(null)], ['exitCode', 1], ['executor', other.peerId],
      ['startedWall', T0], ['endedWall', T0 + 23]
    ]
    for (const [key, value] of changed) {
      expect(reasonOf({ ...clone(r), [key]: value }), key).toMatch(/^signature does not verify with the key of executor 12D3\S+ \(as receipt 12 of a batch of 37\)$/)
    }
    const batch = r.batch as NonNullable<Receipt['batch']>
    for (const i of [0, 11, 13, 36]) expect(reasonOf({ ...r, batch: { ...batch, i } }), `i=${i}`).not.toBe('ok')
    for (const n of [13, 36, 38, 64]) expect(reasonOf({ ...r, batch: { ...batch, n } }), `n=${n}`).not.toBe('ok')
    for (let k = 0; k < batch.path.length; k++) {
      const path = [...batch.path]
      path[k] = otherHash(path[k])
      expect(reasonOf({ ...r, batch: { ...batch, path } }), `path[${k}]`).not.toBe('ok')
    }
    expect(reasonOf({ ...r, batch: { ...batch, path: batch.path.slice(1) } })).not.toBe('ok')
    expect(reasonOf({ ...r, batch: { ...batch, path: [...batch.path, batch.path[0]] } })).not.toBe('ok')
    // another receipt's place in the same batch
    expect(reasonOf({ ...r, batch: receipts[13].batch })).not.toBe('ok')
    // the untouched receipt still verifies after every failure (no failure was remembered)
    expect(verifyReceipt(r)).toEqual({ ok: true })
  })

  it('a size change that keeps the root still fails: the signature covers the size', () => {
    // leaf 0 of three has the path leaf 0 of four would have over the same hashes
    const receipts = signReceipts(bodies(3, 'size'), executor.signer)
    const r = receipts[0]
    expect(r.batch?.path).toHaveLength(2)
    expect(reasonOf({ ...r, batch: { ...r.batch, n: 4 } })).toMatch(/^signature does not verify/)
  })

  it('fails with another batch\'s signature, another signer\'s signature, or the proof stripped or glued on', () => {
    const a = signReceipts(bodies(8, 'a'), executor.signer)
    const b = signReceipts(bodies(8, 'b'), executor.signer)
    // a leaf of batch a under batch b's signature (and b's place)
    expect(reasonOf({ ...a[3], sig: b[3].sig })).not.toBe('ok')
    expect(reasonOf({ ...a[3], sig: b[3].sig, batch: b[3].batch })).not.toBe('ok')
    // the same root, signed by someone else
    const forged = { ...a[3], sig: rootSig(a, other.signer) }
    expect(reasonOf(forged)).toBe(`signature does not verify with the key of executor ${executor.peerId} (as receipt 3 of a batch of 8)`)
    // a batch receipt read as a v1 receipt
    const { batch: _b, ...stripped } = a[3]
    expect(reasonOf(stripped)).toBe(`signature does not verify with the key of executor ${executor.peerId}`)
    // a v1 receipt with batch fields glued on
    const v1 = signReceipt(bodies(1, 'v1')[0], executor.signer)
    expect(verifyReceipt(v1)).toEqual({ ok: true })
    expect(reasonOf({ ...v1, batch: { i: 0, n: 1, path: [] } })).toMatch(/^signature does not verify/)
    expect(reasonOf({ ...v1, batch: a[0].batch })).toMatch(/^signature does not verify/)
    expect(reasonOf({ ...v1, sig: a[0].sig, batch: a[0].batch })).toMatch(/^signature does not verify/)
  })

  it('a bad signature over a root already verified still fails, and failures are never remembered', () => {
    const receipts = signReceipts(bodies(4, 'c'), executor.signer)
    forgetVerified()
    const bad = { ...receipts[1], sig: rootSig(receipts, other.signer) }
    expect(reasonOf(bad)).toMatch(/^signature does not verify/)
    expect(verifiedCount()).toBe(0)
    expect(verifyReceipt(receipts[0])).toEqual({ ok: true })
    expect(verifiedCount()).toBe(1)
    expect(reasonOf(bad)).toMatch(/^signature does not verify/)
    expect(verifyReceipt(receipts[1])).toEqual({ ok: true })
    // a signature this daemon made is known without checking
    forgetVerified()
    signReceipts(bodies(4, 'd'), executor.signer)
    expect(verifiedCount()).toBe(1)
  })

  it('a member that checked the batch before answers every variant as a member that saw nothing', () => {
    const receipts = signReceipts(bodies(300, 'memo'), executor.signer)
    const variant = fc.tuple(fc.nat(299), fc.nat(11), fc.nat(31), fc.constantFrom('path', 'i', 'n', 'sig', 'none'))
    const make = ([k, e, byte, what]: [number, number, number, string]): unknown => {
      const r = receipts[k]
      const batch = r.batch as NonNullable<Receipt['batch']>
      if (what === 'i') return { ...r, batch: { ...batch, i: (batch.i + 1 + e) % 300 } }
      if (what === 'n') return { ...r, batch: { ...batch, n: e % 2 === 0 ? 299 - e : 301 + e } }
      if (what === 'sig') return { ...r, sig: signReceipts(bodies(2, `s${e}`), executor.signer)[0].sig }
      if (what === 'none') return r
      const path = [...batch.path]
      const bytes = Buffer.from(path[e % path.length], 'base64url')
      bytes[byte] ^= 4
      path[e % path.length] = bytes.toString('base64url')
      return { ...r, batch: { ...batch, path } }
    }
    fc.assert(fc.property(fc.array(variant, { minLength: 1, maxLength: 20 }), list => {
      forgetVerified()
      for (const r of receipts) verifyReceipt(r)
      const warm = list.map(v => verifyReceipt(make(v)).ok)
      const cold = list.map(v => {
        forgetVerified()
        return verifyReceipt(make(v)).ok
      })
      expect(warm).toEqual(cold)
      expect(warm).toEqual(list.map(v => v[3] === 'none'))
    }), { numRuns: 4 })
  })

  it('keeps at most PROOF_CACHE_SIZE signatures', () => {
    for (let i = 0; i < PROOF_CACHE_SIZE + 100; i++) rememberSigned(executor.peerId, Buffer.from(`m${i}`), 'x')
    expect(verifiedCount()).toBe(PROOF_CACHE_SIZE)
  })

  it('signs more than 4,096 receipts under one signature per 4,096', () => {
    const receipts = signReceipts(bodies(4097, 'big'), executor.signer)
    expect(receipts[0].batch).toMatchObject({ i: 0, n: 4096 })
    expect(receipts[4095].batch?.path).toHaveLength(12)
    expect(Object.hasOwn(receipts[4096], 'batch')).toBe(false)
    forgetVerified()
    for (const i of [0, 2048, 4095, 4096]) expect(verifyReceipt(receipts[i]), `${i}`).toEqual({ ok: true })
  })

  it('refuses to sign any of a batch with a malformed body', () => {
    const list = bodies(3)
    list[2] = { ...list[2], attempt: 0 }
    expect(() => signReceipts(list, executor.signer)).toThrow(/attempt must be a positive integer/)
    expect(() => signReceipts([...bodies(2), { ...bodies(1)[0], executor: other.peerId }], executor.signer)).toThrow(/cannot be signed by/)
  })

  it('names what is wrong with a malformed batch field', () => {
    const [r] = signReceipts(bodies(2, 'm'), executor.signer)
    const path = (r.batch as NonNullable<Receipt['batch']>).path
    const cases: Array<[unknown, RegExp]> = [
      [null, /batch must be an object/],
      [[], /batch must be an object/],
      [{ i: 0, n: 2, path, extra: 1 }, /batch must be exactly \{ i, n, path \}/],
      [{ i: 0, n: 0, path }, /batch\.n must be a whole number in 1\.\.4096/],
      [{ i: 0, n: 4097, path }, /batch\.n must be/],
      [{ i: 2, n: 2, path }, /batch\.i must be a whole number below batch\.n/],
      [{ i: -1, n: 2, path }, /batch\.i must be/],
      [{ i: 0.5, n: 2, path }, /batch\.i must be/],
      [{ i: 0, n: 2, path: path[0] }, /batch\.path must be a list of at most 12 hashes/],
      [{ i: 0, n: 2, path: Array.from({ length: 13 }, () => path[0]) }, /batch\.path must be a list of at most 12/],
      [{ i: 0, n: 2, path: [`${path[0]}=`] }, /batch\.path must hold base64url sha256 hashes/],
      [{ i: 0, n: 2, path: [path[0].slice(0, 42) + (path[0].endsWith('A') ? 'B' : 'A')] }, /./],
      [{ i: 0, n: 2, path: ['!'.repeat(43)] }, /batch\.path must hold/],
      [{ i: 0, n: 2, path: [7] }, /batch\.path must hold/]
    ]
    for (const [batch, reason] of cases) {
      const check = verifyReceipt({ ...r, batch })
      expect(check.ok, JSON.stringify(batch)).toBe(false)
      if (!check.ok) expect(check.reason, JSON.stringify(batch)).toMatch(reason)
    }
    // a path entry whose last character has bits past the 32 bytes set is not canonical base64url
    const loose = path[0].slice(0, 42) + String.fromCharCode(path[0].charCodeAt(42) + 1)
    expect(reasonOf({ ...r, batch: { i: 0, n: 2, path: [loose] } })).toMatch(/^malformed receipt: batch\.path must hold|^signature does not verify/)
    expect(reasonOf({ ...r, batch: undefined })).toMatch(/^malformed receipt: batch must be an object/)
  })
})

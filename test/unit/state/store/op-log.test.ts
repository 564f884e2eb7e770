import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  InvalidBatchError, MAX_KV_VALUE_BYTES, signBatch, verifyBatch, type Op, type OpBatch
} from '../../../../src/state/ops/index.js'
import { T0, clone, kvOps, makeAuthors } from '../ops/helpers.js'
import { TEAM, allRecords, tempStore } from './helpers.js'

const [alice, bob, carol] = await makeAuthors(3)

/** alice's ops 1..n as batches of the given sizes */
function batchesOf (author: typeof alice, sizes: number[], ops?: Op[]): OpBatch[] {
  const all = ops ?? kvOps(author.peerId, 1, sizes.reduce((a, b) => a + b, 0), seq => `k${seq % 7}`)
  const out: OpBatch[] = []
  let at = 0
  for (const size of sizes) {
    out.push(signBatch(all.slice(at, at + size), author.signer, TEAM))
    at += size
  }
  return out
}

describe('OpStore local writes', () => {
  it('writes, reads back, lists by prefix and deletes', async () => {
    let clock = T0
    const { store, restart } = await tempStore({ signer: alice.signer, now: () => clock++ })
    await store.kvSet('app/a', { x: 1 })
    await store.kvSet('app/b', 'two')
    await store.kvSet('other', null)
    const [batch] = await store.write([{ kind: 'kv:set', body: { key: 'app/ü', value: 3 } }, { kind: 'kv:del', body: { key: 'app/b' } }])
    expect(batch).toMatchObject({ author: alice.peerId, fromSeq: 4, toSeq: 5 })
    expect(verifyBatch(clone(batch), TEAM)).toBe(true)
    expect(await store.kvGet('app/a')).toEqual({ x: 1 })
    expect(await store.kvGet('app/b')).toBeUndefined()
    expect(await store.kvGet('other')).toBeNull()
    expect((await store.kvList('app/')).map(e => e.key)).toEqual(['app/a', 'app/ü'])
    expect((await store.kvList('app/', 1)).map(e => e.key)).toEqual(['app/a'])
    expect(await store.kvEntry('app/a')).toMatchObject({ author: alice.peerId, seq: 1 })
    const keys: string[] = []
    for await (const e of store.kvEntries()) keys.push(e.key)
    expect(keys).toEqual(['app/a', 'app/ü', 'other'])
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 5 })

    // a restart resumes the log and the clock
    const hash = await store.stateHash()
    const again = (await restart()).store
    expect(await again.versionVector()).toEqual({ [alice.peerId]: 5 })
    expect(await again.stateHash()).toBe(hash)
    clock = T0 // the physical clock went back: the hlc must still move forward
    const [next] = await again.write([{ kind: 'kv:set', body: { key: 'app/a', value: 'later' } }])
    expect(next.fromSeq).toBe(6)
    expect(await again.kvGet('app/a')).toBe('later')
  })

  it('refuses a value over 1 MiB with ValueTooLargeError and stores nothing', async () => {
    const { store } = await tempStore({ signer: alice.signer })
    await expect(store.kvSet('big', 'x'.repeat(MAX_KV_VALUE_BYTES))).rejects.toMatchObject({ name: 'ValueTooLargeError' })
    await expect(store.write([{ kind: 'kv:set', body: { key: 'big', value: 'x'.repeat(MAX_KV_VALUE_BYTES) } }]))
      .rejects.toMatchObject({ name: 'ValueTooLargeError' })
    await store.kvSet('big', 'x'.repeat(MAX_KV_VALUE_BYTES - 2))
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 1 })
  })

  it('splits a large write into several batches stored at once', async () => {
    const { store } = await tempStore({ signer: alice.signer })
    const drafts = Array.from({ length: 2500 }, (_, i) => ({ kind: 'kv:set', body: { key: `k${i}`, value: i } }))
    const batches = await store.write(drafts)
    expect(batches.map(b => [b.fromSeq, b.toSeq])).toEqual([[1, 1000], [1001, 2000], [2001, 2500]])
    expect((await store.kvList('k')).length).toBe(2500)
  })

  it('append takes only a verified batch continuing the head', async () => {
    const { store } = await tempStore()
    const [b1, b2] = batchesOf(alice, [2, 3])
    await expect(store.append(b2)).rejects.toMatchObject({ name: 'SeqConflictError' })
    await store.append(b1)
    await expect(store.append(b1)).rejects.toMatchObject({ name: 'SeqConflictError' })
    const forged = clone(b2)
    ;(forged.ops[0].body as { value: unknown }).value = 'forged'
    await expect(store.append(forged)).rejects.toBeInstanceOf(InvalidBatchError)
    await store.append(b2)
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 5 })
    await expect(store.write([{ kind: 'kv:set', body: { key: 'k', value: 1 } }])).rejects.toMatchObject({ name: 'NoSignerError' })
  })
})

describe('OpStore ingest', () => {
  it('buffers a gap, reports it, and applies once it is filled', async () => {
    const { store } = await tempStore()
    const [b1, b2, b3] = batchesOf(alice, [2, 2, 2]).map(clone)
    expect(await store.ingest(b3)).toEqual({ applied: 0, duplicate: false, gapFrom: 1, buffered: true })
    expect(await store.ingest(b2)).toEqual({ applied: 0, duplicate: false, gapFrom: 1, buffered: true })
    expect(await store.versionVector()).toEqual({})
    expect(await store.ingest(b1)).toEqual({ applied: 6, duplicate: false })
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 6 })
  })

  it('rejects a gap it cannot hold, with gapFrom so the caller pulls', async () => {
    const { store } = await tempStore({ maxPendingBatches: 1 })
    const [b1, b2, b3] = batchesOf(alice, [1, 1, 1]).map(clone)
    expect(await store.ingest(b2)).toMatchObject({ gapFrom: 1, buffered: true })
    expect(await store.ingest(b3)).toMatchObject({ gapFrom: 1, buffered: false })
    expect(await store.ingest(b1)).toEqual({ applied: 2, duplicate: false })
    expect(await store.ingest(b3)).toEqual({ applied: 1, duplicate: false })
  })

  it('is idempotent: a duplicate changes nothing', async () => {
    const { store } = await tempStore()
    const batches = batchesOf(alice, [3, 2]).map(clone)
    for (const b of batches) await store.ingest(b)
    const hash = await store.stateHash()
    const records = await allRecords(store)
    for (const b of batches) expect(await store.ingest(b)).toEqual({ applied: 0, duplicate: true })
    expect(await store.stateHash()).toBe(hash)
    expect(await allRecords(store)).toEqual(records)
  })

  it('applies only the new tail of a batch overlapping the head', async () => {
    const ops = kvOps(alice.peerId, 1, 6)
    const { store } = await tempStore()
    await store.ingest(clone(signBatch(ops.slice(0, 3), alice.signer, TEAM)))
    expect(await store.ingest(clone(signBatch(ops.slice(1, 5), alice.signer, TEAM)))).toEqual({ applied: 2, duplicate: false })
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 5 })
    // an author who signs other ops for seqs already stored is refused
    const other = kvOps(alice.peerId, 1, 6, seq => `k${seq}`, () => 'other')
    await expect(store.ingest(clone(signBatch(other.slice(2, 6), alice.signer, TEAM)))).rejects.toMatchObject({ name: 'ConflictingOpError' })
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 5 })
  })

  it('refuses what does not verify, and folds when asked not to accept them', async () => {
    const { store } = await tempStore()
    await expect(store.ingest({ author: alice.peerId, fromSeq: 1, toSeq: 1, ops: [], sig: '' })).rejects.toBeInstanceOf(InvalidBatchError)
    await expect(store.ingest('junk')).rejects.toBeInstanceOf(InvalidBatchError)
    const fold = { author: alice.peerId, fromSeq: 1, toSeq: 3, folded: true }
    await expect(store.ingest(fold, { acceptFolds: false })).rejects.toBeInstanceOf(InvalidBatchError)
    expect(await store.versionVector()).toEqual({})
  })

  it('applies a fold only with the signed record after it', async () => {
    const { store } = await tempStore()
    const [b1, b2, b3] = batchesOf(alice, [2, 2, 2]).map(clone)
    // a fold alone never moves the head, however far it claims
    expect(await store.ingest({ author: alice.peerId, fromSeq: 1, toSeq: 1000, folded: true })).toEqual({ applied: 0, duplicate: false, buffered: true })
    expect(await store.versionVector()).toEqual({})
    // a fold of 1..2 then 3..4 (the signed successor): applied together
    expect(await store.ingest({ author: alice.peerId, fromSeq: 1, toSeq: 2, folded: true })).toMatchObject({ applied: 0, buffered: true })
    expect(await store.ingest(b2)).toEqual({ applied: 4, duplicate: false })
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 4 })
    expect(await store.kvGet('k1')).toBeUndefined() // the folded ops were never seen
    // signed records win over held folds
    expect(await store.ingest(b3)).toEqual({ applied: 2, duplicate: false })
    expect(await store.ingest(b1)).toEqual({ applied: 0, duplicate: true })
    const stored: unknown[] = []
    for await (const r of store.opsSince(alice.peerId)) stored.push(r)
    expect(stored).toEqual([{ author: alice.peerId, fromSeq: 1, toSeq: 2, folded: true }, b2, b3])
  })

  it('applies a chain of folds ending in a signed record', async () => {
    const { store } = await tempStore()
    const [, , b3] = batchesOf(alice, [2, 2, 2]).map(clone)
    await store.ingest({ author: alice.peerId, fromSeq: 3, toSeq: 4, folded: true })
    expect(await store.ingest(b3)).toMatchObject({ applied: 0, gapFrom: 1, buffered: true })
    expect(await store.ingest({ author: alice.peerId, fromSeq: 1, toSeq: 2, folded: true })).toEqual({ applied: 6, duplicate: false })
    expect(await store.versionVector()).toEqual({ [alice.peerId]: 6 })
  })

  it('streams records from the one holding a seq, with a limit', async () => {
    const { store } = await tempStore()
    for (const b of batchesOf(alice, [2, 3, 1, 4])) await store.ingest(clone(b))
    const ranges = async (from: number, limit?: number): Promise<number[][]> => {
      const out: number[][] = []
      for await (const r of store.opsSince(alice.peerId, from, limit)) out.push([r.fromSeq, r.toSeq])
      return out
    }
    expect(await ranges(1)).toEqual([[1, 2], [3, 5], [6, 6], [7, 10]])
    expect(await ranges(4)).toEqual([[3, 5], [6, 6], [7, 10]])
    expect(await ranges(4, 2)).toEqual([[3, 5], [6, 6]])
    expect(await ranges(11)).toEqual([])
    expect(await ranges(1, 0)).toEqual([])
    expect(await ranges(-5, 1)).toEqual([[1, 2]])
  })

  it('two stores ingesting the same batches in any order, gaps filled later, converge', async () => {
    // three authors writing the same few keys, so LWW decides between them
    const logs = [alice, bob, carol].map((a, i) => batchesOf(a, [2, 1, 3], kvOps(a.peerId, 1, 6, seq => `k${(seq + i) % 4}`, seq => `${i}:${seq}`).map(op => ({ ...op, hlc: { ...op.hlc, wall: T0 + (op.seq % 3) } }))))
    const all = logs.flat().map(clone)
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length }), fc.shuffledSubarray(all, { minLength: all.length }), async (first, second) => {
      const a = await tempStore({ maxPendingBatches: 2 })
      const b = await tempStore()
      for (const batch of first) await a.store.ingest(batch)
      for (const batch of second) await b.store.ingest(batch)
      // whatever a could not hold, it gets again (as anti-entropy would)
      for (const batch of all) await a.store.ingest(batch)
      expect(await a.store.versionVector()).toEqual(await b.store.versionVector())
      expect(await a.store.stateHash()).toBe(await b.store.stateHash())
      expect(Object.values(await a.store.versionVector())).toEqual([6, 6, 6])
      await a.close()
      await b.close()
    }), { numRuns: 15 })
  })
})

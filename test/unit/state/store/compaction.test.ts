import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isFoldRecord, verifyBatch, type LogRecord, type OpBatch } from '../../../../src/state/ops/index.js'
import { snapshotHash, type Snapshot } from '../../../../src/state/store/index.js'
import { clone, makeAuthors } from '../ops/helpers.js'
import { TEAM, allRecords, tempStore } from './helpers.js'

const [alice, bob] = await makeAuthors(2)

/** alice and bob overwrite 5 keys many times; returns the store */
async function churned (rounds = 40): Promise<Awaited<ReturnType<typeof tempStore>>> {
  let t = 1_700_000_000_000
  const a = await tempStore({ signer: alice.signer, now: () => t++ })
  const b = await tempStore({ signer: bob.signer, now: () => t++ })
  for (let r = 0; r < rounds; r++) {
    await a.store.kvSet(`k${r % 5}`, { by: 'alice', r })
    await b.store.write([{ kind: 'kv:set', body: { key: `k${(r + 2) % 5}`, value: { by: 'bob', r } } }, { kind: 'kv:set', body: { key: `bob/${r % 3}`, value: r } }], { sync: false })
    if (r % 13 === 0) await a.store.kvDel(`k${(r + 1) % 5}`)
    // the odd op of an unknown kind: never folded away
    if (r === 7) await a.store.write([{ kind: 'note:add', body: { text: 'keep me' } }])
  }
  for (const record of await allRecords(b.store)) await a.store.ingest(record)
  await b.close()
  return a
}

function opsIn (records: LogRecord[]): number {
  return records.reduce((n, r) => n + (isFoldRecord(r) ? 0 : r.ops.length), 0)
}

describe('compaction', () => {
  it('folds superseded ops away, keeps the state, and stays verifiable', async () => {
    const { store, restart } = await churned()
    const hash = await store.stateHash()
    const vv = await store.versionVector()
    const before = await allRecords(store) as LogRecord[]
    const result = await store.compact()
    const after = await allRecords(store) as LogRecord[]
    expect(result.vv).toEqual(vv)
    expect(result.recordsBefore).toBe(before.length)
    expect(result.recordsAfter).toBe(after.length)
    expect(result.droppedOps).toBe(opsIn(before) - opsIn(after))
    expect(after.length).toBeLessThan(before.length / 4)
    // what remains: the live ops (one per view key) and the unknown-kind op
    const live = (await store.kvList()).length
    expect(opsIn(after)).toBeLessThanOrEqual(live + 2 /* tombstones */ + 1)
    for (const r of after) if (!isFoldRecord(r)) expect(verifyBatch(r, TEAM)).toBe(true)
    expect(after.some(isFoldRecord)).toBe(true)
    // each author's log still ends in a signed record: a fold never moves a head on its own
    for (const author of Object.keys(vv)) {
      const mine = after.filter(r => r.author === author)
      expect(isFoldRecord(mine[mine.length - 1])).toBe(false)
      expect(mine[mine.length - 1].toSeq).toBe(vv[author])
    }
    expect(after.some(r => !isFoldRecord(r) && r.ops.some(op => op.kind === 'note:add'))).toBe(true)
    expect(await store.stateHash()).toBe(hash)
    expect(await store.versionVector()).toEqual(vv)
    // compacting again changes nothing; a restart keeps it all
    await store.compact()
    expect(await allRecords(store)).toEqual(after)
    const again = (await restart()).store
    expect(await again.stateHash()).toBe(hash)
  })

  it('a new member catching up from the compacted log reaches the same state', async () => {
    const { store } = await churned()
    await store.compact()
    const fresh = await tempStore()
    for (const record of await allRecords(store)) await fresh.store.ingest(record)
    expect(await fresh.store.versionVector()).toEqual(await store.versionVector())
    expect(await fresh.store.stateHash()).toBe(await store.stateHash())
  })

  it('a compacted log ingested in any order converges', async () => {
    const { store } = await churned(15)
    await store.compact()
    const records = await allRecords(store)
    const target = await store.stateHash()
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(records, { minLength: records.length }), async shuffled => {
      const fresh = await tempStore()
      for (const record of shuffled) await fresh.store.ingest(record)
      expect(await fresh.store.versionVector()).toEqual(await store.versionVector())
      expect(await fresh.store.stateHash()).toBe(target)
      await fresh.close()
    }), { numRuns: 15 })
  })

  it('a member that has part of the log catches up from the compacted tail', async () => {
    const { store } = await churned(20)
    const partial = await tempStore()
    for (const record of (await allRecords(store)).slice(0, 10)) await partial.store.ingest(record)
    await store.compact()
    for (const record of await allRecords(store)) await partial.store.ingest(record)
    expect(await partial.store.versionVector()).toEqual(await store.versionVector())
    expect(await partial.store.stateHash()).toBe(await store.stateHash())
  })

  it('later writes on top of a compacted log keep working and converge', async () => {
    const { store } = await churned(10)
    await store.compact()
    await store.kvSet('k0', 'after')
    const fresh = await tempStore()
    for (const record of await allRecords(store)) await fresh.store.ingest(record)
    expect(await fresh.store.kvGet('k0')).toBe('after')
    expect(await fresh.store.stateHash()).toBe(await store.stateHash())
  })
})

describe('snapshots', () => {
  it('export / import: same state, size in proportion to the live state', async () => {
    const { store } = await churned(60)
    const full = await allRecords(store) as LogRecord[]
    const snap = await store.exportSnapshot()
    expect(snap.hash).toBe(snapshotHash(snap))
    expect(opsIn(snap.records)).toBeLessThan(opsIn(full) / 10)
    expect(await allRecords(store)).toEqual(full) // export changes nothing
    const fresh = await tempStore()
    const { applied } = await fresh.store.importSnapshot(clone(snap), { expectedHash: snap.hash })
    expect(applied).toBe(Object.values(snap.vv).reduce((a, b) => a + b, 0))
    expect(await fresh.store.versionVector()).toEqual(snap.vv)
    expect(await fresh.store.stateHash()).toBe(await store.stateHash())
    // the tail after the snapshot arrives by ordinary ingest
    const [tail] = await store.write([{ kind: 'kv:set', body: { key: 'k1', value: 'tail' } }])
    expect(await fresh.store.ingest(clone(tail))).toEqual({ applied: 1, duplicate: false })
    expect(await fresh.store.stateHash()).toBe(await store.stateHash())
    // and a compacted store exports the same snapshot
    await store.compact()
    const again = await store.exportSnapshot()
    const fresh2 = await tempStore()
    await fresh2.store.importSnapshot(again)
    expect(await fresh2.store.stateHash()).toBe(await store.stateHash())
  })

  it('refuses a snapshot whose content, hash, team or records are wrong', async () => {
    const { store } = await churned(5)
    const snap = await store.exportSnapshot()
    const fresh = await tempStore()
    const expectRefused = async (s: unknown, opts?: { expectedHash?: string }): Promise<void> => {
      await expect(fresh.store.importSnapshot(s, opts)).rejects.toMatchObject({ name: 'InvalidSnapshotError' })
    }
    await expectRefused('snap')
    await expectRefused({ ...clone(snap), hash: '00' })
    await expectRefused(clone(snap), { expectedHash: 'ff'.repeat(32) })
    await expectRefused(rehash({ ...clone(snap), teamId: 'ab'.repeat(16) }))
    // a value changed inside a signed batch, hash recomputed: the signature catches it
    const forged = clone(snap)
    const batch = forged.records.find(r => !isFoldRecord(r) && r.ops.length > 0) as OpBatch
    ;(batch.ops[0].body as { value: unknown }).value = 'forged'
    await expectRefused(rehash(forged))
    // records that stop short of the version vector, or end in an unsigned fold
    await expectRefused(rehash({ ...clone(snap), records: snap.records.slice(0, -1) }))
    const last = snap.records[snap.records.length - 1]
    await expectRefused(rehash({ ...clone(snap), records: [...snap.records.slice(0, -1), { author: last.author, fromSeq: last.fromSeq, toSeq: last.toSeq, folded: true }] }))
    expect(await fresh.store.versionVector()).toEqual({})
  })
})

function rehash (snap: Snapshot): Snapshot {
  return { ...snap, hash: snapshotHash(snap) }
}

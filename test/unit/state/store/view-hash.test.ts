import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { makeAuthors } from '../ops/helpers.js'
import { allRecords, tempStore } from './helpers.js'

const [alice, bob] = await makeAuthors(2)

describe('incremental state hash', () => {
  it('equals a hash computed from a full scan after any mix of sets, overwrites and deletes', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ who: fc.boolean(), del: fc.boolean(), key: fc.integer({ min: 0, max: 6 }), value: fc.integer() }), { minLength: 1, maxLength: 40 }),
      async steps => {
        let t = 1_700_000_000_000
        const a = await tempStore({ signer: alice.signer, now: () => t++ })
        const b = await tempStore({ signer: bob.signer, now: () => t++ })
        // the hash is first computed (full scan) before any write, then kept up to date
        const empty = await a.store.stateHash()
        for (const s of steps) {
          const { store } = s.who ? a : b
          if (s.del) await store.kvDel(`k${s.key}`, { sync: false })
          else await store.kvSet(`k${s.key}`, s.value, { sync: false })
        }
        for (const record of await allRecords(b.store)) await a.store.ingest(record)
        const incremental = await a.store.stateHash()
        // a restart forgets the running sum and scans the view again
        const again = await a.restart()
        expect(await again.store.stateHash()).toBe(incremental)
        // and a replica that received the same ops in another order agrees
        for (const record of await allRecords(again.store)) await b.store.ingest(record)
        expect(await b.store.stateHash()).toBe(incremental)
        if (steps.some(s => !s.del)) expect(incremental).not.toBe(empty)
        await again.close()
        await b.close()
      }
    ), { numRuns: 25 })
  }, 60_000)
})

describe('the running sum in 32-bit words', () => {
  it('equals the BigInt sum modulo 2^256 of the entries\' digests, through adds, replacements and wrap-arounds', async () => {
    const { ViewHash, entryDigest, VIEW_HASH_VERSION } = await import('../../../../src/state/store/view-hash.js')
    const { createHash } = await import('node:crypto')
    const MOD = 1n << 256n
    const entry = (v: number) => ({ value: v, hlc: { wall: 1_700_000_000_000 + v, logical: 0, node: alice.peerId }, author: alice.peerId, seq: v })
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 9 }), value: fc.integer({ min: 0, max: 1_000_000 }) }), { minLength: 1, maxLength: 60 }),
      async steps => {
        const view = new ViewHash()
        await view.setFrom((async function * () {})())
        const current = new Map<string, ReturnType<typeof entry>>()
        for (const s of steps) {
          const key = `k${s.key}`
          const before = new Map(current.has(key) ? [[key, current.get(key) as ReturnType<typeof entry>]] : [])
          const after = new Map([[key, entry(s.value)]])
          view.apply(after, before)
          current.set(key, entry(s.value))
        }
        let sum = 0n
        for (const [key, e] of current) sum += entryDigest(key, e)
        const want = createHash('sha256').update(`${VIEW_HASH_VERSION}\n${(sum % MOD).toString(16).padStart(64, '0')}`).digest('hex')
        expect(view.hex()).toBe(want)
      }
    ), { numRuns: 100 })
  })
})

describe('the entry encoding the running sum hashes', () => {
  it('is the model\'s canonicalEncode([key, lww entry]) for any entry: values of any JSON, tombstones, nesting at the limit, values the model refuses', async () => {
    const { entryText } = await import('../../../../src/state/store/view-hash.js')
    const { toLwwEntry } = await import('../../../../src/state/store/kv-view.js')
    const { canonicalEncode } = await import('../../../../src/model/canonical.js')
    const outcome = (fn: () => string): unknown => { try { return fn() } catch (err) { return (err as Error).message } }
    const deep = (n: number): unknown => { let v: unknown = 1; for (let i = 0; i < n; i++) v = [v]; return v }
    const value = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.constantFrom(deep(61), deep(62), deep(63), [1, undefined], { b: 1, a: -0, 10: 2, 9: 3 }, new Map([['a', 1]])))
    fc.assert(fc.property(fc.string(), value, fc.integer({ min: 0, max: 2 ** 48 }), (key, v, wall) => {
      const entry = { value: v, hlc: { wall, logical: 0, node: alice.peerId }, author: alice.peerId, seq: 1 }
      if (v === undefined) delete (entry as { value?: unknown }).value
      expect(outcome(() => entryText(key, entry))).toEqual(outcome(() => canonicalEncode([key, toLwwEntry(entry)])))
    }), { numRuns: 2000 })
  })
})

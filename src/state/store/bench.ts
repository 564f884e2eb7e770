/**
 * Micro benchmark of local writes, for the bench runner: a fresh store in a temp dir,
 * one author, kv sets of ~100-byte values. Reports numbers; asserts nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { peerPublicKey, signerFromSeed, verifyEd25519 } from '../../team/ed25519.js'
import type { OpDraft, OpSigner } from '../ops/index.js'
import { openStore, type PairedDb } from './db.js'
import { OpStore } from './op-log.js'

/** ops/s of each write pattern. */
export interface LocalWriteBench {
  /** one op per `write`, `sync: true` (one fsync per op) */
  singleOpSync: number
  /** 1,000-op batches, `sync: true` */
  batch1000Sync: number
  /** remote ingest of 1,000-op batches: verify + apply, `sync: false` */
  ingest1000: number
  /** how many ops each figure measured */
  ops: { singleOpSync: number, batch1000Sync: number, ingest1000: number }
  /** references measured in the same run, to report ratios rather than raw numbers */
  baseline: {
    /** raw LevelDB: one 100-byte put per `sync: true` write, puts/s */
    levelSyncPut: number
    /** raw LevelDB: 1,000 100-byte puts per `sync: true` batch, puts/s */
    levelBatch1000Sync: number
    /** Ed25519 verifications of a 200-byte message per second, one core */
    ed25519Verify: number
  }
}

const VALUE = 'v'.repeat(100)

async function baseline (db: PairedDb, n: number, rounds: number, signer: OpSigner): Promise<LocalWriteBench['baseline']> {
  let t = performance.now()
  for (let i = 0; i < n; i++) await db.put(`bench/single/${i}`, VALUE, { sync: true })
  const levelSyncPut = n / ((performance.now() - t) / 1000)
  t = performance.now()
  for (let r = 0; r < rounds; r++) {
    await db.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: `bench/batch/${r}/${i}`, value: VALUE })), { sync: true })
  }
  const levelBatch1000Sync = (rounds * 1000) / ((performance.now() - t) / 1000)
  const message = new Uint8Array(200).fill(7)
  const sig = signer.sign(message)
  const key = peerPublicKey(signer.peerId) as Uint8Array
  const verifies = Math.max(200, Math.min(n, 2000))
  t = performance.now()
  for (let i = 0; i < verifies; i++) verifyEd25519(key, message, sig)
  const ed25519Verify = verifies / ((performance.now() - t) / 1000)
  return { levelSyncPut, levelBatch1000Sync, ed25519Verify }
}

/**
 * Measures `n` single-op sync writes, then `max(n, 1000) * 10` ops in 1,000-op batches
 * (written and then ingested by a second store).
 */
export async function benchLocalWrites (n = 1000): Promise<LocalWriteBench> {
  const dir = await mkdtemp(join(tmpdir(), 'paired-bench-store-'))
  const privateKey = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  const signer = signerFromSeed(peerId, privateKey.raw.subarray(0, 32))
  const db = await openStore(join(dir, 'a'))
  const db2 = await openStore(join(dir, 'b'))
  try {
    const store = new OpStore({ db }, { teamId: 'bench', signer })
    const remote = new OpStore({ db: db2 }, { teamId: 'bench' })
    await store.start()
    await remote.start()

    let t = performance.now()
    for (let i = 0; i < n; i++) await store.kvSet(`single/${i}`, VALUE)
    const singleOpSync = n / ((performance.now() - t) / 1000)

    const batchOps = Math.max(n, 1000) * 10
    const rounds = Math.ceil(batchOps / 1000)
    const before = await store.headOf(peerId)
    t = performance.now()
    for (let r = 0; r < rounds; r++) {
      const drafts: OpDraft[] = Array.from({ length: 1000 }, (_, i) => ({ kind: 'kv:set', body: { key: `batch/${r}/${i}`, value: VALUE } }))
      await store.write(drafts)
    }
    const batch1000Sync = (rounds * 1000) / ((performance.now() - t) / 1000)

    // the remote catches up on the single-op records untimed, then ingests the big batches
    for await (const record of store.opsSince(peerId, 1)) {
      const wire = JSON.parse(JSON.stringify(record)) as { toSeq: number }
      if (wire.toSeq <= before) await remote.ingest(wire)
    }
    const big: unknown[] = []
    for await (const record of store.opsSince(peerId, before + 1)) big.push(JSON.parse(JSON.stringify(record)))
    t = performance.now()
    for (const record of big) await remote.ingest(record)
    const ingest1000 = (rounds * 1000) / ((performance.now() - t) / 1000)
    return {
      singleOpSync,
      batch1000Sync,
      ingest1000,
      ops: { singleOpSync: n, batch1000Sync: rounds * 1000, ingest1000: rounds * 1000 },
      baseline: await baseline(db, n, rounds, signer)
    }
  } finally {
    await db.close()
    await db2.close()
    await rm(dir, { recursive: true, force: true })
  }
}

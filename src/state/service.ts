/**
 * The replicated state of one team, as the daemon uses it: the op store, its sync with the
 * other members, group commit of local writes (`group-commit.ts`), compaction when quiet
 * (`compaction-schedule.ts`), the kv API, the state hash and digest, and `kv:changed` events.
 */
import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import type { KvEntryDoc, KvWrite } from '../model/docs.js'
import { NotFoundError } from '../errors.js'
import type { PairedLibp2p } from '../node/create-node.js'
import { canonicalEncode, encodeHlc } from './crdt/index.js'
import { kvDelDraft, kvSetDraft, type OpBatch, type OpDraft, type OpSigner } from './ops/index.js'
import { OpStore, type KvEntry, type PairedDb, type ViewEntry } from './store/index.js'
import { StateSync, type SyncStore } from './sync/index.js'
import type { FloodListener } from '../net/limits.js'
import { CompactionSchedule } from './compaction-schedule.js'
import { GroupCommit } from './group-commit.js'

export { COMPACT_EVERY_OPS, COMPACT_WHEN_QUIET_MS } from './compaction-schedule.js'

const log = logger('paired:state')

export interface TeamStateInit {
  db: PairedDb
  node: PairedLibp2p
  teamId: string
  signer: OpSigner
  isVerified: (peer: string) => boolean
  /** a connected peer whose membership hello is still under way */
  isPending?: (peer: string) => boolean
  isMember: (peer: string) => boolean
  /** a member now or before (its ops belong in the log) */
  isKnownAuthor?: (author: string) => boolean
  /** kv:changed events go here; `wanted()` false skips the work of making them */
  emit: (type: string, data: unknown) => void
  wanted: () => boolean
  /** a peer pulled state past its rate limit */
  onFlood?: FloodListener
}

export function entryDoc (e: Pick<KvEntry, 'key' | 'value' | 'author' | 'hlc'>): KvEntryDoc {
  return { key: e.key, value: e.value, updatedBy: e.author, hlc: encodeHlc(e.hlc) }
}

export class TeamState implements SyncStore {
  readonly store: OpStore
  readonly sync: StateSync
  private readonly commits: GroupCommit
  private readonly compaction: CompactionSchedule
  private hash?: { value: string, version: number }
  /** bumped on every change: a hash computed across a change is not cached */
  private version = 0
  private vvDigest?: { value: string, version: number }
  private digesting = false
  private readonly lastPull = new Map<string, number>()

  constructor (private readonly init: TeamStateInit) {
    this.store = new OpStore({ db: init.db }, { teamId: init.teamId, signer: init.signer })
    this.commits = new GroupCommit({ store: this.store, committed: batches => { this.afterWrite(batches) } })
    this.compaction = new CompactionSchedule(this.store)
    this.sync = new StateSync({
      node: init.node,
      teamId: init.teamId,
      store: this,
      isVerified: init.isVerified,
      ...(init.isPending === undefined ? {} : { isPending: init.isPending }),
      ...(init.isKnownAuthor === undefined ? {} : { isKnownAuthor: init.isKnownAuthor }),
      isMember: init.isMember,
      ...(init.onFlood === undefined ? {} : { onFlood: init.onFlood })
    })
  }

  async start (): Promise<void> {
    await this.store.start()
    await this.sync.start()
  }

  async stop (): Promise<void> {
    await this.sync.stop()
    // let queued writes finish: they were promised an answer
    await this.commits.drained()
    await this.compaction.stop()
    await this.store.stop()
  }

  // --- SyncStore: what the sync layer calls -----------------------------------------

  async versionVector (): Promise<Record<string, number>> { return await this.store.versionVector() }

  batchesSince (author: string, fromSeq: number): AsyncIterable<{ author: string, fromSeq: number, toSeq: number }> {
    return this.store.batchesSince(author, fromSeq)
  }

  /** the stored records as their bytes: a pull is served without a parse and a stringify per record */
  rawBatchesSince (author: string, fromSeq: number): AsyncIterable<Uint8Array> {
    return this.store.rawBatchesSince(author, fromSeq)
  }

  /** `raw`: the JSON a pulled batch was parsed from, stored as is (no second stringify) */
  async ingest (batch: unknown, options: { fromGossip?: boolean, raw?: Uint8Array } = {}): Promise<{ applied: number, duplicate: boolean, gapFrom?: number }> {
    // a fold record (ops claimed superseded) is taken only from anti-entropy, never gossip
    const changed = this.init.wanted() ? new Map<string, ViewEntry>() : undefined
    const result = await this.store.ingest(batch, {
      acceptFolds: options.fromGossip !== true,
      ...(options.raw === undefined ? {} : { raw: options.raw }),
      ...(changed === undefined ? {} : { changed })
    })
    if (result.applied > 0) {
      this.version++
      this.compaction.counted(result.applied)
      if (changed !== undefined) this.announce(changed)
    }
    return result
  }

  /**
   * kv:changed for each key an ingest changed, with the entry that now holds it: taken
   * from the write itself (a catch-up read every key back once per op before), and
   * covering the records the ingest unblocked too
   */
  private announce (changed: ReadonlyMap<string, ViewEntry>): void {
    for (const [key, e] of changed) {
      this.init.emit('kv:changed', e.value === undefined
        ? { key, value: null, updatedBy: e.author, hlc: encodeHlc(e.hlc), deleted: true }
        : entryDoc({ key, value: e.value, author: e.author, hlc: e.hlc }))
    }
  }

  // --- local writes ----------------------------------------------------------------

  /**
   * Durable, signed, then published. Concurrent callers share one LevelDB write and one
   * fsync (group commit); each caller's ops stay together in that atomic write.
   */
  async write (drafts: OpDraft[]): Promise<OpBatch[]> {
    return await this.commits.write(drafts)
  }

  /** a local write is durable: count it, publish it, announce its keys */
  private afterWrite (batches: OpBatch[]): void {
    this.version++
    this.compaction.counted(batches.reduce((n, b) => n + b.ops.length, 0))
    for (const b of batches) void this.sync.publish(b)
    if (this.init.wanted()) {
      for (const op of batches.flatMap(b => b.ops)) {
        // task facts share the log: only kv ops are kv changes
        if (op.kind !== 'kv:set' && op.kind !== 'kv:del') continue
        const key = (op.body as { key: string }).key
        this.init.emit('kv:changed', op.kind === 'kv:del'
          ? { key, value: null, updatedBy: op.author, hlc: encodeHlc(op.hlc), deleted: true }
          : { key, value: (op.body as { value: unknown }).value, updatedBy: op.author, hlc: encodeHlc(op.hlc) })
      }
    }
  }

  // --- the kv API ------------------------------------------------------------------

  async kvSet (writes: KvWrite[]): Promise<KvEntryDoc[]> {
    const drafts = writes.map(w => kvSetDraft(w.key, w.value))
    const batches = await this.write(drafts)
    return batches.flatMap(b => b.ops).map(op => entryDoc({ key: (op.body as { key: string }).key, value: (op.body as { value: unknown }).value, author: op.author, hlc: op.hlc }))
  }

  async kvGet (key: string): Promise<KvEntryDoc> {
    const e = await this.store.kvEntry(key)
    if (e == null) throw new NotFoundError(`no key ${key}`)
    return entryDoc(e)
  }

  async kvList (prefix: string): Promise<KvEntryDoc[]> {
    return (await this.store.kvList(prefix)).map(entryDoc)
  }

  async kvDel (key: string): Promise<{ key: string, deleted: boolean }> {
    const existed = (await this.store.kvEntry(key)) != null
    await this.write([kvDelDraft(key)])
    return { key, deleted: existed }
  }

  /** the state hash, cached until the state changes */
  async stateHash (): Promise<string> {
    if (this.hash?.version === this.version) return this.hash.value
    const version = this.version
    const value = await this.store.stateHash()
    if (version === this.version) this.hash = { value, version }
    return value
  }

  /**
   * A short digest of the version vector, for heartbeats: equal digests mean equal
   * op sets, so equal state. Refreshed in the background after a change.
   */
  get digest (): string | undefined {
    if (this.vvDigest?.version !== this.version && !this.digesting) void this.refreshDigest()
    return this.vvDigest?.value
  }

  /** the digest of the version vector now (computed when stale) */
  async currentDigest (): Promise<string> {
    if (this.vvDigest?.version !== this.version) await this.refreshDigest()
    return this.vvDigest?.value ?? ''
  }

  private async refreshDigest (): Promise<void> {
    this.digesting = true
    try {
      const version = this.version
      const vv = await this.store.versionVector()
      const value = createHash('sha256').update(canonicalEncode(vv)).digest('base64url').slice(0, 16)
      this.vvDigest = { value, version }
    } finally {
      this.digesting = false
    }
  }

  /** a member's heartbeat says its state differs: pull from it, at most every 2 s */
  onPeerDigest (peer: string, digest: string): void {
    if (digest === this.vvDigest?.value) return
    const now = Date.now()
    if (now - (this.lastPull.get(peer) ?? 0) < 2_000) return
    this.lastPull.set(peer, now)
    this.sync.pull(peer)
  }

  /** pull from `peer` now (a member that just connected) */
  pullFrom (peer: string): void {
    log('anti-entropy with %s', peer)
    this.sync.pull(peer)
  }
}

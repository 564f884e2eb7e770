/**
 * The replicated state of one team, as the daemon uses it: the op store, its sync with the
 * other members, group commit of local writes, and `kv:changed` events.
 */
import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import type { KvEntryDoc, KvWrite } from '../model/docs.js'
import { NotFoundError } from '../errors.js'
import type { PairedLibp2p } from '../node/create-node.js'
import { canonicalEncode, encodeHlc } from './crdt/index.js'
import { kvDelDraft, kvSetDraft, type Op, type OpBatch, type OpDraft, type OpSigner } from './ops/index.js'
import { OpStore, type KvEntry, type PairedDb } from './store/index.js'
import { StateSync, type SyncStore } from './sync/index.js'
import type { FloodListener } from '../net/limits.js'

const log = logger('paired:state')

/** most ops one group commit takes; the store splits them into signed batches of ≤ 1000 */
const MAX_GROUP_OPS = 5_000
/**
 * fold superseded ops away after this many new ones, so that a member catching up
 * fetches what is live, not the whole history
 */
export const COMPACT_EVERY_OPS = 10_000
/** ...once the state has been quiet this long: never in the middle of a burst or a catch-up */
export const COMPACT_WHEN_QUIET_MS = 5_000

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

interface Pending {
  drafts: OpDraft[]
  resolve: (batches: OpBatch[]) => void
  reject: (err: unknown) => void
}

export function entryDoc (e: Pick<KvEntry, 'key' | 'value' | 'author' | 'hlc'>): KvEntryDoc {
  return { key: e.key, value: e.value, updatedBy: e.author, hlc: encodeHlc(e.hlc) }
}

export class TeamState implements SyncStore {
  readonly store: OpStore
  readonly sync: StateSync
  private queue: Pending[] = []
  private flushing = false
  private hash?: { value: string, version: number }
  /** bumped on every change: a hash computed across a change is not cached */
  private version = 0
  private vvDigest?: { value: string, version: number }
  private digesting = false
  private readonly lastPull = new Map<string, number>()
  private sinceCompaction = 0
  private compacting?: Promise<void>
  private compactTimer?: ReturnType<typeof setTimeout>

  constructor (private readonly init: TeamStateInit) {
    this.store = new OpStore({ db: init.db }, { teamId: init.teamId, signer: init.signer })
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
    while (this.flushing || this.queue.length > 0) await new Promise(resolve => setTimeout(resolve, 5))
    clearTimeout(this.compactTimer)
    await this.compacting
    await this.store.stop()
  }

  // --- SyncStore: what the sync layer calls -----------------------------------------

  async versionVector (): Promise<Record<string, number>> { return await this.store.versionVector() }

  batchesSince (author: string, fromSeq: number): AsyncIterable<{ author: string, fromSeq: number, toSeq: number }> {
    return this.store.batchesSince(author, fromSeq)
  }

  async ingest (batch: unknown, options: { fromGossip?: boolean } = {}): Promise<{ applied: number, duplicate: boolean, gapFrom?: number }> {
    // a fold record (ops claimed superseded) is taken only from anti-entropy, never gossip
    const result = await this.store.ingest(batch, { acceptFolds: options.fromGossip !== true })
    if (result.applied > 0) {
      this.version++
      this.counted(result.applied)
      if (this.init.wanted()) await this.announce(batch)
    }
    return result
  }

  /** kv:changed for each op of `batch` that now holds its key */
  private async announce (batch: unknown): Promise<void> {
    const ops = (batch as { ops?: Op[] }).ops
    if (!Array.isArray(ops)) return
    for (const op of ops) {
      const key = (op.body as { key?: unknown } | undefined)?.key
      if (typeof key !== 'string' || (op.kind !== 'kv:set' && op.kind !== 'kv:del')) continue
      const e = await this.store.kvEntry(key)
      if (op.kind === 'kv:del' && e == null) {
        this.init.emit('kv:changed', { key, value: null, updatedBy: op.author, hlc: encodeHlc(op.hlc), deleted: true })
      } else if (e != null && e.author === op.author && e.seq === op.seq) {
        this.init.emit('kv:changed', entryDoc(e))
      }
    }
  }

  // --- local writes ----------------------------------------------------------------

  /**
   * Durable, signed, then published. Concurrent callers share one LevelDB write and one
   * fsync (group commit); each caller's ops stay together in that atomic write.
   */
  async write (drafts: OpDraft[]): Promise<OpBatch[]> {
    return await new Promise((resolve, reject) => {
      this.queue.push({ drafts, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  private async flush (): Promise<void> {
    this.flushing = true
    try {
      while (this.queue.length > 0) {
        const group: Pending[] = []
        let ops = 0
        while (this.queue.length > 0 && (group.length === 0 || ops + this.queue[0].drafts.length <= MAX_GROUP_OPS)) {
          const p = this.queue.shift() as Pending
          group.push(p)
          ops += p.drafts.length
        }
        let batches: OpBatch[]
        try {
          // appended under the store's lock, made durable outside it: ingests go on during the fsync
          batches = await this.store.write(group.flatMap(p => p.drafts), { sync: false })
          await this.store.durable()
        } catch (err) {
          // one bad write must not sink the others: retry them one caller at a time
          if (group.length > 1) {
            for (const p of group) {
              try { p.resolve(this.afterWrite(await this.store.write(p.drafts))) } catch (e) { p.reject(e) }
            }
          } else {
            group[0].reject(err)
          }
          continue
        }
        this.afterWrite(batches)
        // hand each caller the ops that were its own, in order
        const all = batches.flatMap(b => b.ops)
        let at = 0
        for (const p of group) {
          const mine = all.slice(at, at + p.drafts.length)
          at += p.drafts.length
          p.resolve([{ ...batches[0], ops: mine }])
        }
      }
    } finally {
      this.flushing = false
    }
  }

  private afterWrite (batches: OpBatch[]): OpBatch[] {
    this.version++
    this.counted(batches.reduce((n, b) => n + b.ops.length, 0))
    for (const b of batches) void this.sync.publish(b)
    if (this.init.wanted()) {
      for (const op of batches.flatMap(b => b.ops)) {
        const key = (op.body as { key: string }).key
        this.init.emit('kv:changed', op.kind === 'kv:del'
          ? { key, value: null, updatedBy: op.author, hlc: encodeHlc(op.hlc), deleted: true }
          : { key, value: (op.body as { value: unknown }).value, updatedBy: op.author, hlc: encodeHlc(op.hlc) })
      }
    }
    return batches
  }

  private counted (ops: number): void {
    this.sinceCompaction += ops
    if (this.sinceCompaction < COMPACT_EVERY_OPS) return
    clearTimeout(this.compactTimer)
    this.compactTimer = setTimeout(() => { this.compact() }, COMPACT_WHEN_QUIET_MS)
    this.compactTimer.unref?.()
  }

  private compact (): void {
    if (this.compacting != null) return
    this.sinceCompaction = 0
    this.compacting = this.store.compact().then(r => {
      log('compacted: %d superseded ops dropped, %d → %d records', r.droppedOps, r.recordsBefore, r.recordsAfter)
    }, err => {
      log('compaction failed: %s', (err as Error).message)
    }).finally(() => { this.compacting = undefined })
  }

  // --- the kv API ------------------------------------------------------------------

  async kvSet (writes: KvWrite[]): Promise<KvEntryDoc[]> {
    const drafts = writes.map(w => kvSetDraft(w.key, w.value))
    const [batch] = await this.write(drafts)
    return batch.ops.map(op => entryDoc({ key: (op.body as { key: string }).key, value: (op.body as { value: unknown }).value, author: op.author, hlc: op.hlc }))
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

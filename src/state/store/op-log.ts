/**
 * The durable op log: per-author logs of signed batches, the materialised kv view, the
 * version vector, compaction and snapshots, over LevelDB.
 *
 * Every write is one atomic LevelDB batch holding the log record, the author's new head,
 * the view entries it changes and the clock, so a crash never leaves part of a batch.
 * Local writes use `sync: true` and resolve only once LevelDB has flushed its log, so
 * an acknowledged write survives `kill -9` (and power loss). Writes are serialised; reads
 * are not.
 */
import { isPlainObject } from '../../model/guards.js'
import { logger } from '@libp2p/logger'
import { HlcClock, compareHlc, type Hlc, type VersionVector } from '../crdt/index.js'
import {
  InvalidBatchError, batchOpHashes, inspectBatch, isFoldRecord, kvDelDraft, kvSetDraft, pruneBatch, signOps
} from '../ops/index.js'
import type { LogRecord, Op, OpBatch, OpDraft, OpSigner } from '../ops/index.js'
import { checkCoverage, checkOverlap, peekRange, prepare, storedHlc } from './checks.js'
import { compactAuthor, foldedLog, liveIn } from './compaction.js'
import type { PairedDb } from './db.js'
import { InvalidSnapshotError, NoSignerError, SeqConflictError } from './errors.js'
import {
  clockKey, headKey, headPrefix, kvKey, kvPrefix, opsKey, opsPrefix, prefixEnd, snapKey, syncKey, taskKey, taskPrefix
} from './keys.js'
import { VIEW_KINDS, asEntry, opId, viewChanges, type KvEntry, type ViewEntry } from './kv-view.js'
import { GapBuffer, type Prepared } from './pending.js'
import { SNAPSHOT_VERSION, checkSnapshot, snapshotHash, type Snapshot } from './snapshot.js'
import { DEFAULT_REOPEN_HEADROOM_BYTES, WriteGuard, type DbOp } from './write-guard.js'
import { ViewHash } from './view-hash.js'
import { isCreated, storedTaskRecord, taskChanges, taskIdOf } from './task-view.js'
import { DEFAULT_MAX_SKEW_MS, type TaskRecord } from '../crdt/index.js'

const log = logger('paired:store')

const AUTHOR_KEY_PATTERN = /^[\x21-\x2e\x30-\x7e]+$/ // printable, no '/'

export interface OpStoreComponents {
  db: PairedDb
}

export interface OpStoreInit {
  /** the team whose state this is: every key is under it */
  teamId: string
  /** signs this peer's own ops; without it the store only ingests and reads */
  signer?: OpSigner
  /** physical clock in ms. @default Date.now */
  now?: () => number
  /** remote records held while a gap is open. @default 256 */
  maxPendingBatches?: number
  /** bytes of remote records held while a gap is open. @default 64 MiB */
  maxPendingBytes?: number
  /** free space needed on top of the logs' size before reopening after a failed write. @default 1 MiB */
  reopenHeadroomBytes?: number
}

/** a task record a write changed: what it was (if it was created already) and what it is */
export interface TaskChange {
  before?: TaskRecord
  after: TaskRecord
}

export interface WriteOptions {
  /** flush LevelDB's log before resolving. @default true */
  sync?: boolean
}

export interface IngestOptions {
  /** @default false: remote ops can be fetched again, so they are not worth an fsync */
  sync?: boolean
  /** accept unsigned fold records (the sender vouches the ops in them are superseded). @default true */
  acceptFolds?: boolean
}

/** What `ingest` did with one record. */
export interface IngestResult {
  /** seqs newly covered: ops applied, plus those the record says are superseded */
  applied: number
  /** the record was already covered: nothing changed */
  duplicate: boolean
  /** the author's first missing seq, when the record starts past it */
  gapFrom?: number
  /** with `gapFrom`: the record is held in memory until the gap is filled */
  buffered?: boolean
}

export interface CompactResult {
  /** superseded ops whose records were deleted or pruned */
  droppedOps: number
  recordsBefore: number
  recordsAfter: number
  /** the fold point */
  vv: VersionVector
}

export class OpStore {
  private readonly db: PairedDb
  private readonly teamId: string
  private readonly signer?: OpSigner
  private readonly now: () => number
  private readonly heads = new Map<string, number>()
  private readonly pending: GapBuffer
  private clock?: HlcClock
  private loading?: Promise<void>
  private queue: Promise<unknown> = Promise.resolve()
  private readonly guard: WriteGuard
  private readonly viewHash = new ViewHash()
  private barriers = 0
  private readonly ingesting = new Map<string, Promise<IngestResult>>()
  /** called after each durable write that changed task records (with the ops it applied) */
  onTasks?: (changes: TaskChange[], ops: Op[]) => void

  constructor (components: OpStoreComponents, init: OpStoreInit) {
    this.db = components.db
    this.teamId = init.teamId
    this.signer = init.signer
    this.now = init.now ?? Date.now
    this.guard = new WriteGuard(this.db, init.reopenHeadroomBytes ?? DEFAULT_REOPEN_HEADROOM_BYTES, async () => this.load())
    this.pending = new GapBuffer(init.maxPendingBatches, init.maxPendingBytes)
  }

  /** Loads the heads and the clock. Idempotent; every method calls it. */
  async start (): Promise<void> {
    this.loading ??= this.load().catch(err => {
      this.loading = undefined
      throw err
    })
    await this.loading
  }

  /** Waits for the writes in flight. The database stays open: its owner closes it. */
  async stop (): Promise<void> {
    await this.queue.catch(() => {})
  }

  // ---- writing ----

  /**
   * Stores a signed batch continuing its author's log (`fromSeq === head + 1`), with the
   * view updates, in one atomic write; with `sync` (default) it resolves once durable.
   * Throws `InvalidBatchError`, `SeqConflictError`, `StoreFullError`, `StoreWriteError`.
   */
  async append (batch: OpBatch, options: WriteOptions = {}): Promise<OpBatch> {
    await this.start()
    const checked = inspectBatch(batch, this.teamId)
    if (checked.batch.hashes !== undefined) throw new InvalidBatchError('append takes a full batch, not a pruned one')
    const { author, fromSeq, toSeq } = checked.batch
    return this.exclusive(async () => {
      const head = this.head(author)
      if (fromSeq !== head + 1) {
        throw new SeqConflictError(`batch ${fromSeq}..${toSeq} of ${author} does not continue its log at seq ${head}`)
      }
      await this.applyRecords([{ record: checked.batch, ops: checked.batch.ops }], options.sync ?? true)
      return checked.batch
    })
  }

  /**
   * Authors ops: gives them the next seqs and hlcs, signs them (as several batches when
   * they exceed one batch's limits) and stores them all in one atomic write. Throws
   * `NoSignerError`, `ValueTooLargeError`, `InvalidOpError`, `StoreFullError`, `StoreWriteError`.
   */
  async write (drafts: OpDraft[], options: WriteOptions = {}): Promise<OpBatch[]> {
    const signer = this.signer
    if (signer === undefined) throw new NoSignerError('this store has no signer: it cannot author ops')
    for (const draft of drafts) {
      if (draft.kind === 'kv:set' && isPlainObject(draft.body)) kvSetDraft(draft.body.key as string, draft.body.value)
    }
    if (drafts.length === 0) return []
    await this.start()
    return this.exclusive(async () => {
      const clock = this.clock as HlcClock
      const head = this.head(signer.peerId)
      const now = this.now()
      const ops: Op[] = drafts.map((draft, i) => ({
        author: signer.peerId, seq: head + 1 + i, hlc: clock.now(now), kind: draft.kind, body: draft.body
      }))
      const batches = signOps(ops, signer, this.teamId)
      await this.applyRecords(batches.map(b => ({ record: b, ops: b.ops })), options.sync ?? true)
      return batches
    })
  }

  /**
   * Makes every write before it durable: one tiny write with `sync: true`, which flushes
   * LevelDB's log, and with it every record appended before. Not under the store's
   * exclusive lock, so ingests and reads go on while the disk flushes: a caller can
   * `write(…, { sync: false })`, then `durable()`, then acknowledge.
   */
  async durable (): Promise<void> {
    await this.guard.batch([{ type: 'put', key: syncKey(this.teamId), value: ++this.barriers }], true)
  }

  /** Sets a kv key (value: any JSON up to 1 MiB encoded, else `ValueTooLargeError`). */
  async kvSet (key: string, value: unknown, options?: WriteOptions): Promise<OpBatch> {
    return (await this.write([kvSetDraft(key, value)], options))[0]
  }

  /** Deletes a kv key. */
  async kvDel (key: string, options?: WriteOptions): Promise<OpBatch> {
    return (await this.write([kvDelDraft(key)], options))[0]
  }

  /**
   * Applies a remote record: verifies it (a batch's signature; a fold record's shape),
   * skips what the author's head already covers, and applies the rest when it continues
   * the head. A record past the head is held until the gap fills (`gapFrom` tells the
   * caller what to pull). Throws `InvalidBatchError` for anything that does not verify,
   * `ConflictingOpError` when the author signed other ops for seqs already stored, and
   * the write errors.
   */
  async ingest (input: unknown, options: IngestOptions = {}): Promise<IngestResult> {
    await this.start()
    const peek = peekRange(input)
    if (peek !== undefined && peek.toSeq <= this.head(peek.author)) return { applied: 0, duplicate: true }
    // the same record arriving twice at once (a direct message and gossip): verify and apply it once
    const sig = isPlainObject(input) && typeof input.sig === 'string' ? input.sig : undefined
    const key = peek === undefined || sig === undefined ? undefined : `${peek.author}\n${peek.toSeq}\n${sig}`
    const same = key === undefined ? undefined : this.ingesting.get(key)
    if (same !== undefined && await same.then(() => true, () => false)) return { applied: 0, duplicate: true }
    const run = (async () => {
      const prepared = prepare(input, options.acceptFolds ?? true, this.teamId)
      // an op dated far ahead would win every later write to its key: refused (it can come
      // back by anti-entropy once the clocks agree)
      const limit = this.now() + DEFAULT_MAX_SKEW_MS
      const ahead = prepared.ops.find(op => op.hlc.wall > limit)
      if (ahead !== undefined) {
        throw new InvalidBatchError(`op ${ahead.seq} of ${ahead.author} is dated ${Math.round((ahead.hlc.wall - this.now()) / 1000)} s in the future (more than ${DEFAULT_MAX_SKEW_MS / 1000} s of clock skew)`)
      }
      return await this.exclusive(async () => this.ingestPrepared(prepared, options.sync ?? false))
    })()
    if (key === undefined) return await run
    this.ingesting.set(key, run)
    try {
      return await run
    } finally {
      this.ingesting.delete(key)
    }
  }

  private async ingestPrepared (p: Prepared, sync: boolean): Promise<IngestResult> {
    const { author, fromSeq, toSeq } = p.record
    const head = this.head(author)
    if (toSeq <= head) return { applied: 0, duplicate: true }
    if (isFoldRecord(p.record) || fromSeq > head + 1) {
      // a gap, or a fold waiting for its signed successor: hold it, then see whether
      // what is held now continues the head
      const buffered = this.pending.add(p)
      const applied = await this.drain(author, sync)
      if (applied > 0) return { applied, duplicate: false }
      const now = this.head(author)
      if (fromSeq > now + 1) return { applied: 0, duplicate: false, gapFrom: now + 1, buffered }
      return { applied: 0, duplicate: false, buffered }
    }
    const applied = await this.applyChain([p], head, sync)
    return { applied: applied + await this.drain(author, sync), duplicate: false }
  }

  /**
   * Applies what is held for `author` and now continues its head. A failure is logged,
   * not thrown: the caller's own record is already stored, and anti-entropy fetches the
   * dropped ones again.
   */
  private async drain (author: string, sync: boolean): Promise<number> {
    let applied = 0
    for (;;) {
      const chain = this.pending.chain(author, this.head(author))
      if (chain === undefined) break
      for (const p of chain) this.pending.remove(p)
      try {
        applied += await this.applyChain(chain, this.head(author), sync)
      } catch (err) {
        log('held records of %s dropped: %s', author, (err as Error).message)
        break
      }
    }
    return applied
  }

  /**
   * Applies, in one atomic write, records of one author that each continue the one
   * before, from `head` (folds, then a signed batch; or one batch). Parts already covered
   * are trimmed. Returns the seqs newly covered.
   */
  private async applyChain (chain: Prepared[], head: number, sync: boolean): Promise<number> {
    const items: Array<{ record: LogRecord, ops: Op[] }> = []
    let at = head
    for (const p of chain) {
      let record = p.record
      if (isFoldRecord(record)) {
        if (record.fromSeq <= at) record = { ...record, fromSeq: at + 1 }
        items.push({ record, ops: [] })
      } else {
        if (record.fromSeq <= at) {
          await checkOverlap(this.db, this.teamId, record, p.hashes ?? batchOpHashes(record), at)
          const from = at
          record = pruneBatch(record, op => op.seq > from)
        }
        const from = at
        items.push({ record, ops: record.ops.filter(op => op.seq > from) })
      }
      at = record.toSeq
    }
    await this.applyRecords(items, sync)
    return at - head
  }

  /**
   * One atomic LevelDB write: the records, the heads they advance, the view entries
   * their ops change and the clock. In-memory state changes only once it succeeded.
   */
  private async applyRecords (items: Array<{ record: LogRecord, ops: Op[] }>, sync: boolean): Promise<void> {
    const ops = items.flatMap(item => item.ops)
    const current = await this.currentEntries(ops)
    const before = new Map(current)
    const changes = viewChanges(ops, current)
    const tasksBefore = await this.currentTasks(ops)
    const tasks = taskChanges(ops, tasksBefore)
    const heads = new Map<string, number>()
    const writes: DbOp[] = []
    for (const { record } of items) {
      writes.push({ type: 'put', key: opsKey(this.teamId, record.author, record.toSeq), value: record })
      heads.set(record.author, Math.max(heads.get(record.author) ?? 0, record.toSeq))
    }
    for (const [author, seq] of heads) writes.push({ type: 'put', key: headKey(this.teamId, author), value: seq })
    for (const [key, entry] of changes) writes.push({ type: 'put', key: kvKey(this.teamId, key), value: entry })
    for (const [id, record] of tasks) writes.push({ type: 'put', key: taskKey(this.teamId, id), value: record })
    const clock = this.clock
    if (clock !== undefined) {
      const latest = ops.filter(op => op.author !== clock.node).reduce<Hlc | undefined>(
        (max, op) => max === undefined || compareHlc(op.hlc, max) > 0 ? op.hlc : max, undefined)
      if (latest !== undefined) {
        try { clock.receive(latest, this.now()) } catch { /* a clock far ahead does not drag ours along */ }
      }
      writes.push({ type: 'put', key: clockKey(this.teamId), value: clock.peek() })
    }
    await this.guard.batch(writes, sync)
    for (const [author, seq] of heads) this.heads.set(author, seq)
    this.viewHash.apply(changes, before)
    this.viewHash.applyTasks(tasks, tasksBefore)
    if (tasks.size > 0 && this.onTasks !== undefined) {
      const changed: TaskChange[] = []
      for (const [id, after] of tasks) {
        if (!isCreated(after)) continue
        const before = tasksBefore.get(id)
        changed.push(before !== undefined && isCreated(before) ? { before, after } : { after })
      }
      if (changed.length > 0) this.onTasks(changed, ops)
    }
  }

  private async currentTasks (ops: Op[]): Promise<Map<string, TaskRecord>> {
    const ids = [...new Set(ops.flatMap(op => { const id = taskIdOf(op); return id === undefined ? [] : [id] }))]
    const current = new Map<string, TaskRecord>()
    if (ids.length === 0) return current
    const values = await this.readable(async () => this.db.getMany(ids.map(id => taskKey(this.teamId, id))))
    ids.forEach((id, i) => {
      const value = values[i]
      if (isPlainObject(value)) current.set(id, storedTaskRecord(value))
    })
    return current
  }

  private async currentEntries (ops: Op[]): Promise<Map<string, ViewEntry>> {
    const keys = [...new Set(ops.flatMap(op => {
      if (!VIEW_KINDS.has(op.kind)) return []
      return [(op.body as { key: string }).key]
    }))]
    const current = new Map<string, ViewEntry>()
    if (keys.length === 0) return current
    const values = await this.readable(async () => this.db.getMany(keys.map(k => kvKey(this.teamId, k))))
    keys.forEach((key, i) => {
      const entry = asEntry(values[i])
      if (entry !== undefined) current.set(key, entry)
    })
    return current
  }

  private async readable<T> (fn: () => Promise<T>): Promise<T> {
    await this.guard.readable()
    return fn()
  }

  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  private async load (): Promise<void> {
    // the view may hold writes we did not see applied (a reopen after a failed write)
    this.viewHash.reset()
    const prefix = headPrefix(this.teamId)
    this.heads.clear()
    for await (const [key, value] of this.db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
      if (typeof value === 'number') this.heads.set(key.slice(prefix.length), value)
    }
    if (this.signer !== undefined && this.clock === undefined) {
      this.clock = new HlcClock({ node: this.signer.peerId, last: storedHlc(await this.db.get(clockKey(this.teamId)), this.signer.peerId) })
    }
  }

  private head (author: string): number {
    return this.heads.get(author) ?? 0
  }

  // ---- reading ----

  /** author → highest contiguous seq applied, authors sorted. */
  async versionVector (): Promise<VersionVector> {
    await this.start()
    return Object.fromEntries([...this.heads].filter(([, seq]) => seq > 0).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  }

  /** The highest contiguous seq of `author` applied (0 if none). */
  async headOf (author: string): Promise<number> {
    await this.start()
    return this.head(author)
  }

  /**
   * The stored records of `author` from the one holding `fromSeq` on, in seq order, at
   * most `limit` of them: what anti-entropy streams. Reads lazily from a LevelDB
   * iterator, so memory stays bounded whatever the log's length. Below the last
   * compaction's fold point, records are pruned batches and fold records.
   */
  async * opsSince (author: string, fromSeq = 1, limit = Infinity): AsyncGenerator<LogRecord> {
    await this.start()
    if (!AUTHOR_KEY_PATTERN.test(author) || !(limit > 0)) return
    const from = Number.isSafeInteger(fromSeq) && fromSeq > 1 ? fromSeq : 1
    const prefix = opsPrefix(this.teamId, author)
    let n = 0
    for await (const value of await this.readable(async () => this.db.values({ gte: opsKey(this.teamId, author, from), lt: prefixEnd(prefix) }))) {
      yield value as LogRecord
      if (++n >= limit) return
    }
  }

  /** `opsSince` under the name the sync layer's `SyncStore` uses. */
  batchesSince (author: string, fromSeq: number): AsyncGenerator<LogRecord> {
    return this.opsSince(author, fromSeq)
  }

  /** The live value of a kv key, or `undefined`. */
  async kvGet (key: string): Promise<unknown> {
    return (await this.kvEntry(key))?.value
  }

  /** The live entry of a kv key (value and the write that set it), or `undefined`. */
  async kvEntry (key: string): Promise<KvEntry | undefined> {
    await this.start()
    const entry = asEntry(await this.readable(async () => this.db.get(kvKey(this.teamId, key))))
    if (entry === undefined || entry.value === undefined) return undefined
    return { key, value: entry.value, hlc: entry.hlc, author: entry.author, seq: entry.seq }
  }

  /** Live entries whose key starts with `prefix`, in key order, at most `limit`. */
  async kvList (prefix = '', limit = Infinity): Promise<KvEntry[]> {
    const out: KvEntry[] = []
    if (!(limit > 0)) return out
    for await (const entry of this.kvEntries(prefix)) {
      out.push(entry)
      if (out.length >= limit) break
    }
    return out
  }

  /** Every live entry (under `prefix`), streamed in key order. */
  async * kvEntries (prefix = ''): AsyncGenerator<KvEntry> {
    await this.start()
    for await (const [key, entry] of this.viewEntries(prefix)) {
      if (entry.value !== undefined) yield { key, value: entry.value, hlc: entry.hlc, author: entry.author, seq: entry.seq }
    }
  }

  /** The record of a task, or `undefined` if its `task:create` has not arrived. */
  async task (taskId: string): Promise<TaskRecord | undefined> {
    await this.start()
    const value = await this.readable(async () => this.db.get(taskKey(this.teamId, taskId)))
    if (!isPlainObject(value)) return undefined
    const record = storedTaskRecord(value)
    return isCreated(record) ? record : undefined
  }

  /** Every created task, in task id order. */
  async * tasks (): AsyncGenerator<TaskRecord> {
    for await (const [, record] of this.taskEntries()) if (isCreated(record)) yield record
  }

  private async * taskEntries (): AsyncGenerator<[string, TaskRecord]> {
    await this.start()
    await this.guard.readable()
    const base = taskPrefix(this.teamId)
    for await (const [key, value] of this.db.iterator({ gte: base, lt: prefixEnd(base) })) {
      if (isPlainObject(value)) yield [key.slice(base.length), storedTaskRecord(value)]
    }
  }

  private async * viewEntries (prefix = ''): AsyncGenerator<[string, ViewEntry]> {
    const base = kvPrefix(this.teamId)
    const iterator = await this.readable(async () => this.db.iterator({ gte: base + prefix, lt: prefixEnd(base) }))
    for await (const [stored, value] of iterator) {
      const key = stored.slice(base.length)
      if (!key.startsWith(prefix)) break
      const entry = asEntry(value)
      if (entry !== undefined) yield [key, entry]
    }
  }

  /**
   * A hash of the kv view (tombstones included): equal on every replica that applied the
   * same ops, whatever their order. Kept incrementally (see `ViewHash`): one scan of the
   * view after start, then O(1).
   */
  async stateHash (): Promise<string> {
    await this.start()
    if (!this.viewHash.known) {
      await this.exclusive(async () => {
        if (this.viewHash.known) return
        await this.viewHash.setFrom(this.viewEntries(), this.taskEntries())
      })
    }
    return this.viewHash.hex()
  }

  // ---- compaction and snapshots ----

  /**
   * Folds superseded ops away: every record whose ops are all superseded in the view is
   * replaced, with its dead neighbours, by one fold record; a record with some live ops
   * is pruned to them (its signed hash list kept). The fold point (the version vector
   * now) is recorded under `snap/<teamId>`. Each step is its own atomic write, so a crash
   * mid-way leaves a consistent, partly compacted log.
   */
  async compact (): Promise<CompactResult> {
    await this.start()
    return this.exclusive(async () => {
      const isLive = liveIn(await this.liveOps())
      const vv = await this.versionVector()
      const total: CompactResult = { droppedOps: 0, recordsBefore: 0, recordsAfter: 0, vv }
      for (const author of Object.keys(vv)) {
        const done = await compactAuthor(this.db, this.teamId, author, isLive, async writes => this.guard.batch(writes, false))
        total.droppedOps += done.droppedOps
        total.recordsBefore += done.recordsBefore
        total.recordsAfter += done.recordsAfter
      }
      await this.guard.batch([{ type: 'put', key: snapKey(this.teamId), value: { vv, at: this.now(), droppedOps: total.droppedOps } }], true)
      return total
    })
  }

  /**
   * A snapshot of the state now: the version vector and every author's log folded as
   * `compact` would (without changing the store). Its size follows the live state, not
   * the history. Held in memory: for a very large state, stream `opsSince` after
   * `compact` instead (same records, same trust). See `snapshot.ts` for what it trusts.
   */
  async exportSnapshot (): Promise<Snapshot> {
    await this.start()
    return this.exclusive(async () => {
      const isLive = liveIn(await this.liveOps())
      const vv = await this.versionVector()
      const records: LogRecord[] = []
      for (const author of Object.keys(vv)) records.push(...await foldedLog(this.db, this.teamId, author, isLive))
      const content = { v: SNAPSHOT_VERSION, teamId: this.teamId, vv, records }
      return { ...content, hash: snapshotHash(content) }
    })
  }

  /**
   * Starts from (or catches up with) a snapshot: checks its shape, team and content hash
   * (and `expectedHash`, e.g. one a second member reported), verifies every record and
   * that, per author, they cover `1..vv[author]` without a gap, then ingests them. Ops
   * after the snapshot arrive by ordinary ingest. Throws `InvalidSnapshotError`.
   */
  async importSnapshot (input: unknown, options: { expectedHash?: string } = {}): Promise<{ applied: number }> {
    await this.start()
    const snap = checkSnapshot(input, this.teamId)
    if (options.expectedHash !== undefined && options.expectedHash !== snap.hash) {
      throw new InvalidSnapshotError('the snapshot hash is not the one expected')
    }
    const prepared = snap.records.map((record, i) => {
      try {
        return prepare(record, true, this.teamId)
      } catch (err) {
        throw new InvalidSnapshotError(`snapshot record ${i}: ${(err as Error).message}`)
      }
    })
    checkCoverage(prepared, snap.vv)
    return this.exclusive(async () => {
      let applied = 0
      for (const p of prepared) applied += (await this.ingestPrepared(p, false)).applied
      return { applied }
    })
  }

  /** The ops the kv view still points at. */
  private async liveOps (): Promise<Set<string>> {
    const live = new Set<string>()
    for await (const [, entry] of this.viewEntries()) live.add(opId(entry.author, entry.seq))
    return live
  }
}

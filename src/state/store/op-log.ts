/**
 * The durable op log: per-author logs of signed batches, the materialised kv view, the
 * version vector, compaction and snapshots, over LevelDB.
 *
 * Every write is one atomic LevelDB batch holding the log record, the author's new head,
 * the view entries it changes and the clock, so a crash never leaves part of a batch.
 * Local writes use `sync: true` and resolve only once LevelDB has flushed its log, so
 * an acknowledged write survives `kill -9` (and power loss). Writes are serialised; reads
 * are not.
 *
 * `OpStore` is the public face and the local write path; its rooms: `log-core.ts` (heads,
 * clock, write queue, the one atomic write), `ingest.ts` (remote records, the gap buffer,
 * snapshot import), `reads.ts` (views and queries), `compaction.ts` (compaction, snapshot
 * export).
 */
import { isPlainObject } from '../../model/guards.js'
import type { HlcClock, TaskRecord, VersionVector } from '../crdt/index.js'
import { InvalidBatchError, inspectBatch, kvDelDraft, kvSetDraft, signOps } from '../ops/index.js'
import type { LogRecord, Op, OpBatch, OpDraft } from '../ops/index.js'
import { compactLog, exportSnapshotOf } from './compaction.js'
import { NoSignerError, SeqConflictError } from './errors.js'
import { Ingester } from './ingest.js'
import type { KvEntry } from './kv-view.js'
import { LogCore } from './log-core.js'
import { kvEntryOf, liveEntries, rawRecordsSince, recordsSince, stateHashOf, taskEntries, taskOf, versionVectorOf } from './reads.js'
import { isCreated } from './task-view.js'
import type { Snapshot } from './snapshot.js'
import type {
  CompactResult, IngestOptions, IngestResult, OpStoreComponents, OpStoreInit, TaskChange, WriteOptions
} from './types.js'

export type {
  CompactResult, IngestOptions, IngestResult, OpStoreComponents, OpStoreInit, TaskChange, WriteOptions
} from './types.js'

export class OpStore {
  private readonly core: LogCore
  private readonly ingester: Ingester

  constructor (components: OpStoreComponents, init: OpStoreInit) {
    this.core = new LogCore(components.db, init)
    this.ingester = new Ingester(this.core, init.maxPendingBatches, init.maxPendingBytes)
  }

  /** called after each durable write that changed task records (with the ops it applied) */
  get onTasks (): ((changes: TaskChange[], ops: Op[]) => void) | undefined {
    return this.core.onTasks
  }

  set onTasks (listener: ((changes: TaskChange[], ops: Op[]) => void) | undefined) {
    this.core.onTasks = listener
  }

  /** Loads the heads and the clock. Idempotent; every method calls it. */
  async start (): Promise<void> {
    await this.core.start()
  }

  /** Waits for the writes in flight. The database stays open: its owner closes it. */
  async stop (): Promise<void> {
    await this.core.stop()
  }

  // ---- writing ----

  /**
   * Stores a signed batch continuing its author's log (`fromSeq === head + 1`), with the
   * view updates, in one atomic write; with `sync` (default) it resolves once durable.
   * Throws `InvalidBatchError`, `SeqConflictError`, `StoreFullError`, `StoreWriteError`.
   */
  async append (batch: OpBatch, options: WriteOptions = {}): Promise<OpBatch> {
    const core = this.core
    await core.start()
    const checked = inspectBatch(batch, core.teamId)
    if (checked.batch.hashes !== undefined) throw new InvalidBatchError('append takes a full batch, not a pruned one')
    const { author, fromSeq, toSeq } = checked.batch
    return core.exclusive(async () => {
      const head = core.head(author)
      if (fromSeq !== head + 1) {
        throw new SeqConflictError(`batch ${fromSeq}..${toSeq} of ${author} does not continue its log at seq ${head}`)
      }
      await core.applyRecords([{ record: checked.batch, ops: checked.batch.ops }], options.sync ?? true)
      return checked.batch
    })
  }

  /**
   * Authors ops: gives them the next seqs and hlcs, signs them (as several batches when
   * they exceed one batch's limits) and stores them all in one atomic write. Throws
   * `NoSignerError`, `ValueTooLargeError`, `InvalidOpError`, `StoreFullError`, `StoreWriteError`.
   */
  async write (drafts: OpDraft[], options: WriteOptions = {}): Promise<OpBatch[]> {
    const core = this.core
    const signer = core.signer
    if (signer === undefined) throw new NoSignerError('this store has no signer: it cannot author ops')
    for (const draft of drafts) {
      if (draft.kind === 'kv:set' && isPlainObject(draft.body)) kvSetDraft(draft.body.key as string, draft.body.value)
    }
    if (drafts.length === 0) return []
    await core.start()
    return core.exclusive(async () => {
      const clock = core.clock as HlcClock
      const head = core.head(signer.peerId)
      const now = core.now()
      const ops: Op[] = drafts.map((draft, i) => ({
        author: signer.peerId, seq: head + 1 + i, hlc: clock.now(now), kind: draft.kind, body: draft.body
      }))
      const batches = signOps(ops, signer, core.teamId)
      await core.applyRecords(batches.map(b => ({ record: b, ops: b.ops })), options.sync ?? true)
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
    await this.core.durable()
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
    return await this.ingester.ingest(input, options)
  }

  // ---- reading ----

  /** author → highest contiguous seq applied, authors sorted. */
  async versionVector (): Promise<VersionVector> {
    await this.core.start()
    return versionVectorOf(this.core)
  }

  /** The highest contiguous seq of `author` applied (0 if none). */
  async headOf (author: string): Promise<number> {
    await this.core.start()
    return this.core.head(author)
  }

  /**
   * The stored records of `author` from the one holding `fromSeq` on, in seq order, at
   * most `limit` of them: what anti-entropy streams. Reads lazily from a LevelDB
   * iterator, so memory stays bounded whatever the log's length. Below the last
   * compaction's fold point, records are pruned batches and fold records.
   */
  opsSince (author: string, fromSeq = 1, limit = Infinity): AsyncGenerator<LogRecord> {
    return recordsSince(this.core, author, fromSeq, limit)
  }

  /** `opsSince` under the name the sync layer's `SyncStore` uses. */
  batchesSince (author: string, fromSeq: number): AsyncGenerator<LogRecord> {
    return this.opsSince(author, fromSeq)
  }

  /** `batchesSince` as the stored UTF-8 JSON of each record, for sending on unparsed. */
  rawBatchesSince (author: string, fromSeq: number): AsyncGenerator<Uint8Array> {
    return rawRecordsSince(this.core, author, fromSeq)
  }

  /** The live value of a kv key, or `undefined`. */
  async kvGet (key: string): Promise<unknown> {
    return (await this.kvEntry(key))?.value
  }

  /** The live entry of a kv key (value and the write that set it), or `undefined`. */
  async kvEntry (key: string): Promise<KvEntry | undefined> {
    return await kvEntryOf(this.core, key)
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
  kvEntries (prefix = ''): AsyncGenerator<KvEntry> {
    return liveEntries(this.core, prefix)
  }

  /** The record of a task, or `undefined` if its `task:create` has not arrived. */
  async task (taskId: string): Promise<TaskRecord | undefined> {
    return await taskOf(this.core, taskId)
  }

  /** Every created task, in task id order. */
  async * tasks (): AsyncGenerator<TaskRecord> {
    for await (const [, record] of taskEntries(this.core)) if (isCreated(record)) yield record
  }

  /**
   * A hash of the kv view (tombstones included): equal on every replica that applied the
   * same ops, whatever their order. Kept incrementally (see `ViewHash`): one scan of the
   * view after start, then O(1).
   */
  async stateHash (): Promise<string> {
    return await stateHashOf(this.core)
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
    return await compactLog(this.core)
  }

  /**
   * A snapshot of the state now: the version vector and every author's log folded as
   * `compact` would (without changing the store). Its size follows the live state, not
   * the history. Held in memory: for a very large state, stream `opsSince` after
   * `compact` instead (same records, same trust). See `snapshot.ts` for what it trusts.
   */
  async exportSnapshot (): Promise<Snapshot> {
    return await exportSnapshotOf(this.core)
  }

  /**
   * Starts from (or catches up with) a snapshot: checks its shape, team and content hash
   * (and `expectedHash`, e.g. one a second member reported), verifies every record and
   * that, per author, they cover `1..vv[author]` without a gap, then ingests them. Ops
   * after the snapshot arrive by ordinary ingest. Throws `InvalidSnapshotError`.
   */
  async importSnapshot (input: unknown, options: { expectedHash?: string } = {}): Promise<{ applied: number }> {
    return await this.ingester.importSnapshot(input, options)
  }
}

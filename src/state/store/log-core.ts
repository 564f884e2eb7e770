/**
 * The op log's core, which its rooms share: the authors' heads, this peer's clock, the
 * write queue, the write guard, the incremental view hash, and the one atomic write every
 * change goes through (`applyRecords`). `op-log.ts` (the write path and the public face),
 * `ingest.ts` (remote records, the gap buffer, snapshot import), `reads.ts` (views and
 * queries) and `compaction.ts` (compaction, snapshot export) all work through it.
 *
 * Every write is one atomic LevelDB batch holding the log records, the authors' new heads,
 * the view entries they change and the clock, so a crash never leaves part of a batch.
 * In-memory state changes only once that write succeeded. Writes are serialised by
 * `exclusive`; reads are not.
 */
import { isPlainObject } from '../../model/guards.js'
import { HlcClock, compareHlc, type Hlc, type TaskRecord } from '../crdt/index.js'
import type { LogRecord, Op, OpSigner } from '../ops/index.js'
import { storedHlc } from './checks.js'
import type { PairedDb } from './db.js'
import { clockKey, headKey, headPrefix, kvKey, opsKey, prefixEnd, syncKey, taskKey } from './keys.js'
import { VIEW_KINDS, asEntry, viewChanges, type ViewEntry } from './kv-view.js'
import { isCreated, storedTaskRecord, taskChanges, taskIdOf } from './task-view.js'
import type { OpStoreInit, TaskChange } from './types.js'
import { ViewHash } from './view-hash.js'
import { DEFAULT_REOPEN_HEADROOM_BYTES, WriteGuard, type DbOp } from './write-guard.js'

/** records to store in one atomic write, with the ops each applies (none for a fold) */
export type RecordItem = { record: LogRecord, ops: Op[], raw?: Uint8Array }

export class LogCore {
  readonly db: PairedDb
  readonly teamId: string
  readonly signer?: OpSigner
  readonly now: () => number
  readonly guard: WriteGuard
  readonly viewHash = new ViewHash()
  /** this peer's clock: set by `start` when the store has a signer */
  clock?: HlcClock
  /** called after each durable write that changed task records (with the ops it applied) */
  onTasks?: (changes: TaskChange[], ops: Op[]) => void
  private readonly heads = new Map<string, number>()
  private loading?: Promise<void>
  private queue: Promise<unknown> = Promise.resolve()
  private barriers = 0

  constructor (db: PairedDb, init: OpStoreInit) {
    this.db = db
    this.teamId = init.teamId
    this.signer = init.signer
    this.now = init.now ?? Date.now
    this.guard = new WriteGuard(this.db, init.reopenHeadroomBytes ?? DEFAULT_REOPEN_HEADROOM_BYTES, async () => this.load())
  }

  /** Loads the heads and the clock. Idempotent; every public method calls it. */
  async start (): Promise<void> {
    this.loading ??= this.load().catch(err => {
      this.loading = undefined
      throw err
    })
    await this.loading
  }

  /** Waits for the writes in flight. */
  async stop (): Promise<void> {
    await this.queue.catch(() => {})
  }

  /** The highest contiguous seq of `author` applied (0 if none). */
  head (author: string): number {
    return this.heads.get(author) ?? 0
  }

  /** every author's head, in no particular order */
  allHeads (): Array<[string, number]> {
    return [...this.heads]
  }

  /** One tiny synced write: every write before it is durable once it resolves. Not exclusive. */
  async durable (): Promise<void> {
    await this.guard.batch([{ type: 'put', key: syncKey(this.teamId), value: ++this.barriers }], true)
  }

  /** Runs `fn` after every exclusive call before it (the write queue). */
  async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  /** Runs `fn` once the database is open (it may be reopening after a failed write). */
  async readable<T> (fn: () => Promise<T>): Promise<T> {
    await this.guard.readable()
    return fn()
  }

  /**
   * One atomic LevelDB write: the records, the heads they advance, the view entries
   * their ops change and the clock. In-memory state changes only once it succeeded.
   * Call it under `exclusive`. Resolves with the view entries it changed (key → the new winner).
   */
  async applyRecords (items: RecordItem[], sync: boolean): Promise<ReadonlyMap<string, ViewEntry>> {
    const ops = items.flatMap(item => item.ops)
    // read only: what the view held before this write, for the view hash to take out
    const current = await this.currentEntries(ops)
    const changes = viewChanges(ops, current)
    const tasksBefore = await this.currentTasks(ops)
    const tasks = taskChanges(ops, tasksBefore)
    const heads = new Map<string, number>()
    const writes: DbOp[] = []
    for (const { record, raw } of items) {
      const key = opsKey(this.teamId, record.author, record.toSeq)
      // a record received as JSON is stored as that JSON: no second stringify of ~300 KB
      writes.push(raw !== undefined ? { type: 'put', key, value: raw, valueEncoding: 'view' } : { type: 'put', key, value: record })
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
    this.viewHash.apply(changes, current)
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
    return changes
  }

  private async currentTasks (ops: Op[]): Promise<Map<string, TaskRecord>> {
    const unique = new Set<string>()
    for (const op of ops) {
      const id = taskIdOf(op)
      if (id !== undefined) unique.add(id)
    }
    const ids = [...unique]
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
    const unique = new Set<string>()
    for (const op of ops) if (VIEW_KINDS.has(op.kind)) unique.add((op.body as { key: string }).key)
    const keys = [...unique]
    const current = new Map<string, ViewEntry>()
    if (keys.length === 0) return current
    const values = await this.readable(async () => this.db.getMany(keys.map(k => kvKey(this.teamId, k))))
    keys.forEach((key, i) => {
      const entry = asEntry(values[i])
      if (entry !== undefined) current.set(key, entry)
    })
    return current
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
}

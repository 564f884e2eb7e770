/**
 * Remote records into the op log: verified, trimmed of what the author's head already
 * covers, applied when they continue the head, held in the gap buffer (`pending.ts`) when
 * they start past it, and applied with whatever they unblock. A snapshot is ingested the
 * same way, record by record, once its shape, hash and coverage check out.
 */
import { logger } from '@libp2p/logger'
import { isPlainObject } from '../../model/guards.js'
import { DEFAULT_MAX_SKEW_MS } from '../crdt/index.js'
import { InvalidBatchError, batchOpHashes, isFoldRecord, pruneBatch } from '../ops/index.js'
import { checkCoverage, checkOverlap, peekRange, prepare } from './checks.js'
import { InvalidSnapshotError } from './errors.js'
import type { ViewEntry } from './kv-view.js'
import type { LogCore, RecordItem } from './log-core.js'
import { GapBuffer, type Prepared } from './pending.js'
import { checkSnapshot } from './snapshot.js'
import type { IngestOptions, IngestResult } from './types.js'

const log = logger('paired:store')

export class Ingester {
  private readonly pending: GapBuffer
  /** records being verified and applied, by author, last seq and signature */
  private readonly ingesting = new Map<string, Promise<IngestResult>>()

  constructor (private readonly core: LogCore, maxPendingBatches?: number, maxPendingBytes?: number) {
    this.pending = new GapBuffer(maxPendingBatches, maxPendingBytes)
  }

  /** See `OpStore.ingest`. */
  async ingest (input: unknown, options: IngestOptions = {}): Promise<IngestResult> {
    const core = this.core
    await core.start()
    const peek = peekRange(input)
    if (peek !== undefined && peek.toSeq <= core.head(peek.author)) return { applied: 0, duplicate: true }
    // the same record arriving twice at once (a direct message and gossip): verify and apply it once
    const sig = isPlainObject(input) && typeof input.sig === 'string' ? input.sig : undefined
    const key = peek === undefined || sig === undefined ? undefined : `${peek.author}\n${peek.toSeq}\n${sig}`
    const same = key === undefined ? undefined : this.ingesting.get(key)
    if (same !== undefined && await same.then(() => true, () => false)) return { applied: 0, duplicate: true }
    const run = (async () => {
      const prepared = prepare(input, options.acceptFolds ?? true, core.teamId)
      // the checks take exactly the fields a stored batch has, so the text parsed is
      // that batch (a pruned one is rebuilt when trimmed: not worth the special case)
      if (options.raw !== undefined && !isFoldRecord(prepared.record) && prepared.record.hashes === undefined) prepared.raw = options.raw
      // an op dated far ahead would win every later write to its key: refused (it can come
      // back by anti-entropy once the clocks agree)
      const limit = core.now() + DEFAULT_MAX_SKEW_MS
      const ahead = prepared.ops.find(op => op.hlc.wall > limit)
      if (ahead !== undefined) {
        throw new InvalidBatchError(`op ${ahead.seq} of ${ahead.author} is dated ${Math.round((ahead.hlc.wall - core.now()) / 1000)} s in the future (more than ${DEFAULT_MAX_SKEW_MS / 1000} s of clock skew)`)
      }
      return await core.exclusive(async () => this.ingestPrepared(prepared, options.sync ?? false, options.changed))
    })()
    if (key === undefined) return await run
    this.ingesting.set(key, run)
    try {
      return await run
    } finally {
      this.ingesting.delete(key)
    }
  }

  /** See `OpStore.importSnapshot`. */
  async importSnapshot (input: unknown, options: { expectedHash?: string } = {}): Promise<{ applied: number }> {
    const core = this.core
    await core.start()
    const snap = checkSnapshot(input, core.teamId)
    if (options.expectedHash !== undefined && options.expectedHash !== snap.hash) {
      throw new InvalidSnapshotError('the snapshot hash is not the one expected')
    }
    const prepared = snap.records.map((record, i) => {
      try {
        return prepare(record, true, core.teamId)
      } catch (err) {
        throw new InvalidSnapshotError(`snapshot record ${i}: ${(err as Error).message}`)
      }
    })
    checkCoverage(prepared, snap.vv)
    return core.exclusive(async () => {
      let applied = 0
      for (const p of prepared) applied += (await this.ingestPrepared(p, false)).applied
      return { applied }
    })
  }

  /** Applies or holds one verified record. Call it under `exclusive`. */
  private async ingestPrepared (p: Prepared, sync: boolean, changed?: Map<string, ViewEntry>): Promise<IngestResult> {
    const { author, fromSeq, toSeq } = p.record
    const head = this.core.head(author)
    if (toSeq <= head) return { applied: 0, duplicate: true }
    if (isFoldRecord(p.record) || fromSeq > head + 1) {
      // a gap, or a fold waiting for its signed successor: hold it, then see whether
      // what is held now continues the head
      const buffered = this.pending.add(p)
      const applied = await this.drain(author, sync, changed)
      if (applied > 0) return { applied, duplicate: false }
      const now = this.core.head(author)
      if (fromSeq > now + 1) return { applied: 0, duplicate: false, gapFrom: now + 1, buffered }
      return { applied: 0, duplicate: false, buffered }
    }
    const applied = await this.applyChain([p], head, sync, changed)
    return { applied: applied + await this.drain(author, sync, changed), duplicate: false }
  }

  /**
   * Applies what is held for `author` and now continues its head. A failure is logged,
   * not thrown: the caller's own record is already stored, and anti-entropy fetches the
   * dropped ones again.
   */
  private async drain (author: string, sync: boolean, changed?: Map<string, ViewEntry>): Promise<number> {
    let applied = 0
    for (;;) {
      const chain = this.pending.chain(author, this.core.head(author))
      if (chain === undefined) break
      for (const p of chain) this.pending.remove(p)
      try {
        applied += await this.applyChain(chain, this.core.head(author), sync, changed)
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
   * are trimmed. Returns the seqs newly covered; the view entries it changed go into `changed`.
   */
  private async applyChain (chain: Prepared[], head: number, sync: boolean, changed?: Map<string, ViewEntry>): Promise<number> {
    const items: RecordItem[] = []
    let at = head
    for (const p of chain) {
      let record = p.record
      if (isFoldRecord(record)) {
        if (record.fromSeq <= at) record = { ...record, fromSeq: at + 1 }
        items.push({ record, ops: [] })
      } else {
        if (record.fromSeq <= at) {
          await checkOverlap(this.core.db, this.core.teamId, record, p.hashes ?? batchOpHashes(record), at)
          const from = at
          record = pruneBatch(record, op => op.seq > from)
        }
        const from = at
        const whole = record === p.record
        items.push({ record, ops: whole ? record.ops : record.ops.filter(op => op.seq > from), raw: whole ? p.raw : undefined })
      }
      at = record.toSeq
    }
    const changes = await this.core.applyRecords(items, sync)
    if (changed !== undefined) for (const [key, entry] of changes) changed.set(key, entry)
    return at - head
  }
}

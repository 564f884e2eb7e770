/**
 * Compaction over LevelDB: one author's stored log folded in place (or, for a snapshot,
 * into memory) by `AuthorFolder`, given the set of ops the view still points at; and the
 * two operations of the op log built on it, `compactLog` and `exportSnapshotOf`.
 */
import type { LogRecord, Op } from '../ops/index.js'
import type { PairedDb } from './db.js'
import { AuthorFolder, type FoldStep } from './fold.js'
import { opsKey, opsPrefix, prefixEnd, snapKey } from './keys.js'
import { VIEW_KINDS, opId } from './kv-view.js'
import type { LogCore } from './log-core.js'
import { liveOps, versionVectorOf } from './reads.js'
import { SNAPSHOT_VERSION, snapshotHash, type Snapshot } from './snapshot.js'
import type { CompactResult } from './types.js'
import type { DbOp } from './write-guard.js'

/** How many writes a compaction step groups into one LevelDB batch. */
export const COMPACT_WRITE_GROUP = 512

export interface FoldOutcome {
  droppedOps: number
  recordsBefore: number
  recordsAfter: number
}

/** An op still matters unless it is of a view kind and the view no longer points at it. */
export function liveIn (live: ReadonlySet<string>): (op: Op) => boolean {
  return op => !VIEW_KINDS.has(op.kind) || live.has(opId(op.author, op.seq))
}

/** One author's stored records, in seq order, with their keys. */
export async function * authorRecords (db: PairedDb, teamId: string, author: string): AsyncGenerator<[string, LogRecord]> {
  const prefix = opsPrefix(teamId, author)
  for await (const [key, value] of db.iterator({ gte: prefix, lt: prefixEnd(prefix) })) {
    yield [key, value as LogRecord]
  }
}

/**
 * Folds one author's log in place. Each step (a record pruned, or a run of dead records
 * replaced by one fold record) is written whole by `write`, which is atomic, so a crash
 * mid-way leaves a consistent, partly compacted log.
 */
export async function compactAuthor (
  db: PairedDb, teamId: string, author: string, isLive: (op: Op) => boolean,
  write: (ops: DbOp[]) => Promise<void>
): Promise<FoldOutcome> {
  const folder = new AuthorFolder(author, isLive)
  let writes: DbOp[] = []
  let recordsBefore = 0
  let recordsAfter = 0
  const apply = (steps: FoldStep[]): void => {
    for (const step of steps) {
      recordsAfter++
      if (step.type === 'keep') continue
      for (const key of step.removes) writes.push({ type: 'del', key })
      writes.push({ type: 'put', key: opsKey(teamId, author, step.record.toSeq), value: step.record })
    }
  }
  for await (const [key, record] of authorRecords(db, teamId, author)) {
    recordsBefore++
    apply(folder.push(key, record))
    if (writes.length >= COMPACT_WRITE_GROUP) {
      await write(writes)
      writes = []
    }
  }
  apply(folder.end())
  if (writes.length > 0) await write(writes)
  return { droppedOps: folder.droppedOps, recordsBefore, recordsAfter }
}

/** One author's log as `compactAuthor` would leave it, without changing the store. */
export async function foldedLog (db: PairedDb, teamId: string, author: string, isLive: (op: Op) => boolean): Promise<LogRecord[]> {
  const folder = new AuthorFolder(author, isLive)
  const records: LogRecord[] = []
  const take = (steps: FoldStep[]): void => { for (const step of steps) records.push(step.record) }
  for await (const [key, record] of authorRecords(db, teamId, author)) take(folder.push(key, record))
  take(folder.end())
  return records
}

/**
 * Folds every author's log (see `OpStore.compact`) and records the fold point under
 * `snap/<teamId>`. Each step is its own atomic write.
 */
export async function compactLog (core: LogCore): Promise<CompactResult> {
  await core.start()
  return core.exclusive(async () => {
    const isLive = liveIn(await liveOps(core))
    const vv = versionVectorOf(core)
    const total: CompactResult = { droppedOps: 0, recordsBefore: 0, recordsAfter: 0, vv }
    for (const author of Object.keys(vv)) {
      const done = await compactAuthor(core.db, core.teamId, author, isLive, async writes => core.guard.batch(writes, false))
      total.droppedOps += done.droppedOps
      total.recordsBefore += done.recordsBefore
      total.recordsAfter += done.recordsAfter
    }
    await core.guard.batch([{ type: 'put', key: snapKey(core.teamId), value: { vv, at: core.now(), droppedOps: total.droppedOps } }], true)
    return total
  })
}

/** A snapshot of the state now: every author's log folded as `compactLog` would, in memory. */
export async function exportSnapshotOf (core: LogCore): Promise<Snapshot> {
  await core.start()
  return core.exclusive(async () => {
    const isLive = liveIn(await liveOps(core))
    const vv = versionVectorOf(core)
    const records: LogRecord[] = []
    for (const author of Object.keys(vv)) records.push(...await foldedLog(core.db, core.teamId, author, isLive))
    const content = { v: SNAPSHOT_VERSION, teamId: core.teamId, vv, records }
    return { ...content, hash: snapshotHash(content) }
  })
}

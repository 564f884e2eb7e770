/**
 * Checks of what the store takes from outside: remote records, snapshots' coverage, the
 * stored clock.
 */
import { assertHlc, type Hlc, type VersionVector } from '../crdt/index.js'
import { isPlainObject } from '../../model/guards.js'
import { InvalidBatchError, batchOpHashes, checkFold, inspectBatch, isFoldRecord } from '../ops/index.js'
import type { LogRecord, OpBatch } from '../ops/index.js'
import type { PairedDb } from './db.js'
import { ConflictingOpError, InvalidSnapshotError } from './errors.js'
import { opsKey, opsPrefix, prefixEnd } from './keys.js'
import type { Prepared } from './pending.js'

/** Verifies a remote record (a batch's signature, a fold record's shape); throws `InvalidBatchError`. */
export function prepare (input: unknown, acceptFolds: boolean, teamId: string): Prepared {
  if (isFoldRecord(input)) {
    if (!acceptFolds) throw new InvalidBatchError('fold records are not accepted here')
    return { record: checkFold(input), ops: [], bytes: 0 }
  }
  const { batch, hashes, bytes } = inspectBatch(input, teamId)
  return { record: batch, ops: batch.ops, hashes, bytes }
}

/** The author and last seq of what looks like a record, without checking anything else. */
export function peekRange (input: unknown): { author: string, toSeq: number } | undefined {
  if (!isPlainObject(input)) return undefined
  const { author, toSeq } = input
  if (typeof author !== 'string' || typeof toSeq !== 'number' || !Number.isSafeInteger(toSeq)) return undefined
  return { author, toSeq }
}

/**
 * Per author, a snapshot's records must chain from seq 1 to `vv[author]` and end with a
 * signed record; throws `InvalidSnapshotError`.
 */
export function checkCoverage (prepared: Prepared[], vv: VersionVector): void {
  const reached = new Map<string, number>()
  const endsFolded = new Set<string>()
  for (const { record } of prepared) {
    if (isFoldRecord(record)) endsFolded.add(record.author)
    else endsFolded.delete(record.author)
    const at = reached.get(record.author) ?? 0
    if (!Object.hasOwn(vv, record.author) || record.toSeq > vv[record.author]) {
      throw new InvalidSnapshotError(`record ${record.author}/${record.toSeq} lies past the snapshot's version vector`)
    }
    if (record.fromSeq > at + 1 || record.toSeq <= at) {
      throw new InvalidSnapshotError(`the records of ${record.author} do not follow on from seq ${at}`)
    }
    reached.set(record.author, record.toSeq)
  }
  for (const [author, seq] of Object.entries(vv)) {
    if (seq > 0 && reached.get(author) !== seq) throw new InvalidSnapshotError(`the records of ${author} stop before seq ${seq}`)
  }
  for (const author of endsFolded) {
    throw new InvalidSnapshotError(`the records of ${author} end with an unsigned fold`)
  }
}

/** The stored clock reading, as `node`'s, or `undefined` if absent or malformed. */
export function storedHlc (stored: unknown, node: string): Hlc | undefined {
  if (!isPlainObject(stored)) return undefined
  const hlc = { wall: stored.wall as number, logical: stored.logical as number, node }
  try {
    assertHlc(hlc)
    return hlc
  } catch {
    return undefined
  }
}

/**
 * Refuses (`ConflictingOpError`) a batch whose ops for seqs `<= head` differ from the ones
 * stored: its author signed two different ops for one seq. `hashes` are the batch's op
 * hashes; stored fold records cannot be compared and are skipped.
 */
export async function checkOverlap (db: PairedDb, teamId: string, batch: OpBatch, hashes: Uint8Array[], head: number): Promise<void> {
  const { author } = batch
  const range = { gte: opsKey(teamId, author, batch.fromSeq), lt: prefixEnd(opsPrefix(teamId, author)) }
  for await (const stored of db.values(range)) {
    const record = stored as LogRecord
    if (record.fromSeq > Math.min(head, batch.toSeq)) break
    if (isFoldRecord(record)) continue
    const theirs = batchOpHashes(record)
    const to = Math.min(record.toSeq, batch.toSeq, head)
    for (let seq = Math.max(record.fromSeq, batch.fromSeq); seq <= to; seq++) {
      const a = theirs[seq - record.fromSeq]
      const b = hashes[seq - batch.fromSeq]
      if (a !== undefined && b !== undefined && !Buffer.from(a).equals(b)) {
        throw new ConflictingOpError(`${author} signed two different ops for seq ${seq}: the second is refused`)
      }
    }
  }
}

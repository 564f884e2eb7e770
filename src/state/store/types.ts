/**
 * The op log's public options and results (what `OpStore` takes and returns), apart from
 * the store so that its rooms (write path, ingest, reads, compaction) share them.
 */
import type { TaskRecord, VersionVector } from '../crdt/index.js'
import type { OpSigner } from '../ops/index.js'
import type { PairedDb } from './db.js'
import type { ViewEntry } from './kv-view.js'

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
  /**
   * the UTF-8 JSON `input` was parsed from, on its own (not a part of a larger text): a
   * batch stored whole is stored as these bytes, not stringified again
   */
  raw?: Uint8Array
  /**
   * filled with the kv view entries the call changed (key → the entry that holds it now; a
   * tombstone has no `value`), those of records it unblocked included: what `kv:changed`
   * announces, without reading the keys back
   */
  changed?: Map<string, ViewEntry>
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

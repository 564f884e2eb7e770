/**
 * @packageDocumentation
 *
 * The LevelDB store: `openStore` (version key, migrations), the key schema (`keys.ts`,
 * one line per prefix) and `OpStore`, the durable op log with its materialised kv view,
 * version vector, gap buffering, compaction and snapshots. Local writes are atomic and
 * synced before they are acknowledged; a full disk refuses writes with
 * `StoreFullError` and the store keeps serving reads.
 */
export { openStore, scanPrefix } from './db.js'
export type { Migration, PairedDb } from './db.js'
export { STORE_VERSION, VERSION_KEY } from './keys.js'
export {
  ConflictingOpError, InvalidSnapshotError, NoSignerError, SeqConflictError, StoreFullError, StoreWriteError
} from './errors.js'
export { OpStore } from './op-log.js'
export type {
  CompactResult, IngestOptions, IngestResult, OpStoreComponents, OpStoreInit, TaskChange, WriteOptions
} from './types.js'
export type { KvEntry, ViewEntry } from './kv-view.js'
export { SNAPSHOT_VERSION, snapshotHash } from './snapshot.js'
export type { Snapshot } from './snapshot.js'
export { DEFAULT_MAX_PENDING_BATCHES, DEFAULT_MAX_PENDING_BYTES } from './pending.js'
export { DEFAULT_REOPEN_HEADROOM_BYTES } from './write-guard.js'

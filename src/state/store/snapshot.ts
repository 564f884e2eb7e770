/**
 * Snapshots: what a new member starts from instead of every op ever written.
 *
 * A snapshot is the exporter's version vector plus, per author, its log after folding:
 * every op still live in the views, inside its batch pruned to the live ops (the batch's
 * signed hash list is kept, so **each op in a snapshot verifies on its own** against its
 * author's key), and unsigned fold records for runs whose ops are all superseded.
 *
 * What a snapshot trusts: its **completeness**. Nothing proves that an op left out (in a
 * fold record, or missing from a pruned batch) really is superseded: a dishonest member
 * could hide a live write and so show an older value or no value for a key. It cannot
 * forge or alter a write. So a snapshot is accepted only from a member (the sync layer
 * checks that), its `hash` (sha256 of its canonical content) guards it in transit and
 * lets the importer compare it with another member's export at the same version vector,
 * and `stateHash()` after import can be compared the same way. Anti-entropy after
 * compaction streams the same folded records, with the same trust.
 */
import { createHash } from 'node:crypto'
import { canonicalJson } from '../../team/canonical.js'
import type { VersionVector } from '../crdt/index.js'
import { hasExactKeys, isPlainObject } from '../../model/guards.js'
import { InvalidSnapshotError } from './errors.js'
import type { LogRecord } from '../ops/index.js'

export const SNAPSHOT_VERSION = 1 as const
/** domain of the snapshot content hash */
export const SNAPSHOT_DOMAIN = 'paired/snapshot/v1\n'

/** A snapshot of one team's replicated state. */
export interface Snapshot {
  v: typeof SNAPSHOT_VERSION
  teamId: string
  /** every op `<= vv[author]` is reflected by `records` */
  vv: VersionVector
  /** per author in author order, records in seq order */
  records: LogRecord[]
  /** lowercase hex sha256 of `SNAPSHOT_DOMAIN` + canonical JSON of the fields above */
  hash: string
}

/** The content hash of a snapshot's fields (everything but `hash`). */
export function snapshotHash (content: Omit<Snapshot, 'hash'>): string {
  const { v, teamId, vv, records } = content
  return createHash('sha256').update(SNAPSHOT_DOMAIN).update(canonicalJson({ v, teamId, vv, records })).digest('hex')
}

/**
 * Checks a snapshot's shape, team and content hash (not its records' signatures: the
 * store verifies each record as it ingests it). Throws `InvalidSnapshotError`.
 */
export function checkSnapshot (input: unknown, teamId: string): Snapshot {
  if (!isPlainObject(input) || !hasExactKeys(input, ['v', 'teamId', 'vv', 'records', 'hash'])) {
    throw new InvalidSnapshotError('a snapshot is exactly { v, teamId, vv, records, hash }')
  }
  if (input.v !== SNAPSHOT_VERSION) throw new InvalidSnapshotError(`unknown snapshot version ${String(input.v)}`)
  if (input.teamId !== teamId) throw new InvalidSnapshotError('the snapshot is of another team')
  if (!isPlainObject(input.vv) || !Object.values(input.vv).every(s => Number.isSafeInteger(s) && (s as number) >= 0)) {
    throw new InvalidSnapshotError('a snapshot vv maps authors to seqs')
  }
  if (!Array.isArray(input.records)) throw new InvalidSnapshotError('snapshot records must be an array')
  const snap = input as unknown as Snapshot
  let hash: string
  try {
    hash = snapshotHash(snap)
  } catch (err) {
    throw new InvalidSnapshotError(`the snapshot cannot be encoded: ${(err as Error).message}`)
  }
  if (hash !== input.hash) throw new InvalidSnapshotError('the snapshot content does not match its hash')
  return snap
}

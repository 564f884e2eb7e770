/**
 * The op log's domain types. Ops are plain JSON: what is signed, stored and sent is the
 * same object.
 */
import type { Hlc } from '../crdt/index.js'

/**
 * What an op does. The known kinds are listed for completion; any other name matching
 * `KIND_PATTERN` is an open extension point, checked through the kind registry.
 */
export type OpKind = 'kv:set' | 'kv:del' | (string & {})

/** One write by one author. `seq` counts that author's ops: 1, 2, 3… with no gap. */
export interface Op<B = unknown> {
  /** the author's peer id (an Ed25519 peer id: its key checks the batch signature) */
  author: string
  seq: number
  /** when the author wrote it; `hlc.node` is the author */
  hlc: Hlc
  kind: OpKind
  body: B
}

/** An op before the store gives it an author, seq and hlc. */
export interface OpDraft<B = unknown> {
  kind: OpKind
  body: B
}

/** Bodies of `kv:set` and `kv:del`: defined in `src/model/kv.ts`. */
export type { KvDelBody, KvSetBody } from '../../model/kv.js'

/**
 * A run of one author's ops `fromSeq..toSeq` under one signature. `sig` is the author's
 * Ed25519 signature over `OP_BATCH_DOMAIN`, the canonical JSON of
 * `{ author, fromSeq, toSeq }` and a newline, then the sha256 of every op's canonical
 * encoding in seq order (32 bytes each), so each op stays checkable on its own
 * through the hash list.
 *
 * A full batch carries every op and no `hashes`. A **pruned** batch (after compaction)
 * carries the signed hash list and only the ops still live; the others are claimed
 * superseded by whoever pruned it.
 */
export interface OpBatch {
  author: string
  fromSeq: number
  toSeq: number
  ops: Op[]
  /** base64url Ed25519 signature */
  sig: string
  /** base64url sha256 of every op `fromSeq..toSeq`: only in a pruned batch */
  hashes?: string[]
}

/**
 * A compacted run of one author's seqs whose ops are all superseded. Unsigned: it is a
 * claim by the member that compacted it (see the store's snapshot notes).
 */
export interface FoldRecord {
  author: string
  fromSeq: number
  toSeq: number
  folded: true
}

/** What an author's log holds and what anti-entropy streams. */
export type LogRecord = OpBatch | FoldRecord

/** Something that signs with one peer's own key (`Signer` of the team module fits). */
export interface OpSigner {
  readonly peerId: string
  sign(data: Uint8Array): Uint8Array
}

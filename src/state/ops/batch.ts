/**
 * Signed op batches: one Ed25519 signature over the hashes of a run of one author's ops.
 * Verifying a batch costs one signature check plus one sha256 per op, so ingest is not
 * capped by the ~6k/s per core of Ed25519 verification, and each op stays checkable on
 * its own through the batch's hash list (`verifyOpInBatch`).
 */
import { peerPublicKey, verifyEd25519 } from '../../team/ed25519.js'
import { fromBase64url, toBase64url } from '../../team/canonical.js'
import {
  BATCH_SIG_LENGTH, MAX_BATCH_BYTES, MAX_OPS_PER_BATCH, MAX_SEQ, OP_HASH_LENGTH
} from './constants.js'
import { BatchSigning, batchSigningBytes, opHash, sha256 } from './encode.js'
import { BatchTooLargeError, InvalidBatchError, InvalidOpError } from './errors.js'
import { hasExactKeys, isPlainObject } from '../../model/guards.js'
import { checkOp, type CheckedOp } from './validate.js'
import type { FoldRecord, Op, OpBatch, OpSigner } from './types.js'

const BATCH_KEYS = ['author', 'fromSeq', 'toSeq', 'ops', 'sig'] as const
const FOLD_KEYS = ['author', 'fromSeq', 'toSeq', 'folded'] as const

/** A batch that passed `inspectBatch`: normalised, with its op hashes and encoded size. */
export interface InspectedBatch {
  batch: OpBatch
  /** hash of every op `fromSeq..toSeq`, in seq order */
  hashes: Uint8Array[]
  /** bytes of the canonical encodings of the ops it carries */
  bytes: number
}

/**
 * Signs `ops` (one author's, seqs contiguous, the signer's own) as one batch. Throws
 * `BatchTooLargeError` past `MAX_OPS_PER_BATCH` ops or `MAX_BATCH_BYTES` bytes and
 * `InvalidOpError` for a malformed op.
 */
export function signBatch (ops: Op[], signer: OpSigner, teamId: string): OpBatch {
  if (ops.length > MAX_OPS_PER_BATCH) {
    throw new BatchTooLargeError(`a batch holds at most ${MAX_OPS_PER_BATCH} ops, got ${ops.length}`)
  }
  const checked = checkRun(ops, signer.peerId)
  if (checked.reduce((n, c) => n + c.size, 0) > MAX_BATCH_BYTES) {
    throw new BatchTooLargeError(`a batch holds at most ${MAX_BATCH_BYTES} bytes of ops`)
  }
  return signChecked(checked, signer, teamId)
}

/**
 * Signs `ops` (as `signBatch`) as one or more batches, each within the batch limits, so
 * a large local write becomes several signed batches stored together. Each op is encoded
 * once.
 */
export function signOps (ops: Op[], signer: OpSigner, teamId: string): OpBatch[] {
  const checked = checkRun(ops, signer.peerId)
  const batches: OpBatch[] = []
  let run: CheckedOp[] = []
  let bytes = 0
  for (const c of checked) {
    if (run.length > 0 && (run.length >= MAX_OPS_PER_BATCH || bytes + c.size > MAX_BATCH_BYTES)) {
      batches.push(signChecked(run, signer, teamId))
      run = []
      bytes = 0
    }
    run.push(c)
    bytes += c.size
  }
  if (run.length > 0) batches.push(signChecked(run, signer, teamId))
  return batches
}

function checkRun (ops: Op[], author: string): CheckedOp[] {
  if (ops.length === 0) throw new InvalidOpError('a batch holds at least one op')
  const fromSeq = ops[0].seq
  return ops.map((op, i) => {
    if (op.seq !== fromSeq + i) throw new InvalidOpError(`op seqs must be contiguous: expected ${fromSeq + i}, got ${op.seq}`)
    return checkOp(op, author)
  })
}

function signChecked (run: CheckedOp[], signer: OpSigner, teamId: string): OpBatch {
  const fromSeq = run[0].op.seq
  const toSeq = fromSeq + run.length - 1
  const hashes = run.map(c => sha256(c.text))
  const sig = signer.sign(batchSigningBytes(teamId, signer.peerId, fromSeq, toSeq, hashes))
  return { author: signer.peerId, fromSeq, toSeq, ops: run.map(c => c.op), sig: toBase64url(sig) }
}

/** True when `input` is a well-formed batch whose signature verifies. Never throws. */
export function verifyBatch (input: unknown, teamId: string): boolean {
  try {
    inspectBatch(input, teamId)
    return true
  } catch {
    return false
  }
}

/** `inspectBatch(input).batch`: throws `InvalidBatchError` with the reason. */
export function checkBatch (input: unknown, teamId: string): OpBatch {
  return inspectBatch(input, teamId).batch
}

/**
 * Checks an untrusted batch, full or pruned: its shape and limits, every op (the batch
 * author's, at its place in the range, valid), its hash list and its signature against
 * the key the author's peer id embeds. Cheap checks run first, the signature last.
 * Throws `InvalidBatchError` (and nothing else).
 */
export function inspectBatch (input: unknown, teamId: string): InspectedBatch {
  try {
    return inspect(input, teamId)
  } catch (err) {
    if (err instanceof InvalidBatchError) throw err
    throw new InvalidBatchError(`invalid batch: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function inspect (input: unknown, teamId: string): InspectedBatch {
  if (!isPlainObject(input) || !hasExactKeys(input, BATCH_KEYS, ['hashes'])) {
    throw new InvalidBatchError('a batch is an object with exactly author, fromSeq, toSeq, ops, sig (and hashes when pruned)')
  }
  const { author, fromSeq, toSeq } = checkRange(input)
  const publicKey = authorKey(author)
  const count = toSeq - fromSeq + 1
  const sig = typeof input.sig === 'string' ? fromBase64url(input.sig, BATCH_SIG_LENGTH) : undefined
  if (sig === undefined) throw new InvalidBatchError(`the batch signature is ${BATCH_SIG_LENGTH} bytes of base64url`)
  if (!Array.isArray(input.ops)) throw new InvalidBatchError('batch ops must be an array')
  const rawOps: unknown[] = input.ops
  const pruned = input.hashes !== undefined
  let listed: Uint8Array[] | undefined
  if (pruned) {
    if (!Array.isArray(input.hashes) || input.hashes.length !== count) {
      throw new InvalidBatchError(`a pruned batch lists exactly ${count} op hashes`)
    }
    listed = (input.hashes as unknown[]).map((h, i) => {
      const hash = typeof h === 'string' ? fromBase64url(h, OP_HASH_LENGTH) : undefined
      if (hash === undefined) throw new InvalidBatchError(`hash ${i} is not ${OP_HASH_LENGTH} bytes of base64url`)
      return hash
    })
    if (rawOps.length > count) throw new InvalidBatchError('a pruned batch carries more ops than its range')
  } else if (rawOps.length !== count) {
    throw new InvalidBatchError(`batch ${fromSeq}..${toSeq} must carry ${count} ops, got ${rawOps.length}`)
  }
  const ops: Op[] = []
  const signing = new BatchSigning(teamId, author, fromSeq, toSeq)
  listed?.forEach((hash, i) => { signing.setHash(i, hash) })
  let bytes = 0
  let lastSeq = fromSeq - 1
  for (const raw of rawOps) {
    const { op, text, size } = checkOpOf(raw, author)
    if (pruned ? op.seq <= lastSeq || op.seq > toSeq : op.seq !== lastSeq + 1) {
      throw new InvalidBatchError(`op seq ${op.seq} is out of place in batch ${fromSeq}..${toSeq}`)
    }
    lastSeq = op.seq
    bytes += size
    if (bytes > MAX_BATCH_BYTES) throw new InvalidBatchError(`a batch holds at most ${MAX_BATCH_BYTES} bytes of ops`)
    if (listed !== undefined) {
      if (Buffer.compare(sha256(text), listed[op.seq - fromSeq]) !== 0) {
        throw new InvalidBatchError(`op ${op.seq} does not match its hash in the batch`)
      }
    } else {
      signing.hashInto(op.seq - fromSeq, text)
    }
    ops.push(op)
  }
  if (!verifyEd25519(publicKey, signing.bytes, sig)) {
    throw new InvalidBatchError(`the signature of batch ${author}/${fromSeq}..${toSeq} does not verify`)
  }
  const hashes = listed ?? signing.hashes()
  const batch: OpBatch = { author, fromSeq, toSeq, ops, sig: input.sig as string }
  if (pruned) batch.hashes = input.hashes as string[]
  return { batch, hashes, bytes }
}

function checkOpOf (raw: unknown, author: string): ReturnType<typeof checkOp> {
  try {
    return checkOp(raw, author)
  } catch (err) {
    throw new InvalidBatchError(`batch op: ${(err as Error).message}`)
  }
}

function checkRange (input: Record<string, unknown>): { author: string, fromSeq: number, toSeq: number } {
  const { author, fromSeq, toSeq } = input
  if (typeof author !== 'string') throw new InvalidBatchError('a batch author is a peer id string')
  if (!isSeq(fromSeq) || !isSeq(toSeq) || toSeq < fromSeq) {
    throw new InvalidBatchError('a batch range is 1 <= fromSeq <= toSeq, both safe integers')
  }
  if (toSeq - fromSeq + 1 > MAX_OPS_PER_BATCH) {
    throw new InvalidBatchError(`a batch holds at most ${MAX_OPS_PER_BATCH} ops`)
  }
  return { author, fromSeq, toSeq }
}

function isSeq (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_SEQ
}

// parsing a peer id costs more than a hash: remember the last few authors' keys
const keyCache = new Map<string, Uint8Array>()
const KEY_CACHE_SIZE = 1024

function authorKey (author: string): Uint8Array {
  let key = keyCache.get(author)
  if (key === undefined) {
    key = peerPublicKey(author)
    if (key === undefined) throw new InvalidBatchError(`batch author ${author.slice(0, 64)} is not an Ed25519 peer id`)
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string)
    keyCache.set(author, key)
  }
  return key
}

/** True for a fold record (checked or not). */
export function isFoldRecord (value: unknown): value is FoldRecord {
  return isPlainObject(value) && value.folded === true
}

/** Checks an untrusted fold record's shape; throws `InvalidBatchError`. */
export function checkFold (input: unknown): FoldRecord {
  if (!isPlainObject(input) || !hasExactKeys(input, FOLD_KEYS) || input.folded !== true) {
    throw new InvalidBatchError('a fold record is exactly { author, fromSeq, toSeq, folded: true }')
  }
  if (typeof input.author !== 'string' || peerPublicKey(input.author) === undefined) {
    throw new InvalidBatchError('a fold record author is an Ed25519 peer id')
  }
  if (!isSeq(input.fromSeq) || !isSeq(input.toSeq) || input.toSeq < input.fromSeq) {
    throw new InvalidBatchError('a fold range is 1 <= fromSeq <= toSeq, both safe integers')
  }
  return { author: input.author, fromSeq: input.fromSeq, toSeq: input.toSeq, folded: true }
}

/** The hash of every op of a batch (from its list when pruned), in seq order. */
export function batchOpHashes (batch: OpBatch): Uint8Array[] {
  if (batch.hashes !== undefined) {
    return batch.hashes.map(h => fromBase64url(h, OP_HASH_LENGTH) ?? new Uint8Array(0))
  }
  return batch.ops.map(op => opHash(op))
}

/**
 * The batch with only the ops `keep` accepts and the signed hash list, still verifiable.
 * Returns `batch` itself when every op it carries is kept.
 */
export function pruneBatch (batch: OpBatch, keep: (op: Op) => boolean): OpBatch {
  const ops = batch.ops.filter(keep)
  if (ops.length === batch.ops.length) return batch
  const hashes = batch.hashes ?? batch.ops.map(op => toBase64url(opHash(op)))
  return { author: batch.author, fromSeq: batch.fromSeq, toSeq: batch.toSeq, ops, sig: batch.sig, hashes }
}

/**
 * True when `op` is one of `batch`'s: the batch verifies and the op's hash is the one its
 * hash list holds at the op's seq. `batch` may be pruned and need not carry `op` itself.
 * Never throws.
 */
export function verifyOpInBatch (op: unknown, batch: unknown, teamId: string): boolean {
  try {
    const { batch: checked, hashes } = inspectBatch(batch, teamId)
    const { text, op: valid } = checkOp(op, checked.author)
    if (valid.seq < checked.fromSeq || valid.seq > checked.toSeq) return false
    return Buffer.compare(sha256(text), hashes[valid.seq - checked.fromSeq]) === 0
  } catch {
    return false
  }
}


/**
 * @packageDocumentation
 *
 * Ops and signed op batches, pure: no I/O, no clock. An op is one author's write
 * (`author`, `seq` 1, 2, 3… without gaps, `hlc`, `kind`, `body`); a batch is a contiguous
 * run of one author's ops under one Ed25519 signature over the sha256 of each op's
 * canonical encoding. `validateOp` and `inspectBatch` check untrusted input and throw
 * only their named errors; `verifyBatch` never throws.
 */
export {
  BATCH_SIG_LENGTH, KIND_PATTERN, MAX_AUTHOR_LENGTH, MAX_BATCH_BYTES, MAX_KIND_LENGTH, MAX_KV_KEY_LENGTH,
  MAX_KV_VALUE_BYTES, MAX_OPS_PER_BATCH, MAX_OP_BYTES, MAX_SEQ, OP_BATCH_DOMAIN, OP_HASH_LENGTH
} from './constants.js'
export { BatchTooLargeError, InvalidBatchError, InvalidOpError, ValueTooLargeError } from './errors.js'
export { batchSigningBytes, encodeOp, encodeOpText, opHash, sha256 } from './encode.js'
export {
  assertKvKey, kvDelDraft, kvSetDraft, kvValueBytes, opKindSpec, registerOpKind
} from './kinds.js'
export type { OpKindSpec } from './kinds.js'
export { checkOp, validateOp } from './validate.js'
export {
  AGENT_NAME_PATTERN, MAX_REPLICAS, MAX_RETRIES, MAX_TASK_TIMEOUT_MS, TASK_ID_PATTERN, TASK_KINDS, assertTaskSpec, taskDrafts
} from './task-kinds.js'
export type {
  TaskAdoptBody, TaskCreateBody, TaskIdBody, TaskLeaseBody, TaskReplicasBody, TaskResultBody, TaskRetryBody, TaskSpecBody
} from './task-kinds.js'
export type { CheckedOp } from './validate.js'
export {
  batchOpHashes, checkBatch, checkFold, inspectBatch, isFoldRecord, pruneBatch, signBatch, signOps,
  verifyBatch, verifyOpInBatch
} from './batch.js'
export type { InspectedBatch } from './batch.js'
export type { FoldRecord, KvDelBody, KvSetBody, LogRecord, Op, OpBatch, OpDraft, OpKind, OpSigner } from './types.js'

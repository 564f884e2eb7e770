/**
 * Limits and signature domains of ops and op batches. Every decoder of untrusted input
 * checks them before doing any work that grows with the input.
 */
import { MAX_KV_VALUE_BYTES } from '../../model/kv.js'

/** Most ops one signed batch holds. */
export const MAX_OPS_PER_BATCH = 1000

/**
 * Most bytes of canonical op encodings in one batch: 4 MiB less 128 KiB, so a batch, its
 * hash list once pruned and the sync frame around it fit one 4 MiB sync frame.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024 - 128 * 1024

/** Largest kv value (1 MiB of canonical JSON) and longest kv key (UTF-16 code units): the model's. */
export { MAX_KV_KEY_LENGTH, MAX_KV_VALUE_BYTES } from '../../model/kv.js'

/** Largest canonical encoding of one op: a largest kv value plus room for its key and header. */
export const MAX_OP_BYTES = MAX_KV_VALUE_BYTES + 16 * 1024

/** Longest op kind name. */
export const MAX_KIND_LENGTH = 64

/** Longest author (peer id string) accepted; an Ed25519 peer id is 52 characters. */
export const MAX_AUTHOR_LENGTH = 128

/** Largest seq: every safe integer fits the 16-digit key encoding. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER

/** Bytes of an op hash (sha256). */
export const OP_HASH_LENGTH = 32

/** Bytes of an Ed25519 signature. */
export const BATCH_SIG_LENGTH = 64

/** Signature domain of op batches: a batch signature never verifies as anything else. */
export const OP_BATCH_DOMAIN = 'paired/op-batch/v2\n'

/** `kind` names: lowercase words joined by `:`, e.g. `kv:set`. */
export const KIND_PATTERN = /^[a-z][a-z0-9-]*(?::[a-z][a-z0-9-]*)+$/

/**
 * Execution receipts: the executor's signed statement "I ran attempt N of task T with
 * agent A on this input and got this output and exit code, between these times". The
 * signature is by the executor's own Ed25519 key, which its peer id embeds, so anyone
 * holding the receipt (and, to check the hashes, the input and output) can verify it
 * offline, without the team or the network.
 *
 * `sig` is base64url (unpadded) over `paired/receipt/v1\n` + canonical JSON of every other
 * field; the domain line keeps a receipt signature from verifying as any other object.
 * Receipts signed together (`signReceipts`) share one signature over a Merkle tree of
 * those bytes instead, and each carries `batch: { i, n, path }`, its inclusion proof
 * (`batch-proof.ts`); `sig` is then over `paired/receipt-batch/v1\n` + `{"n":..,"root":..}`.
 * Checking a batch costs one Ed25519 verification per member, however many receipts.
 */
import { createHash } from 'node:crypto'
import { InvalidArgumentError } from '../errors.js'
import { canonicalJson, type Signer } from '../team/index.js'
import { fromBase64url, isHex } from '../team/canonical.js'
import { ED25519_SIGNATURE_LENGTH, MAX_PEER_ID_LENGTH, MAX_TIMESTAMP } from '../team/constants.js'
import { isObject } from '../model/guards.js'
import { batchProblem, signLeaves, verifyLeaf, type BatchProof } from './batch-proof.js'
import { signerKey } from './proof-cache.js'

export interface ReceiptBody {
  v: 1
  teamId: string
  taskId: string
  /** 1 for the first attempt */
  attempt: number
  agent: string
  /** sha256 hex of canonicalJson(input) */
  inputHash: string
  /** sha256 hex of canonicalJson(output) */
  outputHash: string
  exitCode: number
  /** the executor's (Ed25519) peer id: its key verifies the signature */
  executor: string
  /** ms since the epoch */
  startedWall: number
  endedWall: number
}

export interface Receipt extends ReceiptBody {
  /**
   * base64url Ed25519 signature over {@link RECEIPT_DOMAIN} + canonicalJson(body), or,
   * with `batch`, over the batch's root ({@link RECEIPT_BATCH_DOMAIN})
   */
  sig: string
  /** where the receipt sits in the batch the signature covers; absent when signed alone */
  batch?: BatchProof
}

export type ReceiptCheck = { ok: true } | { ok: false, reason: string }

export interface ReceiptExpectation {
  teamId?: string
  taskId?: string
  attempt?: number
  executor?: string
  /** the task's input: must hash to `inputHash` */
  input?: unknown
  /** the committed output: must hash to `outputHash` */
  output?: unknown
}

/** Signature domain of a receipt. */
export const RECEIPT_DOMAIN = 'paired/receipt/v1\n'
/** Signature domain of the root of a batch of receipts. */
export const RECEIPT_BATCH_DOMAIN = 'paired/receipt-batch/v1\n'
/** Longest team id, task id or agent name a receipt carries, in UTF-16 code units. */
export const MAX_RECEIPT_ID_LENGTH = 256

const BODY_KEYS = [
  'v', 'teamId', 'taskId', 'attempt', 'agent', 'inputHash', 'outputHash', 'exitCode', 'executor', 'startedWall', 'endedWall'
] as const
const RECEIPT_KEYS: ReadonlySet<string> = new Set([...BODY_KEYS, 'sig', 'batch'])
/** base64url of 64 bytes */
const SIG_LENGTH = Math.ceil(ED25519_SIGNATURE_LENGTH * 4 / 3)

/** sha256 hex of canonicalJson(value); throws a `TypeError` for values that are not plain JSON. */
export function hashJson (value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')
}

const quote = (s: string): string => JSON.stringify(s.length > 64 ? `${s.slice(0, 61)}...` : s)

/** The first thing wrong with a receipt's shape (or body, without `sig`), or undefined. */
function shapeProblem (value: unknown, withSig: boolean): string | undefined {
  if (!isObject(value)) return `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`
  for (const key of Object.keys(value)) {
    if (!RECEIPT_KEYS.has(key) || (!withSig && (key === 'sig' || key === 'batch'))) return `unknown field ${quote(key)}`
  }
  if (value.v !== 1) return 'v must be 1'
  for (const key of ['teamId', 'taskId', 'agent'] as const) {
    const s = value[key]
    if (typeof s !== 'string' || s.length === 0 || s.length > MAX_RECEIPT_ID_LENGTH) {
      return `${key} must be a non-empty string of at most ${MAX_RECEIPT_ID_LENGTH} characters`
    }
  }
  if (!Number.isSafeInteger(value.attempt) || (value.attempt as number) < 1) return 'attempt must be a positive integer'
  if (!isHex(value.inputHash, 32)) return 'inputHash must be 64 lowercase hex characters (sha256)'
  if (!isHex(value.outputHash, 32)) return 'outputHash must be 64 lowercase hex characters (sha256)'
  if (!Number.isSafeInteger(value.exitCode)) return 'exitCode must be an integer'
  if (typeof value.executor !== 'string' || value.executor.length > MAX_PEER_ID_LENGTH || signerKey(value.executor) == null) {
    return 'executor must be an Ed25519 peer id'
  }
  for (const key of ['startedWall', 'endedWall'] as const) {
    const t = value[key]
    if (!Number.isSafeInteger(t) || (t as number) < 0 || (t as number) > MAX_TIMESTAMP) return `${key} must be a time in ms since the epoch`
  }
  if ((value.endedWall as number) < (value.startedWall as number)) return 'endedWall is before startedWall'
  if (withSig && (typeof value.sig !== 'string' || value.sig.length !== SIG_LENGTH || fromBase64url(value.sig, ED25519_SIGNATURE_LENGTH) == null)) {
    return 'sig must be a base64url Ed25519 signature'
  }
  if (withSig && Object.hasOwn(value, 'batch')) return batchProblem(value.batch)
  return undefined
}

function bodyOf (value: ReceiptBody): ReceiptBody {
  const body: Record<string, unknown> = {}
  for (const key of BODY_KEYS) body[key] = value[key]
  return body as unknown as ReceiptBody
}

function signingBytes (body: ReceiptBody): Uint8Array {
  return new TextEncoder().encode(RECEIPT_DOMAIN + canonicalJson(bodyOf(body)))
}

/** True when `value` has the shape of a receipt (the signature is not checked). */
export function isReceipt (value: unknown): value is Receipt {
  return shapeProblem(value, true) == null
}

/**
 * Sign `body` as its executor. Throws `InvalidArgumentError` when the body is malformed
 * or `signer` is not `body.executor`: such a receipt could never verify.
 */
export function signReceipt (body: ReceiptBody, signer: Signer): Receipt {
  return signReceipts([body], signer)[0]
}

/**
 * Signs the receipts of several finished attempts at once (all `signer`'s): one Ed25519
 * signature per 4,096, each receipt with its inclusion proof; a lone receipt keeps the
 * plain form. Throws `InvalidArgumentError` like `signReceipt`, before signing anything.
 */
export function signReceipts (bodies: ReceiptBody[], signer: Signer): Receipt[] {
  const clean = bodies.map(body => {
    const problem = shapeProblem(bodyOf(body), false)
    if (problem != null) throw new InvalidArgumentError(`malformed receipt: ${problem}`)
    if (signer.peerId !== body.executor) {
      throw new InvalidArgumentError(`a receipt of executor ${body.executor} cannot be signed by ${signer.peerId}`)
    }
    return bodyOf(body)
  })
  const proofs = signLeaves(RECEIPT_BATCH_DOMAIN, clean.map(signingBytes), signer)
  return clean.map((body, i) => ({ ...body, ...proofs[i] }))
}

function matchesHash (what: 'input' | 'output', value: unknown, hash: string): string | undefined {
  let actual: string
  try {
    actual = hashJson(value)
  } catch (err) {
    return `${what} cannot be hashed: ${err instanceof Error ? err.message : 'not plain JSON'}`
  }
  return actual === hash ? undefined : `${what} does not match ${what}Hash`
}

/**
 * Check a receipt's shape and signature, and — for each one given — that it is of the
 * expected team, task, attempt and executor and that `input` / `output` hash to its
 * hashes. The first problem found is the reason. Never throws.
 */
export function verifyReceipt (receipt: unknown, expect: ReceiptExpectation = {}): ReceiptCheck {
  try {
    const problem = shapeProblem(receipt, true)
    if (problem != null) return { ok: false, reason: `malformed receipt: ${problem}` }
    const r = receipt as Receipt
    const proof = r.batch === undefined ? { sig: r.sig } : { sig: r.sig, batch: r.batch }
    if (!verifyLeaf(RECEIPT_BATCH_DOMAIN, r.executor, signingBytes(r), proof)) {
      const which = r.batch === undefined ? '' : ` (as receipt ${r.batch.i} of a batch of ${r.batch.n})`
      return { ok: false, reason: `signature does not verify with the key of executor ${r.executor}${which}` }
    }
    if (expect.teamId != null && r.teamId !== expect.teamId) return { ok: false, reason: `receipt is for team ${quote(r.teamId)}, expected ${quote(expect.teamId)}` }
    if (expect.taskId != null && r.taskId !== expect.taskId) return { ok: false, reason: `receipt is for task ${quote(r.taskId)}, expected ${quote(expect.taskId)}` }
    if (expect.attempt != null && r.attempt !== expect.attempt) return { ok: false, reason: `receipt is for attempt ${r.attempt}, expected ${expect.attempt}` }
    if (expect.executor != null && r.executor !== expect.executor) {
      return { ok: false, reason: `receipt is by executor ${r.executor}, expected ${expect.executor}` }
    }
    if (expect.input !== undefined) {
      const bad = matchesHash('input', expect.input, r.inputHash)
      if (bad != null) return { ok: false, reason: bad }
    }
    if (expect.output !== undefined) {
      const bad = matchesHash('output', expect.output, r.outputHash)
      if (bad != null) return { ok: false, reason: bad }
    }
    return { ok: true }
  } catch (err) {
    // a getter or proxy in a hostile object: not a receipt
    return { ok: false, reason: `malformed receipt: ${err instanceof Error ? err.message : 'unreadable value'}` }
  }
}

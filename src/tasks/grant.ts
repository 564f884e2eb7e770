/**
 * Lease grants: the coordinator's signed statement "attempt N of task T is yours,
 * executor E; I coordinate T at adoption epoch K". The coordinator puts one in each offer;
 * the executor carries it in its `task:result`, so every member can check, from that op
 * alone, that the result comes from the machine the task's coordinator gave the attempt
 * to. Whether the signer really coordinates the task (its submitter at epoch 0, or a
 * member that adopted it at epoch K) is decided by the task lattice from replicated facts.
 *
 * `sig` is base64url (unpadded) over `paired/grant/v1\n` + canonical JSON of
 * `{ taskId, attempt, executor, coordinator, epoch }`. Grants signed together
 * (`signGrants`) share one signature over a Merkle tree of those bytes instead, and each
 * carries `batch: { i, n, path }`, its inclusion proof (`batch-proof.ts`); `sig` is then
 * over `paired/lease-grant-batch/v1\n` + `{"n":..,"root":..}`.
 */
import { canonicalJson, type Signer } from '../team/index.js'
import { ED25519_SIGNATURE_LENGTH, MAX_PEER_ID_LENGTH } from '../team/constants.js'
import { InvalidArgumentError } from '../errors.js'
import { batchProblem, signLeaves, verifyLeaf, type BatchProof } from './batch-proof.js'

/** Signature domain of a grant. */
export const GRANT_DOMAIN = 'paired/grant/v1\n'
/** Signature domain of the root of a batch of grants. */
export const GRANT_BATCH_DOMAIN = 'paired/lease-grant-batch/v1\n'
/** Highest adoption epoch a grant may name (the `task:adopt` op's limit). */
export const MAX_GRANT_EPOCH = 1_000_000

/** A grant as it travels in an offer and in a `task:result` body. */
export interface LeaseGrant {
  /** the peer that coordinates the task and signed the grant */
  coordinator: string
  /** its adoption epoch (0: the submitter) */
  epoch: number
  /** base64url Ed25519 signature by `coordinator`: of this grant, or with `batch`, of its batch's root */
  sig: string
  /** where the grant sits in the batch the signature covers; absent when signed alone */
  batch?: BatchProof
}

/** What a grant is about: taken from the op that carries it, never from the grant. */
export interface GrantSubject {
  taskId: string
  attempt: number
  executor: string
}

export type GrantCheck = { ok: true } | { ok: false, reason: string }

const SIG_LENGTH = Math.ceil(ED25519_SIGNATURE_LENGTH * 4 / 3)
const GRANT_KEYS: ReadonlySet<string> = new Set(['coordinator', 'epoch', 'sig', 'batch'])

function signingBytes (subject: GrantSubject, coordinator: string, epoch: number): Uint8Array {
  const body = { taskId: subject.taskId, attempt: subject.attempt, executor: subject.executor, coordinator, epoch }
  return new TextEncoder().encode(GRANT_DOMAIN + canonicalJson(body))
}

/** The first thing wrong with a grant's shape, or undefined (the signature is not checked). */
export function grantShapeProblem (value: unknown): string | undefined {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return 'a grant is an object'
  const g = value as Record<string, unknown>
  if (Object.keys(g).some(k => !GRANT_KEYS.has(k))) return 'a grant is exactly { coordinator, epoch, sig, batch? }'
  if (typeof g.coordinator !== 'string' || g.coordinator.length === 0 || g.coordinator.length > MAX_PEER_ID_LENGTH) return 'a grant names its coordinator'
  if (typeof g.epoch !== 'number' || !Number.isSafeInteger(g.epoch) || g.epoch < 0 || g.epoch > MAX_GRANT_EPOCH) return `a grant's epoch is a whole number in 0..${MAX_GRANT_EPOCH}`
  if (typeof g.sig !== 'string' || g.sig.length !== SIG_LENGTH) return 'a grant carries a base64url Ed25519 signature'
  if (Object.hasOwn(g, 'batch')) {
    const problem = batchProblem(g.batch)
    if (problem !== undefined) return `a grant's ${problem}`
  }
  return undefined
}

/** The coordinator's grant of `subject`. Throws `InvalidArgumentError` for a bad epoch. */
export function signGrant (subject: GrantSubject, epoch: number, signer: Signer): LeaseGrant {
  return signGrants([{ subject, epoch }], signer)[0]
}

/**
 * Signs the grants of several attempts at once (one offer batch to one executor, say): one
 * Ed25519 signature per 4,096, each grant with its inclusion proof; a lone grant keeps the
 * plain form. Throws `InvalidArgumentError` for a bad epoch, before signing anything.
 */
export function signGrants (items: Array<{ subject: GrantSubject, epoch: number }>, signer: Signer): LeaseGrant[] {
  for (const { epoch } of items) {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_GRANT_EPOCH) throw new InvalidArgumentError(`a grant's epoch is a whole number in 0..${MAX_GRANT_EPOCH}`)
  }
  const proofs = signLeaves(GRANT_BATCH_DOMAIN, items.map(({ subject, epoch }) => signingBytes(subject, signer.peerId, epoch)), signer)
  return items.map(({ epoch }, i) => ({ coordinator: signer.peerId, epoch, ...proofs[i] }))
}

/** Checks a grant's shape and that its coordinator signed it for `subject`. Never throws. */
export function verifyGrant (grant: unknown, subject: GrantSubject): GrantCheck {
  try {
    const problem = grantShapeProblem(grant)
    if (problem !== undefined) return { ok: false, reason: `malformed grant: ${problem}` }
    const g = grant as LeaseGrant
    const proof = g.batch === undefined ? { sig: g.sig } : { sig: g.sig, batch: g.batch }
    if (!verifyLeaf(GRANT_BATCH_DOMAIN, g.coordinator, signingBytes(subject, g.coordinator, g.epoch), proof)) {
      return { ok: false, reason: `the grant does not verify as ${g.coordinator}'s for attempt ${subject.attempt} by ${subject.executor}` }
    }
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: `malformed grant: ${err instanceof Error ? err.message : 'unreadable value'}` }
  }
}

/**
 * Signatures already checked. A batch of receipts or grants shares one signature over its
 * Merkle root, and every result of the batch carries it: a member checks it once, the
 * rest of the batch costs hashing. Roots this daemon signs itself are known good from the
 * start, so its own results never cost a verification.
 *
 * An entry is (signer, sha256 of the signed message, signature) and is added only after
 * Ed25519 said yes (or this process signed it): a failure is never remembered, so a bad
 * signature over a known root is checked, and fails, every time. Bounded (LRU); module
 * state because every store and service of the process may share what it proved.
 */
import { createHash } from 'node:crypto'
import { peerPublicKey, verifyEd25519 } from '../team/index.js'
import { fromBase64url } from '../team/canonical.js'
import { ED25519_SIGNATURE_LENGTH } from '../team/constants.js'

/** Signatures remembered: a few seconds of batches at full rate from every member. */
export const PROOF_CACHE_SIZE = 4096

const verified = new Map<string, true>()
/** tails of inclusion paths known to end at a verified root (`batch-proof.ts`) */
const tails = new Map<string, true>()
/** public keys of recent signers: decoding a peer id costs several hashes' worth */
const keys = new Map<string, Uint8Array>()
const KEY_CACHE_SIZE = 1024

function keyOf (signer: string, message: Uint8Array, sig: string): string {
  // peer ids and base64url never hold a newline, so the parts cannot run into each other
  return `${signer}\n${sig}\n${createHash('sha256').update(message).digest('base64url')}`
}

function remember (key: string, into = verified): void {
  into.delete(key)
  into.set(key, true)
  if (into.size > PROOF_CACHE_SIZE) into.delete(into.keys().next().value as string)
}

/**
 * Memo of a pure check: `key` names every input of a computation that returned true
 * (the rest of an inclusion path, up to a root whose signature verified). Only ever
 * given true results, so a hit answers exactly what the computation would.
 */
export function knownTail (key: string): boolean {
  if (!tails.has(key)) return false
  remember(key, tails)
  return true
}

/** Records that the computation `key` names returned true. */
export function rememberTail (key: string): void {
  remember(key, tails)
}

/**
 * The Ed25519 public key `peerId` embeds, or `undefined` when it is not an Ed25519 peer
 * id (`peerPublicKey`), remembered for the most recent signers.
 */
export function signerKey (peerId: unknown): Uint8Array | undefined {
  if (typeof peerId !== 'string') return undefined
  let key = keys.get(peerId)
  if (key === undefined) {
    key = peerPublicKey(peerId)
    if (key === undefined) return undefined
    if (keys.size >= KEY_CACHE_SIZE) keys.delete(keys.keys().next().value as string)
    keys.set(peerId, key)
  }
  return key
}

/** Records that `signer` signed `message` with `sig`: only for signatures this process made. */
export function rememberSigned (signer: string, message: Uint8Array, sig: string): void {
  remember(keyOf(signer, message, sig))
}

/**
 * True when `sig` (base64url) is `signer`'s (an Ed25519 peer id's) signature of
 * `message`: from the cache, or by Ed25519 (and then remembered). Never throws.
 */
export function verifySigned (signer: string, message: Uint8Array, sig: string): boolean {
  const key = keyOf(signer, message, sig)
  if (verified.has(key)) {
    remember(key)
    return true
  }
  const publicKey = signerKey(signer)
  const bytes = fromBase64url(sig, ED25519_SIGNATURE_LENGTH)
  if (publicKey == null || bytes == null || !verifyEd25519(publicKey, message, bytes)) return false
  remember(key)
  return true
}

/** Empties the cache: for tests and benchmarks that play a member that saw nothing yet. */
export function forgetVerified (): void {
  verified.clear()
  tails.clear()
}

/** How many signatures are remembered. */
export function verifiedCount (): number {
  return verified.size
}

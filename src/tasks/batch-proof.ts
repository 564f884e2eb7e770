/**
 * One signature for a batch of statements (receipts, lease grants). The statements' own
 * signing bytes (their domain line + canonical JSON) are the leaves of a Merkle tree
 * (`src/team/merkle.ts`); the signer signs `<batch domain>` + canonical JSON of
 * `{ n, root }` (root in hex), so a proof is bound to its tree's size and cannot be
 * replayed in a tree of another size. Each statement carries the shared signature and
 * `batch: { i, n, path }` (its index, the tree's size, its inclusion path, base64url), and
 * stays checkable on its own, offline. A statement signed alone keeps the plain form: the
 * signature over its own bytes and no `batch`.
 */
import { canonicalJson, type Signer } from '../team/index.js'
import { toBase64url, toHex } from '../team/canonical.js'
import { MAX_MERKLE_LEAVES, MAX_MERKLE_PATH, climb, leafHash, merkleTree, pathStart } from '../team/merkle.js'
import { knownTail, rememberSigned, rememberTail, verifySigned } from './proof-cache.js'

/** Where a statement sits in its signed batch. */
export interface BatchProof {
  /** its index, 0..n-1 */
  i: number
  /** how many statements the signature covers, 2..4096 (1 is allowed but never made) */
  n: number
  /** sibling hashes from the leaf up, base64url of 32 bytes each, at most 12 */
  path: string[]
}

/** One statement's proof: the signature, and where it sits if it was signed in a batch. */
export interface LeafProof {
  sig: string
  batch?: BatchProof
}

/**
 * The one spelling of 32 bytes in unpadded base64url: 43 characters, the last carrying 4
 * bits and two zero bits, so no hash has two accepted spellings.
 */
const HASH_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
/**
 * Path entries hashed before the memo of known tails is asked: the 2^k leaves under one
 * node share the rest of their path, so the rest is walked once per 2^k leaves.
 */
const MEMO_DEPTH = 3
const BATCH_KEYS: ReadonlySet<string> = new Set(['i', 'n', 'path'])

/** The first thing wrong with a `batch` field's shape, or undefined (the path is not walked). */
export function batchProblem (value: unknown): string | undefined {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) return 'batch must be an object { i, n, path }'
  const b = value as Record<string, unknown>
  if (Object.keys(b).some(k => !BATCH_KEYS.has(k))) return 'batch must be exactly { i, n, path }'
  if (typeof b.n !== 'number' || !Number.isSafeInteger(b.n) || b.n < 1 || b.n > MAX_MERKLE_LEAVES) return `batch.n must be a whole number in 1..${MAX_MERKLE_LEAVES}`
  if (typeof b.i !== 'number' || !Number.isSafeInteger(b.i) || b.i < 0 || b.i >= b.n) return 'batch.i must be a whole number below batch.n'
  if (!Array.isArray(b.path) || b.path.length > MAX_MERKLE_PATH) return `batch.path must be a list of at most ${MAX_MERKLE_PATH} hashes`
  for (const h of b.path as unknown[]) {
    if (typeof h !== 'string' || !HASH_PATTERN.test(h)) return 'batch.path must hold base64url sha256 hashes'
  }
  return undefined
}

function rootMessage (domain: string, n: number, root: Uint8Array): Uint8Array {
  return new TextEncoder().encode(domain + canonicalJson({ n, root: toHex(root) }))
}

/**
 * Signs `messages` (each statement's own signing bytes) as `signer`: one message alone
 * with a plain signature, more in trees of at most 4,096 under one signature each. Every
 * signature made is remembered as good (`proof-cache.ts`).
 */
export function signLeaves (batchDomain: string, messages: Uint8Array[], signer: Signer): LeafProof[] {
  const out: LeafProof[] = []
  for (let start = 0; start < messages.length; start += MAX_MERKLE_LEAVES) {
    const chunk = messages.slice(start, start + MAX_MERKLE_LEAVES)
    if (chunk.length === 1) {
      const sig = toBase64url(signer.sign(chunk[0]))
      rememberSigned(signer.peerId, chunk[0], sig)
      out.push({ sig })
      continue
    }
    const { root, paths } = merkleTree(chunk.map(leafHash))
    const message = rootMessage(batchDomain, chunk.length, root)
    const sig = toBase64url(signer.sign(message))
    rememberSigned(signer.peerId, message, sig)
    for (let i = 0; i < chunk.length; i++) {
      out.push({ sig, batch: { i, n: chunk.length, path: paths[i].map(toBase64url) } })
    }
  }
  return out
}

/**
 * True when `proof` shows that `signer` signed `message`: directly, or as leaf `batch.i`
 * of a tree of `batch.n` whose root it signed under `batchDomain`. The shape of `batch`
 * must have passed `batchProblem`. Never throws.
 */
export function verifyLeaf (batchDomain: string, signer: string, message: Uint8Array, proof: LeafProof): boolean {
  const { sig, batch } = proof
  if (batch === undefined) return verifySigned(signer, message, sig)
  const start = pathStart(leafHash(message), batch.i, batch.n)
  if (start === undefined || batch.path.length > MAX_MERKLE_PATH) return false
  const depth = Math.min(MEMO_DEPTH, batch.path.length)
  const mid = climb(start, decode(batch.path.slice(0, depth)))
  if (mid === undefined) return false
  // every input of the rest of the check: signer, signature, domain, size, where the walk stands, the rest of the path
  const tail = `${signer}\n${sig}\n${batchDomain}${batch.n}\n${mid.fn},${mid.sn}\n${toBase64url(mid.node)}\n${batch.path.slice(depth).join(',')}`
  if (knownTail(tail)) return true
  const end = climb(mid, decode(batch.path.slice(depth)))
  if (end?.sn !== 0) return false
  const ok = verifySigned(signer, rootMessage(batchDomain, batch.n, end.node), sig)
  if (ok) rememberTail(tail)
  return ok
}

/** path entries whose shape `batchProblem` passed */
function decode (hashes: string[]): Uint8Array[] {
  return hashes.map(h => Buffer.from(h, 'base64url'))
}

/**
 * Canonical encodings of ops and the bytes a batch signature covers.
 */
import { hash } from 'node:crypto'
import { canonicalJson } from '../../team/canonical.js'
import { canonicalJsonFast, quoted } from './canonical-fast.js'
import { OP_BATCH_DOMAIN, OP_HASH_LENGTH } from './constants.js'
import { InvalidOpError } from './errors.js'
import type { Op } from './types.js'

const utf8 = new TextEncoder()

/**
 * The canonical encoding of an op: UTF-8 of the canonical JSON (keys sorted, no
 * whitespace) of `{ author, seq, hlc: { wall, logical, node }, kind, body }`. Only plain
 * JSON survives the wire, so only plain JSON is accepted: anything else throws
 * `InvalidOpError`.
 */
export function encodeOp (op: Op): Uint8Array {
  return utf8.encode(encodeOpText(op))
}

/**
 * `encodeOp` as text, which is what the hot path hashes (`sha256` takes it as is: no
 * byte array per op). The fixed fields are written directly, in canonical key order; the
 * body goes through the canonical encoder.
 */
export function encodeOpText (op: Op): string {
  const { author, seq, kind, body } = op
  const hlc = op.hlc as Partial<Op['hlc']> | undefined
  if (typeof author !== 'string' || typeof kind !== 'string' || typeof hlc !== 'object' || hlc === null ||
    typeof hlc.node !== 'string' || !isFiniteNumber(seq) || !isFiniteNumber(hlc.wall) || !isFiniteNumber(hlc.logical)) {
    throw new InvalidOpError(`op ${String(seq)} cannot be encoded: author, kind and hlc.node are strings, seq and hlc numbers`)
  }
  let encodedBody: string
  try {
    encodedBody = canonicalJsonFast(body)
  } catch (err) {
    throw new InvalidOpError(`op ${String(seq)} cannot be encoded: ${(err as Error).message}`)
  }
  return `{"author":${quoted(author)},"body":${encodedBody},` +
    `"hlc":{"logical":${JSON.stringify(hlc.logical)},"node":${quoted(hlc.node)},"wall":${JSON.stringify(hlc.wall)}},` +
    `"kind":${quoted(kind)},"seq":${JSON.stringify(seq)}}`
}

function isFiniteNumber (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** sha256 of some bytes, or of a text's UTF-8 (one call: no hash object to make and collect) */
export function sha256 (data: Uint8Array | string): Uint8Array {
  const digest = hash('sha256', data, 'buffer') as unknown as Buffer
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** sha256 of `encodeOp(op)`: what a batch signature covers for this op. */
export function opHash (op: Op): Uint8Array {
  return sha256(encodeOpText(op))
}

/**
 * The bytes a batch signature covers: `OP_BATCH_DOMAIN`, the canonical JSON of
 * `{ author, fromSeq, team, toSeq }`, a newline, then each op hash (32 bytes) in seq order.
 * The team id binds a batch to its team: a member of two teams cannot replay the other's
 * ops of a shared author (v1 signed no team).
 */
export function batchSigningBytes (teamId: string, author: string, fromSeq: number, toSeq: number, hashes: Uint8Array[]): Uint8Array {
  const head = utf8.encode(`${OP_BATCH_DOMAIN}${canonicalJson({ author, fromSeq, team: teamId, toSeq })}\n`)
  const out = new Uint8Array(head.length + hashes.reduce((n, h) => n + h.length, 0))
  out.set(head, 0)
  let at = head.length
  for (const hash of hashes) {
    out.set(hash, at)
    at += hash.length
  }
  return out
}

/**
 * `batchSigningBytes` filled in as a batch is checked: each op's hash goes straight into
 * the signed message, and `hashes()` reads them back as views of it. No 32-byte array
 * (each with its own backing store for the collector to track) per op verified.
 */
export class BatchSigning {
  /** the bytes the signature covers, once every slot is filled */
  readonly bytes: Buffer
  private readonly head: number

  constructor (teamId: string, author: string, fromSeq: number, toSeq: number) {
    const head = `${OP_BATCH_DOMAIN}${canonicalJson({ author, fromSeq, team: teamId, toSeq })}\n`
    this.head = Buffer.byteLength(head, 'utf8')
    this.bytes = Buffer.alloc(this.head + (toSeq - fromSeq + 1) * OP_HASH_LENGTH)
    this.bytes.write(head, 0, 'utf8')
  }

  /** slot `i` (op `fromSeq + i`) holds the sha256 of `text`, an op's canonical encoding */
  hashInto (i: number, text: string): void {
    this.bytes.write(hash('sha256', text, 'binary'), this.head + i * OP_HASH_LENGTH, OP_HASH_LENGTH, 'latin1')
  }

  /** slot `i` holds `digest` (a hash from a pruned batch's list) */
  setHash (i: number, digest: Uint8Array): void {
    this.bytes.set(digest, this.head + i * OP_HASH_LENGTH)
  }

  /** every slot's hash, in seq order, as views of `bytes` */
  hashes (): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let at = this.head; at < this.bytes.byteLength; at += OP_HASH_LENGTH) {
      out.push(new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + at, OP_HASH_LENGTH))
    }
    return out
  }
}

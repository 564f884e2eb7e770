/**
 * The presence heartbeat document, and its signature: a member signs each heartbeat it
 * publishes with its identity key, and a receiver verifies it against the key its peer id
 * embeds, under a domain of its own (a heartbeat's bytes are never valid as anything else).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto'
import { heartbeat } from '../protocol/schemas/gossip.js'
import { canonicalJson, peerPublicKey, type Signer } from '../team/index.js'
import type { Capacity } from './capacity.js'

export interface Heartbeat {
  v: 1
  type: 'beat' | 'left'
  peerId: string
  /** strictly increasing per sender, also across restarts (it starts from the clock) */
  seq: number
  intervalMs: number
  capacity?: Capacity
  /** digest of the sender's replicated-state version vector: a difference means sync */
  digest?: string
  /**
   * {@link peerTag}s of the members the sender's own publish reaches directly (its
   * subscribers on the presence topic); absent in large teams and from older daemons.
   * A receiver relays the heartbeat only to reach a member not in this list.
   */
  direct?: string[]
  /**
   * the sender's own dialable addresses (a few): a member that learned of it only from
   * roster gossip, with no address, can dial it at once. Signed by the sender, so no one
   * else can point others' dials at an address of its choosing in its name.
   */
  addrs?: string[]
  sig: string
}

const DOMAIN = 'paired/presence/v1\n'
/** public keys kept ready for verifying (a team's members; cleared if it ever grows past) */
const MAX_CACHED_KEYS = 4096
const ED25519_SIGNATURE_BYTES = 64
const encoder = new TextEncoder()
const keys = new Map<string, KeyObject>()

/**
 * The public key a peer id embeds, as a `KeyObject`, cached. Building one is the dearest
 * step of a verification: ~80 µs (OpenSSL 3) when idle, and it was the top JavaScript
 * item of an idle daemon's profile; the verification itself is ~100 µs.
 */
function keyOf (peerId: string): KeyObject | undefined {
  let key = keys.get(peerId)
  if (key == null) {
    const raw = peerPublicKey(peerId)
    if (raw == null) return undefined
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
    if (keys.size >= MAX_CACHED_KEYS) keys.clear()
    keys.set(peerId, key)
  }
  return key
}

function payload (hb: Omit<Heartbeat, 'sig'>): Uint8Array {
  const { sig: _sig, ...body } = hb as Heartbeat
  return encoder.encode(DOMAIN + canonicalJson(body))
}

export function signHeartbeat (body: Omit<Heartbeat, 'sig'>, signer: Signer): Heartbeat {
  return { ...body, sig: Buffer.from(signer.sign(payload(body))).toString('base64url') }
}

export function verifyHeartbeat (value: unknown): value is Heartbeat {
  if (!heartbeat.check(value)) return false
  const key = keyOf(value.peerId)
  if (key == null) return false
  try {
    const sig = Buffer.from(value.sig, 'base64url')
    return sig.length === ED25519_SIGNATURE_BYTES && verify(null, payload(value as unknown as Heartbeat), key, sig)
  } catch {
    return false
  }
}

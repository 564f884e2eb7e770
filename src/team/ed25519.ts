/**
 * Ed25519 over `node:crypto`, on raw 32-byte keys and seeds (the libp2p layout:
 * an Ed25519 private key's `raw` is seed ‖ public key).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidArgumentError } from '../errors.js'
import {
  ED25519_PUBLIC_KEY_LENGTH, ED25519_SEED_LENGTH, ED25519_SIGNATURE_LENGTH, MAX_PEER_ID_LENGTH
} from './constants.js'
import type { Signer } from './types.js'

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

function privateKeyObject (seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    throw new InvalidArgumentError(`an Ed25519 seed is ${ED25519_SEED_LENGTH} bytes`)
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
}

/** parsed public keys of recent signers: parsing costs as much as verifying */
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_SIZE = 1024

function publicKeyObject (publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('base64')
  let key = keyCache.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value as string)
    keyCache.set(id, key)
  }
  return key
}

function rawPublicKey (key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(SPKI_PREFIX.length))
}

/** A fresh key pair from 32 random bytes. */
export function generateEd25519 (): { publicKey: Uint8Array, seed: Uint8Array } {
  const seed = new Uint8Array(randomBytes(ED25519_SEED_LENGTH))
  return { publicKey: publicKeyFromSeed(seed), seed }
}

/** The raw public key of a 32-byte seed. */
export function publicKeyFromSeed (seed: Uint8Array): Uint8Array {
  return rawPublicKey(createPublicKey(privateKeyObject(seed)))
}

/** A 64-byte signature of `data`; throws `InvalidArgumentError` for a seed of the wrong size. */
export function signEd25519 (seed: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, privateKeyObject(seed)))
}

/** True when `sig` is a valid signature of `data` by `publicKey`; never throws. */
export function verifyEd25519 (publicKey: Uint8Array, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || sig.length !== ED25519_SIGNATURE_LENGTH) return false
    return verify(null, data, publicKeyObject(publicKey), sig)
  } catch {
    return false
  }
}

/**
 * The raw Ed25519 public key a peer id embeds, or `undefined` when `peerId` is not the
 * canonical (base58btc) string of an Ed25519 peer id.
 */
export function peerPublicKey (peerId: unknown): Uint8Array | undefined {
  if (typeof peerId !== 'string' || peerId.length === 0 || peerId.length > MAX_PEER_ID_LENGTH) return undefined
  try {
    const id = peerIdFromString(peerId)
    if (id.type !== 'Ed25519' || id.toString() !== peerId) return undefined
    const raw = id.publicKey.raw
    return raw.length === ED25519_PUBLIC_KEY_LENGTH ? raw : undefined
  } catch {
    return undefined
  }
}

/**
 * A `Signer` for `peerId` from its 32-byte seed. Throws `InvalidArgumentError` when the
 * seed's public key is not the one the peer id embeds.
 */
export function signerFromSeed (peerId: string, seed: Uint8Array): Signer {
  const key = privateKeyObject(seed)
  const expected = peerPublicKey(peerId)
  if (expected == null) throw new InvalidArgumentError(`${peerId} is not an Ed25519 peer id`)
  if (!Buffer.from(rawPublicKey(createPublicKey(key))).equals(expected)) {
    throw new InvalidArgumentError(`the seed is not the key of ${peerId}`)
  }
  return {
    peerId,
    sign: (data: Uint8Array): Uint8Array => new Uint8Array(sign(null, data, key))
  }
}

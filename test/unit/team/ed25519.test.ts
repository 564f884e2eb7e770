import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import {
  canonicalJson, generateEd25519, peerPublicKey, publicKeyFromSeed, signEd25519, signerFromSeed, verifyEd25519
} from '../../../src/team/index.js'
import { makePeer } from './helpers.js'

const data = new TextEncoder().encode('hello team')

describe('ed25519', () => {
  it('signs and verifies a round trip', () => {
    const { publicKey, seed } = generateEd25519()
    expect(publicKey).toHaveLength(32)
    expect(seed).toHaveLength(32)
    expect(publicKeyFromSeed(seed)).toEqual(publicKey)
    const sig = signEd25519(seed, data)
    expect(sig).toHaveLength(64)
    expect(verifyEd25519(publicKey, data, sig)).toBe(true)
  })

  it('rejects a wrong key, wrong data, a flipped bit and bad lengths without throwing', () => {
    const a = generateEd25519()
    const b = generateEd25519()
    const sig = signEd25519(a.seed, data)
    expect(verifyEd25519(b.publicKey, data, sig)).toBe(false)
    expect(verifyEd25519(a.publicKey, new TextEncoder().encode('hello teaM'), sig)).toBe(false)
    const flipped = sig.slice()
    flipped[10] ^= 1
    expect(verifyEd25519(a.publicKey, data, flipped)).toBe(false)
    expect(verifyEd25519(a.publicKey, data, sig.subarray(0, 63))).toBe(false)
    expect(verifyEd25519(a.publicKey.subarray(0, 31), data, sig)).toBe(false)
    expect(verifyEd25519(new Uint8Array(32), data, new Uint8Array(64))).toBe(false)
  })

  it('uses the libp2p key layout: seed = raw[0..32], verified by libp2p', async () => {
    const peer = await makePeer()
    const sig = peer.signer.sign(data)
    expect(await peer.privateKey.publicKey.verify(data, sig)).toBe(true)
    expect(publicKeyFromSeed(peer.seed)).toEqual(peer.privateKey.publicKey.raw)
    expect(peerPublicKey(peer.peerId)).toEqual(peer.privateKey.publicKey.raw)
    const libp2pSig = await peer.privateKey.sign(data)
    expect(verifyEd25519(peer.privateKey.publicKey.raw, data, libp2pSig)).toBe(true)
  })

  it('refuses a seed that is not the peer id key', async () => {
    const a = await makePeer()
    const b = await makePeer()
    expect(() => signerFromSeed(a.peerId, b.seed)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => signerFromSeed(a.peerId, new Uint8Array(31))).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it('reads keys only from canonical Ed25519 peer ids', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1'))
    expect(peerPublicKey(secp.toString())).toBeUndefined()
    const ed = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    expect(peerPublicKey(ed.toCID().toString())).toBeUndefined()
    for (const bad of ['', 'hello', '12D3KooW', 42, null, undefined, {}]) expect(peerPublicKey(bad)).toBeUndefined()
  })
})

describe('canonicalJson', () => {
  it('sorts keys at every level, drops undefined, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: true, y: null }], c: 'x' }, u: undefined }))
      .toBe('{"a":{"c":"x","d":[3,1,{"y":null,"z":true}]},"b":1}')
  })

  it('is independent of insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }))
  })

  it('rejects what JSON cannot say exactly', () => {
    for (const bad of [NaN, Infinity, -Infinity, { a: NaN }, [undefined], 1n, () => 1, new Date(0), new Uint8Array(1)]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError)
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => canonicalJson(cyclic)).toThrow(TypeError)
  })
})

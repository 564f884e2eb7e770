/**
 * Test authors and ops: real Ed25519 peer ids, ops built by hand so tests control seqs
 * and clocks.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { signerFromSeed } from '../../../../src/team/ed25519.js'
import type { Op, OpSigner } from '../../../../src/state/ops/index.js'

export interface Author {
  peerId: string
  signer: OpSigner
}

export async function makeAuthor (): Promise<Author> {
  const key = await generateKeyPair('Ed25519')
  const peerId = peerIdFromPrivateKey(key).toString()
  return { peerId, signer: signerFromSeed(peerId, key.raw.subarray(0, 32)) }
}

export async function makeAuthors (n: number): Promise<Author[]> {
  return Promise.all(Array.from({ length: n }, async () => makeAuthor()))
}

export const T0 = Date.UTC(2025, 0, 1)
/** the team the batches of these tests are signed for */
export const TEAM = '00112233445566778899aabbccddeeff'

/** `n` kv:set ops of `author` from `fromSeq`, setting `key(seq)` to `value(seq)`. */
export function kvOps (
  author: string, fromSeq: number, n: number,
  key: (seq: number) => string = seq => `k${seq}`,
  value: (seq: number) => unknown = seq => ({ n: seq })
): Op[] {
  return Array.from({ length: n }, (_, i) => {
    const seq = fromSeq + i
    return { author, seq, hlc: { wall: T0 + seq, logical: 0, node: author }, kind: 'kv:set', body: { key: key(seq), value: value(seq) } }
  })
}

/** A deep copy that tests can tamper with. */
export function clone<T> (value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

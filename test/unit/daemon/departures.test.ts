import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { Departures, signDeparture, verifyDeparture } from '../../../src/daemon/departures.js'
import { signerFromSeed } from '../../../src/team/index.js'

async function signer (): Promise<ReturnType<typeof signerFromSeed>> {
  const key = await generateKeyPair('Ed25519')
  return signerFromSeed(peerIdFromPrivateKey(key).toString(), key.raw.subarray(0, 32))
}

describe('departures', () => {
  it('only the peer itself can sign its departure, for one team', async () => {
    const me = await signer()
    const other = await signer()
    const d = signDeparture('team-a', me, 1_000)
    expect(verifyDeparture(d, 'team-a')).toBe(true)
    expect(verifyDeparture(d, 'team-b')).toBe(false)
    expect(verifyDeparture({ ...d, leftAt: 2_000 }, 'team-a')).toBe(false)
    expect(verifyDeparture({ ...d, peerId: other.peerId }, 'team-a')).toBe(false)
    expect(verifyDeparture({ ...signDeparture('team-a', other, 1_000), peerId: me.peerId }, 'team-a')).toBe(false)
    for (const junk of [null, 1, 'x', [], {}, { ...d, sig: 42 }, { ...d, leftAt: -1 }]) {
      expect(verifyDeparture(junk, 'team-a')).toBe(false)
    }
  })

  it('covers certificates issued up to the departure, not a later re-invite; merges order-free', async () => {
    const me = await signer()
    const early = signDeparture('t', me, 1_000)
    const late = signDeparture('t', me, 5_000)
    const x = new Departures('t')
    const y = new Departures('t')
    expect(x.merge([early, late, 'garbage'])).toEqual([me.peerId, me.peerId])
    expect(y.merge([late, early])).toEqual([me.peerId])
    expect(x.toJSON()).toEqual(y.toJSON())
    expect(x.covers({ peerId: me.peerId, issuedAt: 4_000 })).toBe(true)
    expect(x.covers({ peerId: me.peerId, issuedAt: 6_000 })).toBe(false)
  })
})

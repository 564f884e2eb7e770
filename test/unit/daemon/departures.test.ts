import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { Departures, signDeparture, signRemoval, signRevocation, verifyDeparture, verifyRemoval, verifyRevocation } from '../../../src/daemon/departures.js'
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

  it('a removal counts only when an admin signed it, and covers permissions granted up to it', async () => {
    const admin = await signer()
    const member = await signer()
    const x = new Departures('t')
    x.isAdmin = peer => peer === admin.peerId
    const forged = signRemoval('t', admin.peerId, member, 1_000) // a member "removing" the admin
    expect(verifyRemoval(forged, 't')).toBe(true) // well signed...
    expect(x.merge([forged])).toEqual([]) // ...but not by an admin
    expect(verifyRemoval({ ...signRemoval('t', member.peerId, admin, 1_000), at: 2_000 }, 't')).toBe(false)
    expect(x.merge([signRemoval('t', member.peerId, admin, 5_000)])).toEqual([member.peerId])
    // the joiner picks its own issuedAt; the admin's grant time decides
    const grant = (issuedAt: number, inviteId = 'i1'): never => ({ issuedAt, inviteId }) as never
    expect(x.covers({ peerId: member.peerId, issuedAt: 9_000, grant: grant(4_000) })).toBe(true)
    expect(x.covers({ peerId: member.peerId, issuedAt: 9_000, grant: grant(6_000) })).toBe(false)
    expect(x.covers({ peerId: member.peerId, issuedAt: 4_000 })).toBe(true)
    expect(x.reason({ peerId: member.peerId, issuedAt: 4_000, name: 'm' })).toMatch(/removed from the team by an admin/)
    expect(x.toJSON()).toHaveLength(1)
  })

  it('a revoked invite admits only the peers it kept; the earliest revocation wins everywhere', async () => {
    const admin = await signer()
    const kept = await signer()
    const late = await signer()
    const first = signRevocation('t', 'inv', [kept.peerId], admin, 1_000)
    const second = signRevocation('t', 'inv', [kept.peerId, late.peerId], admin, 2_000)
    expect(verifyRevocation(first, 't')).toBe(true)
    expect(verifyRevocation({ ...first, keep: [late.peerId] }, 't')).toBe(false)
    const x = new Departures('t')
    const y = new Departures('t')
    for (const d of [x, y]) d.isAdmin = peer => peer === admin.peerId
    x.merge([first, second])
    y.merge([second, first])
    expect(x.toJSON()).toEqual(y.toJSON())
    const cert = (peerId: string, inviteId = 'inv'): never => ({ peerId, issuedAt: 500, grant: { inviteId, issuedAt: 100 } }) as never
    expect(x.covers(cert(kept.peerId))).toBe(false)
    expect(x.covers(cert(late.peerId))).toBe(true)
    expect(x.covers(cert(late.peerId, 'other'))).toBe(false)
    const outsider = new Departures('t') // nobody is an admin: revocations do not count
    expect(outsider.merge([first])).toEqual([])
  })
})

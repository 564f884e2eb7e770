import { beforeAll, describe, expect, it } from 'vitest'
import { checkAdmissible } from '../../../src/daemon/admission.js'
import { Departures, signDeparture, signRemoval, signRevocation } from '../../../src/daemon/departures.js'
import { checkRejoin, describeShutOut, removedError, shutOutOf } from '../../../src/daemon/standing.js'
import { Roster, acceptInvite, type MemberCertificate } from '../../../src/team/index.js'
import { HOUR, T0, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(2)
})

const founder = (): { cert: MemberCertificate, signer: TestPeer['signer'] } => ({ cert: t.founderCert, signer: t.founder.signer })

function world (): { roster: Roster, departures: Departures, team: { teamId: string, name: string } } {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  const departures = new Departures(t.team.teamId)
  departures.isAdmin = peer => peer === t.founder.peerId
  return { roster, departures, team: { teamId: t.team.teamId, name: t.team.name } }
}

function refusal (fn: () => void): { name: string, message: string } {
  try {
    fn()
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message }
  }
  throw new Error('expected a refusal')
}

describe('a leaver and the invite it used', () => {
  it('the roster keeps the first certificate of an invite: a later one from it is not what counts', () => {
    const w = world()
    const { token, cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    const again = acceptInvite({ token, signer: peers[0].signer, name: 'joiner', now: T0 + HOUR })
    expect(w.roster.kept(again)).toBe(w.roster.get(peers[0].peerId))
    expect(w.roster.kept(again).sig).toBe(cert.sig)
    expect(w.roster.add(again, T0 + HOUR)).toBe('exists')
    // a certificate from another invite is its own
    const other = invite(t, founder(), peers[0], { now: T0 + HOUR }).cert
    expect(w.roster.kept(other)).toBe(other)
  })

  it('members refuse the rejoin with InviteUsedError naming the departure; without a departure it passes', () => {
    const w = world()
    const { token, cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    const now = T0 + HOUR
    const again = acceptInvite({ token, signer: peers[0].signer, name: 'joiner', now })
    // still a member: a newer certificate from its own invite is fine
    expect(() => { checkAdmissible(again, peers[0].peerId, { ...w, now }) }).not.toThrow()
    w.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + 3000)])
    expect(refusal(() => { checkAdmissible(again, peers[0].peerId, { ...w, now }) })).toEqual({
      name: 'InviteUsedError',
      message: `invite ${token.grant.inviteId.slice(0, 8)} was already used: joiner (${peers[0].peerId}) left the team; it needs a new invite to come back`
    })
  })

  it('the joiner refuses it itself before changing anything, in its own words', () => {
    const w = world()
    const { token, cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    w.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + 3000)])
    const again = acceptInvite({ token, signer: peers[0].signer, name: 'joiner', now: T0 + HOUR })
    expect(refusal(() => { checkRejoin(again, w) })).toEqual({
      name: 'InviteUsedError',
      message: `invite ${token.grant.inviteId.slice(0, 8)} was already used by this daemon, which left team core since: ask an admin for a new invite`
    })
    // a new invite is fine
    expect(() => { checkRejoin(invite(t, founder(), peers[0], { now: T0 + HOUR }).cert, w) }).not.toThrow()
  })
})

describe('a removed daemon', () => {
  it('knows by whom and when; a write is refused with RemovedFromTeamError', () => {
    const w = world()
    const { cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    expect(shutOutOf(cert, w)).toBeUndefined()
    const at = T0 + HOUR
    w.departures.merge([signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, at)])
    const s = shutOutOf(cert, w)
    expect(s).toEqual({ teamId: t.team.teamId, teamName: 'core', kind: 'removed', by: t.founder.peerId, byName: t.founderCert.name, at })
    expect(describeShutOut(s!)).toBe(`removed from team core by ${t.founderCert.name} at ${new Date(at).toISOString()}`)
    expect(removedError(s!).name).toBe('RemovedFromTeamError')
  })

  it('a removal signed by a non-admin is not one; its own leave is not a removal', () => {
    const w = world()
    const { cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    w.departures.merge([signRemoval(t.team.teamId, peers[0].peerId, peers[1].signer, T0 + HOUR)])
    expect(shutOutOf(cert, w)).toBeUndefined()
    w.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)])
    expect(shutOutOf(cert, w)).toBeUndefined()
  })

  it('comes back only with an invite made after the removal', () => {
    const w = world()
    const before = invite(t, founder(), peers[0], { now: T0 })
    w.roster.add(before.cert, T0 + 2000)
    const unused = invite(t, founder(), peers[1], { now: T0 + 10 }).token
    w.departures.merge([signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, T0 + HOUR)])
    const old = acceptInvite({ token: unused, signer: peers[0].signer, name: 'joiner', now: T0 + 2 * HOUR })
    expect(refusal(() => { checkRejoin(old, w) }).name).toBe('StaleInviteError')
    expect(() => { checkRejoin(invite(t, founder(), peers[0], { now: T0 + 2 * HOUR }).cert, w) }).not.toThrow()
  })

  it('a revoked invite shuts its holder out too, unless the revocation keeps it', () => {
    const w = world()
    const { token, cert } = invite(t, founder(), peers[0])
    w.roster.add(cert, T0 + 2000)
    w.departures.merge([signRevocation(t.team.teamId, token.grant.inviteId, [peers[0].peerId], t.founder.signer, T0 + HOUR)])
    expect(shutOutOf(cert, w)).toBeUndefined()
    const w2 = world()
    w2.roster.add(cert, T0 + 2000)
    w2.departures.merge([signRevocation(t.team.teamId, token.grant.inviteId, [], t.founder.signer, T0 + HOUR)])
    expect(shutOutOf(cert, w2)?.kind).toBe('revoked')
  })
})

import { beforeAll, describe, expect, it } from 'vitest'
import { checkAdmissible, checkPresented, type AdmissionView } from '../../../src/daemon/admission.js'
import { Departures, signDeparture, signRemoval, signRevocation } from '../../../src/daemon/departures.js'
import { DEFAULT_MAX_SKEW_MS } from '../../../src/state/crdt/index.js'
import { Roster, acceptInvite, issueCertificate, type MemberCertificate } from '../../../src/team/index.js'
import { HOUR, T0, clone, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let other: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  other = await makeTeam('other')
  peers = await makePeers(4)
})

const founder = (): { cert: MemberCertificate, signer: TestPeer['signer'] } => ({ cert: t.founderCert, signer: t.founder.signer })

/** a roster holding the founder (and `also`), departures that know the founder as admin */
function view (now: number, also: MemberCertificate[] = []): AdmissionView & { roster: Roster, departures: Departures } {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  for (const c of also) roster.add(c, T0 + HOUR)
  const departures = new Departures(t.team.teamId)
  departures.isAdmin = peer => peer === t.founder.peerId
  return { roster, departures, now }
}

function refusal (fn: () => void): { name: string, message: string } {
  try {
    fn()
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message }
  }
  throw new Error('expected a refusal')
}

const iso = (ms: number): string => new Date(ms).toISOString()

describe('checkPresented', () => {
  it('accepts a certificate of the connecting peer in this team', () => {
    expect(() => { checkPresented(t.founderCert, t.founder.peerId, t.team) }).not.toThrow()
    const { cert } = invite(t, founder(), peers[0])
    expect(() => { checkPresented(cert, peers[0].peerId, t.team) }).not.toThrow()
  })

  it('refuses what is not a certificate, or is another peer\'s', () => {
    const expected = { name: 'InvalidCertificateError', message: 'the certificate presented is not for the connecting peer' }
    for (const junk of [undefined, null, 'cert', 42, [t.founderCert]]) {
      expect(refusal(() => { checkPresented(junk, t.founder.peerId, t.team) })).toEqual(expected)
    }
    expect(refusal(() => { checkPresented(t.founderCert, peers[0].peerId, t.team) })).toEqual(expected)
  })

  it('refuses a certificate of another team, naming both teams', () => {
    expect(refusal(() => { checkPresented(other.founderCert, other.founder.peerId, t.team) })).toEqual({
      name: 'WrongTeamError',
      message: `this daemon is in team core (${t.team.teamId}), not ${other.team.teamId}`
    })
    const noTeam = { ...clone(t.founderCert), teamId: undefined }
    expect(refusal(() => { checkPresented(noTeam, t.founder.peerId, t.team) }).message).toBe(`this daemon is in team core (${t.team.teamId}), not undefined`)
  })
})

describe('checkAdmissible', () => {
  it('admits a fresh certificate from an unused invite, and a team-signed one of any age', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    expect(() => { checkAdmissible(cert, peers[0].peerId, view(cert.issuedAt + DEFAULT_MAX_SKEW_MS)) }).not.toThrow()
    expect(() => { checkAdmissible(cert, peers[0].peerId, view(cert.issuedAt - DEFAULT_MAX_SKEW_MS)) }).not.toThrow()
    const signed = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: peers[1].peerId, name: 'p', role: 'member', now: T0 })
    expect(() => { checkAdmissible(signed, peers[1].peerId, view(T0 + 400 * HOUR)) }).not.toThrow()
  })

  it('admits a certificate it already holds without asking its invite again', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    // expired, and its invite is used up (by this very certificate), yet known: admitted
    expect(() => { checkAdmissible(cert, peers[0].peerId, view(T0 + 48 * HOUR, [cert])) }).not.toThrow()
  })

  it('refuses a certificate its holder gave up by leaving', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    const v = view(T0 + HOUR)
    v.departures.merge([signDeparture(t.team.teamId, peers[0].signer, cert.issuedAt)])
    expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, v) })).toEqual({
      name: 'InvalidCertificateError',
      message: `joiner (${peers[0].peerId}) left the team; it needs a new invite to come back`
    })
  })

  it('refuses a certificate of a member an admin removed, even one it already holds', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    const v = view(T0 + HOUR, [cert])
    v.departures.merge([signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, T0 + HOUR)])
    expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, v) })).toEqual({
      name: 'InvalidCertificateError',
      message: `joiner (${peers[0].peerId}) was removed from the team by an admin; it needs a new invite to come back`
    })
  })

  it('refuses a certificate from a revoked invite', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    const v = view(T0 + HOUR)
    v.departures.merge([signRevocation(t.team.teamId, cert.grant?.inviteId ?? '', [], t.founder.signer, T0 + HOUR)])
    expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, v) })).toEqual({
      name: 'InvalidCertificateError',
      message: `the invite ${cert.grant?.inviteId ?? ''} was revoked by an admin`
    })
  })

  it('says "not a member" when a departure covers a certificate but gives no reason', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0 })
    const v = { ...view(T0 + HOUR), departures: { covers: () => true, reason: () => undefined } }
    expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, v) })).toEqual({
      name: 'InvalidCertificateError',
      message: `joiner (${peers[0].peerId}) is not a member`
    })
  })

  it('refuses a new certificate from an expired invite', () => {
    // accepted a second before the invite ran out, and presented just before and just after
    const { cert } = invite(t, founder(), peers[0], { now: T0, acceptAt: T0 + 24 * HOUR - 1_000 })
    const expiresAt = cert.grant?.expiresAt ?? 0
    expect(() => { checkAdmissible(cert, peers[0].peerId, view(expiresAt)) }).not.toThrow()
    expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, view(expiresAt + 1)) })).toEqual({
      name: 'InviteExpiredError',
      message: `the invite ${cert.grant?.inviteId ?? ''} expired at ${iso(expiresAt)}`
    })
  })

  it('refuses a new certificate from an invite used up by others', () => {
    const { token, cert: first } = invite(t, founder(), peers[0], { now: T0, maxUses: 1 })
    const late = acceptInvite({ token, signer: peers[1].signer, name: 'late', now: T0 + 2_000 })
    expect(refusal(() => { checkAdmissible(late, peers[1].peerId, view(T0 + 3_000, [first])) })).toEqual({
      name: 'InviteUsedError',
      message: `invite ${token.grant.inviteId.slice(0, 8)} was already used (max 1)`
    })
    // while the one use is still free: admitted
    expect(() => { checkAdmissible(late, peers[1].peerId, view(T0 + 3_000)) }).not.toThrow()
  })

  it('refuses a new invite certificate dated beyond the clock skew, either way', () => {
    const { cert } = invite(t, founder(), peers[0], { now: T0, acceptAt: T0 + HOUR })
    const message = `the certificate of ${peers[0].peerId} is dated ${iso(T0 + HOUR)}, not now: join again with a fresh invite (or fix the clock)`
    for (const now of [T0 + HOUR + DEFAULT_MAX_SKEW_MS + 1, T0 + HOUR - DEFAULT_MAX_SKEW_MS - 1]) {
      expect(refusal(() => { checkAdmissible(cert, peers[0].peerId, view(now)) })).toEqual({ name: 'InvalidCertificateError', message })
    }
  })

  it('asks again for a holder that presents a different certificate than the one it holds', () => {
    const held = invite(t, founder(), peers[0], { now: T0 })
    const fresh = invite(t, founder(), peers[0], { now: T0 + HOUR })
    const now = fresh.cert.issuedAt + 25 * HOUR
    expect(refusal(() => { checkAdmissible(fresh.cert, peers[0].peerId, view(now, [held.cert])) }).name).toBe('InviteExpiredError')
  })
})

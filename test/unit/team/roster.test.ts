import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidCertificateError, InviteUsedError, Roster, acceptInvite, createInvite, issueCertificate,
  type InviteToken, type MemberCertificate
} from '../../../src/team/index.js'
import { HOUR, T0, clone, makePeer, makePeers, makeTeam, type TestPeer, type TestTeam } from './helpers.js'

const NOW = T0 + 2 * HOUR

let t: TestTeam
let other: TestTeam
let peers: TestPeer[]

function makeInvite (maxUses: number, role: 'member' | 'guest' = 'member'): InviteToken {
  return createInvite({ team: t.team, issuerCert: t.founderCert, signer: t.founder.signer, role, ttlMs: HOUR, maxUses, now: T0 })
}

function accept (token: InviteToken, peer: TestPeer, at: number): MemberCertificate {
  return acceptInvite({ token, signer: peer.signer, name: 'p', now: at })
}

function issue (peer: TestPeer, role: 'admin' | 'member' | 'guest', now: number, expiresAt?: number): MemberCertificate {
  return issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: peer.peerId, name: 'p', role, now, expiresAt })
}

function ids (certs: MemberCertificate[]): string[] {
  return certs.map(c => c.peerId)
}

beforeAll(async () => {
  t = await makeTeam()
  other = await makeTeam('other')
  peers = await makePeers(6)
})

describe('Roster', () => {
  it('adds verified certificates once, sorted by peer id', () => {
    const roster = new Roster(t.team)
    expect(roster.add(t.founderCert, NOW)).toBe('added')
    expect(roster.add(clone(t.founderCert), NOW)).toBe('exists')
    expect(roster.add(issue(peers[0], 'member', T0), NOW)).toBe('added')
    expect(roster.add(issue(peers[1], 'guest', T0), NOW)).toBe('added')
    expect(roster.size).toBe(3)
    expect(ids(roster.members())).toEqual([t.founder.peerId, peers[0].peerId, peers[1].peerId].sort())
    expect(roster.has(peers[0].peerId)).toBe(true)
    expect(roster.get(peers[1].peerId)?.role).toBe('guest')
    expect(roster.has(peers[2].peerId)).toBe(false)
    expect(roster.get(peers[2].peerId)).toBeUndefined()
  })

  it('takes a held certificate again without a signature check, and still refuses one that differs in a field or expired', () => {
    const roster = new Roster(t.team)
    const invited = accept(makeInvite(3), peers[0], T0 + 1)
    const signed = issue(peers[1], 'member', T0, NOW + HOUR)
    expect(roster.merge([invited, signed], NOW).changed).toBe(true)
    const again = [clone(invited), clone(signed)]
    expect(roster.merge(again, NOW).changed).toBe(false)
    // the same signature over other fields is no held certificate: verified, and refused
    expect(() => roster.add({ ...clone(invited), name: 'mallory' }, NOW)).toThrow(InvalidCertificateError)
    expect(() => roster.add({ ...clone(signed), role: 'admin' }, NOW)).toThrow(InvalidCertificateError)
    expect(() => roster.add(clone(signed), NOW + 2 * HOUR)).toThrow(InvalidCertificateError)
    expect(roster.get(peers[0].peerId)?.name).toBe('p')
  })

  it('refuses invalid certificates and certificates of another team', () => {
    const roster = new Roster(t.team)
    expect(() => roster.add(other.founderCert, NOW)).toThrow(InvalidCertificateError)
    const tampered = { ...issue(peers[0], 'member', T0), role: 'admin' }
    expect(() => roster.add(tampered, NOW)).toThrow(InvalidCertificateError)
    expect(() => roster.add({ nonsense: true }, NOW)).toThrow(InvalidCertificateError)
    expect(roster.size).toBe(0)
  })

  it('keeps the greatest (issuedAt, sig) certificate of a peer, whatever the order', () => {
    const older = issue(peers[0], 'member', T0)
    const newer = issue(peers[0], 'admin', T0 + 10)
    const a = new Roster(t.team)
    expect(a.add(older, NOW)).toBe('added')
    expect(a.add(newer, NOW)).toBe('added')
    const b = new Roster(t.team)
    expect(b.add(newer, NOW)).toBe('added')
    expect(b.add(older, NOW)).toBe('exists')
    expect(a.get(peers[0].peerId)).toEqual(newer)
    expect(b.toJSON()).toEqual(a.toJSON())
  })

  it('tells members from holders of expired certificates', () => {
    const roster = new Roster(t.team)
    roster.add(issue(peers[0], 'guest', T0, T0 + 3 * HOUR), NOW)
    expect(roster.isMember(peers[0].peerId, NOW)).toBe(true)
    expect(roster.isMember(peers[0].peerId, T0 + 3 * HOUR + 1)).toBe(false)
    expect(roster.isMember(peers[1].peerId, NOW)).toBe(false)
    expect(() => roster.add(issue(peers[1], 'guest', T0, T0 + HOUR), NOW)).toThrow(/expired/)
  })

  it('round trips through toJSON / fromJSON and skips garbage', () => {
    const roster = new Roster(t.team)
    roster.merge([t.founderCert, issue(peers[0], 'member', T0), accept(makeInvite(1), peers[1], T0 + 5)], NOW)
    const copy = Roster.fromJSON(t.team, [...clone(roster.toJSON()), null, 'x', { v: 1 }, other.founderCert], NOW)
    expect(copy.toJSON()).toEqual(roster.toJSON())
    expect(copy.members()).toEqual(roster.members())
    expect(Roster.fromJSON(t.team, 'not a list', NOW).size).toBe(0)
  })

  it('merge reports the newly added peer ids and skips invalid entries', () => {
    const roster = new Roster(t.team)
    roster.add(t.founderCert, NOW)
    const merged = roster.merge([t.founderCert, issue(peers[1], 'member', T0), 42, other.founderCert, issue(peers[0], 'guest', T0)], NOW)
    expect(merged).toEqual({ added: [peers[0].peerId, peers[1].peerId].sort(), renewed: [], changed: true })
    expect(roster.merge([t.founderCert, 42], NOW)).toEqual({ added: [], renewed: [], changed: false })
  })

  it('merge reports a newer certificate for a known peer id as renewed, and as a change', () => {
    const roster = new Roster(t.team)
    roster.merge([t.founderCert, issue(peers[0], 'guest', T0)], NOW)
    const newer = issue(peers[0], 'member', T0 + 1)
    expect(roster.merge([newer], NOW)).toEqual({ added: [], renewed: [peers[0].peerId], changed: true })
    expect(roster.get(peers[0].peerId)).toEqual(newer)
    expect(roster.merge([clone(newer)], NOW)).toEqual({ added: [], renewed: [], changed: false })
  })

  it('merge reports a rejoin with a fresh invite as renewed: the newer invite certificate counts', () => {
    const first = accept(makeInvite(1), peers[0], T0 + 1)
    const fresh = accept(makeInvite(1), peers[0], T0 + 20)
    const roster = Roster.fromJSON(t.team, [t.founderCert, first], NOW)
    expect(roster.merge([fresh], NOW)).toEqual({ added: [], renewed: [peers[0].peerId], changed: true })
    expect(roster.get(peers[0].peerId)).toEqual(fresh)
    // stored and read back, the roster still counts the fresh certificate
    expect(Roster.fromJSON(t.team, clone(roster.toJSON()), NOW).get(peers[0].peerId)).toEqual(fresh)
  })

  it('merge reports a change that keeps the view: a superseded certificate now holds an invite use', () => {
    const roster = Roster.fromJSON(t.team, [t.founderCert, issue(peers[0], 'member', T0 + 30)], NOW)
    const before = roster.toJSON()
    const used = accept(makeInvite(1), peers[0], T0 + 1)
    expect(roster.merge([used], NOW)).toEqual({ added: [], renewed: [], changed: true })
    expect(roster.get(peers[0].peerId)?.issuedAt).toBe(T0 + 30)
    expect(roster.toJSON()).not.toEqual(before)
    expect(roster.toJSON()).toContainEqual(used)
  })

  describe('invite uses', () => {
    it('refuses a use beyond maxUses', () => {
      const token = makeInvite(2)
      const roster = new Roster(t.team)
      expect(roster.add(accept(token, peers[0], T0 + 1), NOW)).toBe('added')
      expect(roster.add(accept(token, peers[1], T0 + 2), NOW)).toBe('added')
      const third = accept(token, peers[2], T0 + 3)
      expect(() => roster.add(third, NOW)).toThrow(InviteUsedError)
      expect(() => roster.add(third, NOW)).toThrow(`invite ${token.grant.inviteId.slice(0, 8)} was already used (max 2)`)
      expect(roster.merge([third], NOW)).toEqual({ added: [], renewed: [], changed: false })
      expect(roster.has(peers[2].peerId)).toBe(false)
    })

    it('admits the earliest uses whatever the arrival order, evicting later ones', () => {
      const token = makeInvite(1)
      const first = accept(token, peers[0], T0 + 1)
      const second = accept(token, peers[1], T0 + 2)
      const roster = new Roster(t.team)
      roster.add(second, NOW)
      expect(roster.add(first, NOW)).toBe('added')
      expect(ids(roster.members())).toEqual([peers[0].peerId])
      expect(() => roster.add(second, NOW)).toThrow(InviteUsedError)
    })

    it('counts a repeated use by the same peer once', () => {
      const token = makeInvite(1)
      const roster = new Roster(t.team)
      roster.add(accept(token, peers[0], T0 + 5), NOW)
      expect(roster.add(accept(token, peers[0], T0 + 9), NOW)).toBe('exists')
      expect(roster.add(accept(token, peers[0], T0 + 1), NOW)).toBe('added')
      expect(roster.get(peers[0].peerId)?.issuedAt).toBe(T0 + 1)
    })

    it('keeps a peer evicted from an invite when it also holds a team-signed certificate', () => {
      const token = makeInvite(1)
      const roster = new Roster(t.team)
      roster.add(issue(peers[1], 'guest', T0), NOW)
      roster.add(accept(token, peers[1], T0 + 2), NOW)
      expect(roster.get(peers[1].peerId)?.role).toBe('member')
      roster.add(accept(token, peers[0], T0 + 1), NOW)
      expect(roster.get(peers[1].peerId)?.role).toBe('guest')
      expect(roster.size).toBe(2)
    })

    it('still counts a use whose certificate was superseded', () => {
      const token = makeInvite(1)
      const a = new Roster(t.team)
      a.add(accept(token, peers[0], T0 + 1), NOW)
      a.add(issue(peers[0], 'admin', T0 + 10), NOW)
      expect(() => a.add(accept(token, peers[1], T0 + 2), NOW)).toThrow(InviteUsedError)
      const b = Roster.fromJSON(t.team, a.toJSON(), NOW)
      expect(() => b.add(accept(token, peers[1], T0 + 2), NOW)).toThrow(InviteUsedError)
      expect(b.toJSON()).toEqual(a.toJSON())
    })
  })

  describe('convergence (property)', () => {
    /** per maxUses: every certificate some replica may see */
    const pools = new Map<number, MemberCertificate[]>()
    /** per maxUses: the id of the invite under test */
    const inviteIds = new Map<number, string>()

    beforeAll(async () => {
      const extra = await makePeer()
      for (const maxUses of [1, 2, 3]) {
        const token = makeInvite(maxUses)
        const second = makeInvite(1, 'guest')
        const certs = [
          t.founderCert,
          // ties on issuedAt are broken by peer id
          accept(token, peers[0], T0 + 10), accept(token, peers[1], T0 + 10),
          accept(token, peers[2], T0 + 20), accept(token, peers[3], T0 + 5),
          accept(token, peers[4], T0 + 30), accept(token, peers[4], T0 + 3),
          // a peer both invited and team-signed, before and after its invite use
          accept(token, peers[5], T0 + 15), issue(peers[5], 'admin', T0 + 1), issue(peers[5], 'guest', T0 + 40),
          // a second invite competing for the same peers
          accept(second, peers[1], T0 + 12), accept(second, extra, T0 + 11)
        ]
        pools.set(maxUses, certs)
        inviteIds.set(maxUses, token.grant.inviteId)
      }
    })

    it('gives identical rosters for any order and any split between replicas', () => {
      const scenario = fc.constantFrom(1, 2, 3).chain(maxUses => {
        const n = pools.get(maxUses)!.length
        const indices = Array.from({ length: n }, (_, i) => i)
        const perm = fc.shuffledSubarray(indices, { minLength: n, maxLength: n })
        return fc.record({ maxUses: fc.constant(maxUses), order1: perm, order2: perm, split: fc.array(fc.boolean(), { minLength: n, maxLength: n }) })
      })
      fc.assert(fc.property(scenario, ({ maxUses, order1, order2, split }) => {
        const certs = pools.get(maxUses)!
        const a = new Roster(t.team)
        for (const i of order1) {
          try { a.add(certs[i], NOW) } catch (err) { if (!(err instanceof InviteUsedError)) throw err }
        }
        const b = new Roster(t.team)
        b.merge(order2.map(i => certs[i]), NOW)
        // two replicas that each saw part, then exchanged state
        const c = new Roster(t.team)
        const d = new Roster(t.team)
        c.merge(order1.filter(i => split[i]).map(i => certs[i]), NOW)
        d.merge(order2.filter(i => !split[i]).map(i => certs[i]), NOW)
        c.merge(d.toJSON(), NOW)
        d.merge(c.toJSON(), NOW)
        const expected = a.toJSON()
        const invited = a.members().filter(m => m.grant?.inviteId === inviteIds.get(maxUses))
        return invited.length <= maxUses &&
          [b, c, d].every(r => JSON.stringify(r.toJSON()) === JSON.stringify(expected) &&
            JSON.stringify(r.members()) === JSON.stringify(a.members()))
      }), { numRuns: 300 })
    })

    it('admits exactly the earliest maxUses peers of the invite', () => {
      for (const [maxUses, certs] of pools) {
        const roster = Roster.fromJSON(t.team, certs, NOW)
        const holders = roster.toJSON().filter(c => c.grant?.inviteId === inviteIds.get(maxUses)).map(c => c.peerId)
        const expected = [
          [T0 + 3, peers[4].peerId], [T0 + 5, peers[3].peerId], [T0 + 10, peers[0].peerId], [T0 + 10, peers[1].peerId], [T0 + 15, peers[5].peerId], [T0 + 20, peers[2].peerId]
        ].sort((x, y) => (x[0] as number) - (y[0] as number) || String(x[1]).localeCompare(String(y[1]))).slice(0, maxUses).map(x => x[1])
        expect(holders.sort()).toEqual([...expected].sort())
      }
    })
  })
})

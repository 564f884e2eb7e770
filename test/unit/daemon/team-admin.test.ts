/**
 * An admin's operations over a host without a network: the host's session is a roster, a
 * records sink and no node; the team file is the founder's.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { Departures } from '../../../src/daemon/departures.js'
import { DEFAULT_INVITE_TTL_MS } from '../../../src/daemon/invites.js'
import type { TeamSession } from '../../../src/daemon/session.js'
import { TeamAdmin, type TeamAdminHost } from '../../../src/daemon/team-admin.js'
import type { TeamFile } from '../../../src/daemon/team-file.js'
import { loadDepartures, loadRoster, newTeamFile } from '../../../src/daemon/team-load.js'
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../../../src/errors.js'
import type { DaemonEvent, TeamDoc } from '../../../src/model/docs.js'
import { Roster, decodeInvite, verifyCertificate } from '../../../src/team/index.js'
import { HOUR, T0, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(2)
})

function harness (role: 'admin' | 'member' = 'admin') {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  const joined = invite(t, { cert: t.founderCert, signer: t.founder.signer }, peers[0]).cert
  roster.add(joined, T0 + 2000)
  const self = role === 'admin' ? { peerId: t.founder.peerId, signer: t.founder.signer, cert: t.founderCert } : { peerId: peers[0].peerId, signer: peers[0].signer, cert: joined }
  let file: TeamFile = { v: 1, team: t.team, cert: self.cert }
  const announced: unknown[] = []
  const saved: TeamFile[] = []
  const lines: string[] = []
  const events: DaemonEvent[] = []
  const session = {
    node: undefined,
    roster,
    currentMembers: () => roster.members(),
    isConnected: () => false,
    announceRecords: async (records: unknown[]) => { announced.push(...records) }
  } as unknown as TeamSession
  const host: TeamAdminHost = {
    peerId: () => self.peerId,
    name: 'ada',
    line: text => { lines.push(text) },
    emit: e => { events.push(e) },
    signer: () => self.signer,
    requireSession: () => session,
    enterTeam: async f => { file = f; return session },
    saveTeamFile: async f => { saved.push(f) },
    team: async (): Promise<TeamDoc> => ({ teamId: file.team.teamId, name: file.team.name, role: file.cert.role, members: 1 }),
    requireAdmin: what => {
      if (file.cert.role !== 'admin') throw new PermissionDeniedError(`only admins can ${what}; you are a ${file.cert.role} of ${file.team.name}`)
      return file
    },
    resolvePeer: arg => roster.members().find(c => c.peerId === arg || c.name === arg)?.peerId ?? arg
  }
  const clock = { now: T0 + HOUR }
  return { admin: new TeamAdmin(host, () => clock.now), announced, saved, lines, events, joined, file: () => file }
}

describe('TeamAdmin', () => {
  it('creates a team it founds, saves it before entering it, and says so', async () => {
    const h = harness()
    const doc = await h.admin.create('  night shift ')
    expect(doc).toMatchObject({ name: 'night shift', role: 'admin' })
    expect(h.saved).toHaveLength(1)
    expect(h.saved[0]).toBe(h.file())
    expect(h.saved[0].teamSeed).toMatch(/^[\w-]{43}$/)
    expect(h.lines).toStrictEqual([`created team night shift (${h.file().team.teamId})`])
    expect(h.events).toStrictEqual([{ type: 'team:changed', data: doc }])
  })

  it('refuses an empty or too long team name, changing nothing', async () => {
    const h = harness()
    await expect(h.admin.create('   ')).rejects.toThrow(InvalidArgumentError)
    await expect(h.admin.create('x'.repeat(65))).rejects.toThrow('a team name has 1 to 64 characters')
    expect(h.saved).toStrictEqual([])
  })

  it('invites with the request\'s role, uses and lifetime, by its clock', async () => {
    const h = harness()
    const doc = await h.admin.invite({ role: 'admin', uses: 3, ttlMs: 2 * HOUR, addresses: false })
    expect(doc).toMatchObject({ role: 'admin', maxUses: 3, expiresAt: T0 + 3 * HOUR })
    const token = decodeInvite(doc.token)
    expect(token.grant.inviteId).toBe(doc.inviteId)
    expect(token.addrs).toStrictEqual([])
    const plain = await h.admin.invite({})
    expect(plain).toMatchObject({ role: 'member', maxUses: 1, expiresAt: T0 + HOUR + DEFAULT_INVITE_TTL_MS })
  })

  it('lets only admins invite, remove and revoke', async () => {
    const h = harness('member')
    await expect(h.admin.invite({})).rejects.toThrow('only admins can invite; you are a member of core')
    await expect(h.admin.remove(t.founder.peerId)).rejects.toThrow(PermissionDeniedError)
    await expect(h.admin.revokeInvite('x')).rejects.toThrow('only admins can revoke invites')
    expect(h.announced).toStrictEqual([])
  })

  it('removes a member with a signed removal; never itself, nor a stranger', async () => {
    const h = harness()
    expect(await h.admin.remove('joiner')).toStrictEqual({ peerId: peers[0].peerId, name: 'joiner', removed: true })
    expect(h.announced).toHaveLength(1)
    const departures = new Departures(t.team.teamId)
    departures.isAdmin = peer => peer === t.founder.peerId
    departures.merge(h.announced)
    expect(departures.covers({ peerId: peers[0].peerId, issuedAt: T0 + 1000 })).toBe(true)
    await expect(h.admin.remove(t.founder.peerId)).rejects.toThrow('to remove this daemon from the team, use paired team leave')
    await expect(h.admin.remove(peers[1].peerId)).rejects.toThrow(NotFoundError)
    expect(h.announced).toHaveLength(1)
  })

  it('revokes an invite with a signed revocation, keeping the members it admitted', async () => {
    const h = harness()
    const inviteId = h.joined.grant?.inviteId ?? ''
    expect(inviteId).not.toBe('')
    expect(await h.admin.revokeInvite(inviteId)).toStrictEqual({ inviteId, revoked: true, kept: 1 })
    expect(await h.admin.revokeInvite('unused')).toStrictEqual({ inviteId: 'unused', revoked: true, kept: 0 })
    const departures = new Departures(t.team.teamId)
    departures.isAdmin = peer => peer === t.founder.peerId
    departures.merge(h.announced)
    // the member it admitted stays; anyone else with that invite does not count
    expect(departures.covers(h.joined)).toBe(false)
    expect(departures.covers({ peerId: peers[1].peerId, issuedAt: T0 + 5000, grant: h.joined.grant })).toBe(true)
  })
})

describe('loading a team', () => {
  it('a new team file: the founder is its admin, with the team seed', () => {
    const file = newTeamFile('lab', t.founder.signer, 'ada', T0)
    expect(file.cert).toMatchObject({ peerId: t.founder.peerId, name: 'ada', role: 'admin' })
    expect(() => { verifyCertificate(file.cert, file.team, T0) }).not.toThrow()
    expect(Buffer.from(file.teamSeed ?? '', 'base64url')).toHaveLength(32)
  })

  it('without a store: the roster holds its own certificate and its inviter\'s; no departures', async () => {
    const joined = invite(t, { cert: t.founderCert, signer: t.founder.signer }, peers[1]).cert
    const file: TeamFile = { v: 1, team: t.team, cert: joined }
    const roster = await loadRoster(undefined, file, T0 + HOUR)
    expect(roster.members().map(c => c.peerId).sort()).toStrictEqual([t.founder.peerId, peers[1].peerId].sort())
    const departures = await loadDepartures(undefined, file, roster, () => T0 + HOUR)
    expect(departures.toJSON()).toStrictEqual([])
  })
})

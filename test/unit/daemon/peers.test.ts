import { beforeAll, describe, expect, it } from 'vitest'
import { memberDocs, peerDetail, peerDocs, resolvePeer, type PeerSource } from '../../../src/daemon/peers.js'
import { InvalidArgumentError, NotFoundError } from '../../../src/errors.js'
import { Roster, type MemberCertificate } from '../../../src/team/index.js'
import { T0, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]
let members: MemberCertificate[]
/** as signed (the twins' renamed copies are not) */
let signed: MemberCertificate[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(3)
  const founder = { cert: t.founderCert, signer: t.founder.signer }
  signed = [t.founderCert, ...peers.map(p => invite(t, founder, p).cert)]
  members = [...signed]
  // two members named alike
  members[2] = { ...members[2], name: 'twin' }
  members[3] = { ...members[3], name: 'twin' }
})

describe('resolvePeer', () => {
  it('takes a peer id as it is, member or not', () => {
    expect(resolvePeer([], peers[0].peerId)).toBe(peers[0].peerId)
  })

  it('takes a unique member name', () => {
    expect(resolvePeer(members, 'ada')).toBe(t.founder.peerId)
    expect(resolvePeer(members, 'joiner')).toBe(peers[0].peerId)
  })

  it('refuses a name two members share', () => {
    expect(() => resolvePeer(members, 'twin')).toThrow(InvalidArgumentError)
    expect(() => resolvePeer(members, 'twin')).toThrow('more than one member is named "twin": use the peer id')
  })

  it('takes the unique end of a member\'s peer id, 4 characters or more', () => {
    const end = peers[1].peerId.slice(-6)
    expect(resolvePeer(members, end)).toBe(peers[1].peerId)
    expect(() => resolvePeer(members, peers[1].peerId.slice(-3))).toThrow(NotFoundError)
    expect(() => resolvePeer(members, 'nobody')).toThrow("no peer nobody: give a peer id or a member's name (paired team members)")
  })
})

/** a session view without a node: members, who is connected and verified */
function source (connected: string[], verified: string[]): PeerSource {
  const roster = new Roster(t.team)
  for (const c of signed) roster.add(c, T0 + 5000)
  return {
    node: undefined,
    tasks: undefined,
    roster,
    currentMembers: () => members,
    isConnected: peer => connected.includes(peer),
    isVerified: peer => verified.includes(peer),
    presenceOf: peer => peer === peers[2].peerId ? 'suspect' : undefined,
    rttOf: peer => peer === peers[0].peerId ? 1.5 : null,
    capacityOf: () => undefined,
    gossipScore: () => 0.25
  }
}

describe('peer documents', () => {
  it('list every member but this daemon, sorted, with the state they are in', async () => {
    const s = source([peers[0].peerId, peers[1].peerId], [peers[0].peerId])
    const docs = await peerDocs(s, t.founder.peerId)
    expect(docs.map(d => d.peerId)).toStrictEqual(peers.map(p => p.peerId).sort())
    const by = new Map(docs.map(d => [d.peerId, d]))
    expect(by.get(peers[0].peerId)).toMatchObject({ name: 'joiner', connected: true, state: 'connected', rttMs: 1.5, addresses: [], capacity: null, reputation: null })
    expect(by.get(peers[1].peerId)).toMatchObject({ connected: true, state: 'unverified' })
    // the failure detector's word comes first
    expect(by.get(peers[2].peerId)).toMatchObject({ connected: false, state: 'suspect' })
  })

  it('show one peer with its role and gossip score, or refuse an unknown one', async () => {
    const s = source([], [])
    expect(await peerDetail(s, t.founder.peerId, 'joiner')).toMatchObject({ peerId: peers[0].peerId, role: 'member', gossipScore: 0.25, reputationHistory: [], state: 'unknown' })
    await expect(peerDetail(s, t.founder.peerId, t.founder.peerId)).rejects.toThrow(`no peer ${t.founder.peerId}`)
  })

  it('members: this daemon counts as connected; others once verified and connected', () => {
    const docs = memberDocs(source([peers[0].peerId, peers[1].peerId], [peers[0].peerId]), t.founder.peerId)
    expect(docs.map(d => [d.name, d.self, d.connected])).toStrictEqual([['ada', true, true], ['joiner', false, true], ['twin', false, false], ['twin', false, false]])
  })
})

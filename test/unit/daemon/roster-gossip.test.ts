import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { beforeAll, describe, expect, it } from 'vitest'
import { RosterGossip } from '../../../src/daemon/roster-gossip.js'
import { Departures, signDeparture, signRemoval } from '../../../src/daemon/departures.js'
import { rosterTopic } from '../../../src/node/constants.js'
import { departedKey, rosterKey } from '../../../src/state/store/keys.js'
import { Roster, issueCertificate, type MemberCertificate } from '../../../src/team/index.js'
import type { PairedLibp2p } from '../../../src/node/create-node.js'
import type { PairedDb } from '../../../src/state/store/db.js'
import type { DaemonEvent } from '../../../src/model/docs.js'
import { HOUR, T0, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(3)
})

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
const tick = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 0)) }

function member (peer: TestPeer, now = T0): MemberCertificate {
  return issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: peer.peerId, name: `m-${peer.peerId.slice(-4)}`, role: 'member', now })
}

type Validator = (from: PeerId, msg: { data: Uint8Array }) => TopicValidatorResult

/** a roster gossip over a stub node and store; `self` is the founder */
function harness (opts: { verified?: string[], pending?: string[], recipients?: number, started?: boolean, addressed?: string[] } = {}) {
  const topic = rosterTopic(t.team.teamId)
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  const departures = new Departures(t.team.teamId)
  departures.isAdmin = peer => roster.get(peer)?.role === 'admin'
  const verified = new Set(opts.verified ?? [])
  const seen: string[] = []
  const stored = new Map<string, unknown>()
  const published: unknown[] = []
  const validators = new Map<string, Validator>()
  const handlers: Array<(evt: { detail: { topic: string, data: Uint8Array } }) => void> = []
  const subscribed: string[] = []
  const node = {
    hangUp: async (id: PeerId) => { seen.push(`hangUp ${id.toString()}`) },
    services: {
      pubsub: {
        topicValidators: validators,
        subscribe: (name: string) => { subscribed.push(name) },
        addEventListener: (_: string, fn: (typeof handlers)[number]) => { handlers.push(fn) },
        publish: async (name: string, data: Uint8Array) => {
          seen.push(`publish ${name}`)
          published.push(JSON.parse(new TextDecoder().decode(data)))
          return { recipients: Array(opts.recipients ?? 1).fill(peerIdFromString(t.founder.peerId)) }
        }
      }
    }
  } as unknown as PairedLibp2p
  const db = { put: async (key: string, value: unknown) => { stored.set(key, value) } } as unknown as PairedDb
  const gossip = new RosterGossip({
    team: t.team,
    roster,
    departures,
    db,
    selfId: t.founder.peerId,
    node: () => opts.started === false ? undefined : node,
    redialer: { want: (peer, o) => { seen.push(`want ${peer}${o.soon ? '' : ' later'}`) }, forget: peer => { seen.push(`forget ${peer}`) } },
    ...(opts.addressed != null ? { knowsAddress: (peer: string) => opts.addressed?.includes(peer) === true } : {}),
    isVerified: peer => verified.has(peer),
    isPending: peer => opts.pending?.includes(peer) ?? false,
    isConnected: () => false,
    unverify: peer => { verified.delete(peer); seen.push(`unverify ${peer}`) },
    line: text => { seen.push(`line ${text}`) },
    emit: (event: DaemonEvent) => { seen.push(`emit ${event.type} ${String((event.data as { peerId: string }).peerId)}`) }
  })
  gossip.listen(node)
  const deliver = (data: Uint8Array, name = topic): void => { for (const h of handlers) h({ detail: { topic: name, data } }) }
  const validate = (from: string, data: Uint8Array): TopicValidatorResult => {
    const v = validators.get(topic)
    if (v == null) throw new Error('no validator')
    return v(peerIdFromString(from), { data })
  }
  return { gossip, roster, departures, verified, seen, stored, published, subscribed, deliver, validate, topic }
}

describe('roster gossip', () => {
  it('dials a new member at once when it has an address for it, after the first delay when it has none', async () => {
    const h = harness({ addressed: [peers[0].peerId] })
    h.deliver(encode({ certs: [member(peers[0]), member(peers[1])] }))
    await tick()
    expect(h.seen.filter(s => s.startsWith('want'))).toEqual([`want ${peers[0].peerId}`, `want ${peers[1].peerId} later`].sort())
  })

  it('takes gossip only from verified peers, and only when it parses', () => {
    const [a, b, c] = peers.map(p => p.peerId)
    const h = harness({ verified: [a], pending: [b] })
    expect(h.subscribed).toEqual([h.topic])
    expect(h.validate(a, encode({ certs: [] }))).toBe(TopicValidatorResult.Accept)
    expect(h.validate(a, encode({ departures: [] }))).toBe(TopicValidatorResult.Reject)
    expect(h.validate(a, encode([]))).toBe(TopicValidatorResult.Reject)
    expect(h.validate(a, new Uint8Array([0xff, 0x00]))).toBe(TopicValidatorResult.Reject)
    // a hello still under way is ignored, a peer past its deadline rejected
    expect(h.validate(b, encode({ certs: [] }))).toBe(TopicValidatorResult.Ignore)
    expect(h.validate(c, encode({ certs: [] }))).toBe(TopicValidatorResult.Reject)
  })

  it('merges new members from gossip: stored, announced and dialed; not itself', async () => {
    const h = harness()
    const cert = member(peers[0])
    h.deliver(encode({ certs: [cert, t.founderCert, 'junk'] }))
    h.deliver(encode({ certs: [member(peers[1])] }), 'another/topic')
    await tick()
    expect(h.roster.get(peers[0].peerId)).toEqual(cert)
    expect(h.roster.get(peers[1].peerId)).toBeUndefined()
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    expect(h.seen).toEqual([`emit team:member-added ${peers[0].peerId}`, `want ${peers[0].peerId}`])
  })

  it('does not announce a member gossip adds if a departure already covers it', async () => {
    const h = harness()
    const cert = member(peers[0])
    h.deliver(encode({ certs: [], departures: [signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)] }))
    h.deliver(encode({ certs: [cert] }))
    await tick()
    expect(h.roster.get(peers[0].peerId)).toEqual(cert)
    expect(h.seen).toEqual([])
    expect(h.stored.get(departedKey(t.team.teamId))).toEqual(h.departures.toJSON())
  })

  it('lets go at once of a verified member that left: forgotten, told, unverified, hung up', async () => {
    const h = harness({ verified: [peers[0].peerId] })
    const cert = member(peers[0])
    h.roster.add(cert, T0)
    h.deliver(encode({ certs: [], departures: [signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)] }))
    await tick()
    const p = peers[0].peerId
    expect(h.seen).toEqual([
      `forget ${p}`,
      `line peer ${cert.name} (${p}) left the team; it needs a new invite to come back`,
      `emit team:member-left ${p}`,
      `unverify ${p}`,
      `hangUp ${p}`
    ])
    expect(h.verified.has(p)).toBe(false)
    expect(h.stored.get(departedKey(t.team.teamId))).toEqual(h.departures.toJSON())
  })

  it('says so when this daemon itself is removed, and keeps its own connections', () => {
    const admin = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: peers[1].peerId, name: 'boss', role: 'admin', now: T0 })
    const h = harness()
    h.roster.add(admin, T0)
    h.gossip.mergeDepartures([signRemoval(t.team.teamId, t.founder.peerId, peers[1].signer, T0 + HOUR)])
    expect(h.seen).toEqual([`line this daemon is no longer a member of team core: ada (${t.founder.peerId}) was removed from the team by an admin; it needs a new invite to come back`])
  })

  it('passes on the departures a hello brought (a leaver\'s farewell) once; gossip-borne ones it does not re-publish', async () => {
    const [a] = peers
    const h = harness()
    h.roster.add(member(a), T0)
    const farewell = signDeparture(t.team.teamId, a.signer, T0 + HOUR)
    h.gossip.mergeDepartures([farewell], { spread: true })
    await tick()
    expect(h.published).toEqual([{ certs: [], departures: [farewell] }])
    expect(h.stored.get(departedKey(t.team.teamId))).toEqual([farewell])
    // the same again changes nothing: nothing more goes out
    h.gossip.mergeDepartures([farewell], { spread: true })
    const later = signDeparture(t.team.teamId, a.signer, T0 + 2 * HOUR)
    h.gossip.mergeDepartures([later])
    await tick()
    expect(h.published).toHaveLength(1)
  })

  it('after a hello: runs what must precede the dials once the certificates are merged, and not for a certificate that does not verify', async () => {
    const h = harness()
    const a = member(peers[0])
    const b = member(peers[1])
    await h.gossip.mergeHello(a, [b], T0 + HOUR, async () => { h.seen.push(`before dial: ${h.roster.get(b.peerId) != null ? 'merged' : 'not merged'}`) })
    expect(h.seen.filter(s => !s.startsWith('publish'))[0]).toBe('before dial: merged')
    expect(h.seen.filter(s => s.startsWith('want'))).toHaveLength(2)
    const forged = { ...member(peers[2]), role: 'admin' }
    let ran = false
    await expect(h.gossip.mergeHello(forged as MemberCertificate, [], T0 + HOUR, async () => { ran = true })).rejects.toThrow()
    expect(ran).toBe(false)
  })

  it('after a hello: adds the certificate and the roster sent, stores, publishes and announces', async () => {
    const h = harness()
    const a = member(peers[0])
    const b = member(peers[1])
    await h.gossip.mergeHello(a, [b, t.founderCert, ...Array(3_000).fill('junk')], T0 + HOUR)
    expect(h.roster.members().map(c => c.peerId).sort()).toEqual([t.founder.peerId, a.peerId, b.peerId].sort())
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    expect(h.published).toEqual([{ certs: h.roster.toJSON() }])
    expect(h.seen.filter(s => !s.startsWith('publish'))).toEqual([a, b].sort((x, y) => x.peerId < y.peerId ? -1 : 1)
      .flatMap(c => [`emit team:member-added ${c.peerId}`, `want ${c.peerId}`]))
  })

  it('after a hello from a member already known: nothing stored, published or announced', async () => {
    const h = harness()
    const a = member(peers[0])
    h.roster.add(a, T0)
    await h.gossip.mergeHello(a, 'not a roster', T0 + HOUR)
    expect(h.stored.size).toBe(0)
    expect(h.seen).toEqual([])
  })

  it('stores a rejoiner\'s newer certificate that gossip brings for a known peer id, and announces it', async () => {
    const h = harness()
    const p = peers[0].peerId
    h.roster.add(member(peers[0]), T0)
    h.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)])
    const back = member(peers[0], T0 + 2 * HOUR)
    h.deliver(encode({ certs: [back] }))
    await tick()
    expect(h.roster.get(p)).toEqual(back)
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    // read back after a restart, the stored roster still counts the rejoiner
    expect(Roster.fromJSON(t.team, h.stored.get(rosterKey(t.team.teamId)), T0 + 2 * HOUR).get(p)).toEqual(back)
    expect(h.seen).toEqual([`emit team:member-added ${p}`, `want ${p}`])
  })

  it('stores a newer certificate of a member that never left, without announcing it again', async () => {
    const h = harness()
    h.roster.add(member(peers[0]), T0)
    const renewed = member(peers[0], T0 + HOUR)
    h.deliver(encode({ certs: [renewed] }))
    await tick()
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    expect(h.roster.get(peers[0].peerId)).toEqual(renewed)
    expect(h.seen).toEqual([])
  })

  it('after the hello of a rejoiner with a newer certificate: stores, publishes and announces it', async () => {
    const h = harness()
    const p = peers[0].peerId
    h.roster.add(member(peers[0]), T0)
    h.departures.merge([signDeparture(t.team.teamId, peers[0].signer, T0 + HOUR)])
    const back = member(peers[0], T0 + 2 * HOUR)
    await h.gossip.mergeHello(back, [], T0 + 2 * HOUR)
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    expect(Roster.fromJSON(t.team, h.stored.get(rosterKey(t.team.teamId)), T0 + 2 * HOUR).get(p)).toEqual(back)
    expect(h.published).toEqual([{ certs: h.roster.toJSON() }])
    expect(h.seen.filter(s => !s.startsWith('publish'))).toEqual([`emit team:member-added ${p}`, `want ${p}`])
  })

  it('after a hello whose roster brings only a newer certificate of a known member: stores and publishes it', async () => {
    const h = harness()
    const a = member(peers[0])
    const b = member(peers[1])
    h.roster.add(a, T0)
    h.roster.add(b, T0)
    const renewed = member(peers[1], T0 + HOUR)
    await h.gossip.mergeHello(a, [renewed], T0 + HOUR)
    expect(h.roster.get(peers[1].peerId)).toEqual(renewed)
    expect(h.stored.get(rosterKey(t.team.teamId))).toEqual(h.roster.toJSON())
    expect(h.published).toEqual([{ certs: h.roster.toJSON() }])
    expect(h.seen.filter(s => !s.startsWith('publish'))).toEqual([])
  })

  it('announces a removal before applying it, so the removed member hears why', async () => {
    const h = harness({ verified: [peers[0].peerId], recipients: 1 })
    h.roster.add(member(peers[0]), T0)
    const removal = signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, T0 + HOUR)
    await h.gossip.announceRecords([removal], 0)
    expect(h.published).toEqual([{ certs: [], departures: [removal] }])
    expect(h.seen[0]).toBe(`publish ${h.topic}`)
    expect(h.seen).toContain(`hangUp ${peers[0].peerId}`)
    expect(h.stored.get(departedKey(t.team.teamId))).toEqual([removal])
  })

  it('applies records without a running node, and publishes nothing', async () => {
    const h = harness({ started: false })
    h.roster.add(member(peers[0]), T0)
    const removal = signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, T0 + HOUR)
    await h.gossip.announceRecords([removal], 0)
    await h.gossip.publish([t.founderCert])
    expect(h.published).toEqual([])
    expect(h.departures.toJSON()).toEqual([removal])
    expect(h.stored.get(departedKey(t.team.teamId))).toEqual([removal])
  })

  it('announces a leave: merged here, then gossiped', async () => {
    const h = harness()
    const leave = signDeparture(t.team.teamId, t.founder.signer, T0 + HOUR)
    await h.gossip.announceLeave(leave, 0)
    expect(h.departures.covers(t.founderCert)).toBe(true)
    expect(h.published).toEqual([{ certs: [], departures: [leave] }])
  })

  it('publishes the certificates it learned, and nothing for none', async () => {
    const h = harness()
    await h.gossip.publish([])
    await h.gossip.publish([t.founderCert])
    expect(h.published).toEqual([{ certs: [t.founderCert] }])
  })
})

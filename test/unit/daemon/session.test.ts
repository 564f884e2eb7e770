/**
 * A TeamSession before its node starts: what it decides from the roster, the departures,
 * the config and its clock. What needs the node (hello, gossip, dials, the services) is
 * covered end to end (test/e2e/).
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig, type PairedConfig } from '../../../src/daemon/config.js'
import { Departures, signRemoval } from '../../../src/daemon/departures.js'
import { TeamSession } from '../../../src/daemon/session.js'
import type { DaemonEvent } from '../../../src/model/docs.js'
import { COOL_OFF_MS } from '../../../src/net/limits.js'
import type { PairedDb } from '../../../src/state/store/db.js'
import { Roster } from '../../../src/team/index.js'
import { HOUR, T0, invite, makePeers, makeTeam, type TestPeer, type TestTeam } from '../team/helpers.js'

let t: TestTeam
let peers: TestPeer[]

beforeAll(async () => {
  t = await makeTeam()
  peers = await makePeers(2)
})

/** the founder's session over a roster of the founder and peers[0]; nothing started */
function session (opts: { config?: Partial<PairedConfig>, now?: number } = {}) {
  const roster = new Roster(t.team)
  roster.add(t.founderCert, T0)
  roster.add(invite(t, { cert: t.founderCert, signer: t.founder.signer }, peers[0]).cert, T0 + 2000)
  const departures = new Departures(t.team.teamId)
  departures.isAdmin = peer => peer === t.founder.peerId
  const lines: string[] = []
  const events: DaemonEvent[] = []
  const clock = { now: opts.now ?? T0 + HOUR }
  const s = new TeamSession({
    identity: { privateKey: t.founder.privateKey, peerId: peerIdFromPrivateKey(t.founder.privateKey), seed: t.founder.seed },
    signer: t.founder.signer,
    team: t.team,
    cert: t.founderCert,
    roster,
    departures,
    config: { ...defaultConfig(), ...opts.config },
    listen: [],
    db: {} as unknown as PairedDb,
    agentVersion: 'paired/test',
    status: async () => { throw new Error('not asked') },
    emit: e => { events.push(e) },
    hasListeners: () => true,
    line: text => { lines.push(text) },
    clock: () => clock.now
  })
  return { s, roster, departures, lines, events, clock }
}

describe('TeamSession before start', () => {
  it('counts the roster less departures as its members', () => {
    const { s, departures, clock } = session()
    expect(s.selfId).toBe(t.founder.peerId)
    expect(s.currentMembers().map(c => c.peerId).sort()).toStrictEqual([t.founder.peerId, peers[0].peerId].sort())
    expect(s.isMember(peers[0].peerId)).toBe(true)
    expect(s.isMember(peers[1].peerId)).toBe(false)
    departures.merge([signRemoval(t.team.teamId, peers[0].peerId, t.founder.signer, clock.now)])
    expect(s.currentMembers().map(c => c.peerId)).toStrictEqual([t.founder.peerId])
    expect(s.isMember(peers[0].peerId)).toBe(false)
  })

  it('knows no connection, hello, rtt, presence or gossip score, and asks nothing of the network', async () => {
    const { s } = session()
    const peer = peers[0].peerId
    expect([s.isConnected(peer), s.isVerified(peer), s.helloPending(peer)]).toStrictEqual([false, false, false])
    expect([s.rttOf(peer), s.gossipScore(peer), s.presenceOf(peer), s.capacityOf(peer)]).toStrictEqual([null, null, undefined, undefined])
    await expect(s.ping(peer)).rejects.toThrow('the session is not started')
    await expect(s.query(peer)).rejects.toThrow('the session is not started')
    await s.stop() // a session never started stops at once
  })

  it('logs and emits a peer\'s presence changes, not its own', () => {
    const { s, lines, events } = session()
    const bob = peers[0].peerId
    s.onPresence({ peer: bob, from: undefined, to: 'alive', at: T0 })
    s.onPresence({ peer: bob, from: 'alive', to: 'suspect', at: T0 })
    s.onPresence({ peer: t.founder.peerId, from: 'alive', to: 'dead', at: T0 })
    expect(lines).toStrictEqual([`peer suspect joiner ${bob} (was alive)`])
    expect(events).toStrictEqual([
      { type: 'peer:alive', data: { peerId: bob, name: 'joiner', from: null } },
      { type: 'peer:suspect', data: { peerId: bob, name: 'joiner', from: 'alive' } }
    ])
  })

  it('pauses outside its work hours by its clock', () => {
    const config = { tasks: { ...defaultConfig().tasks, workHours: '09:00-17:00' } }
    const { s, clock } = session({ config })
    clock.now = new Date(2025, 0, 1, 12, 0).getTime()
    expect(s.pausedReason()).toBeUndefined()
    clock.now = new Date(2025, 0, 1, 20, 0).getTime()
    expect(s.pausedReason()).toBe('outside work hours 09:00-17:00')
  })

  it('cuts off an abusive peer once per cool-off, by its clock; a mere flood or itself never', () => {
    const { s, lines, clock } = session()
    const bob = peers[0].peerId
    s.onFlood(bob, false)
    s.onFlood(t.founder.peerId, true)
    expect(lines).toStrictEqual([])
    s.onFlood(bob, true)
    s.onFlood(bob, true)
    expect(lines).toStrictEqual([`cutting off joiner ${bob} for ${COOL_OFF_MS / 1000} s: requests far past its limits`])
    clock.now += COOL_OFF_MS - 1
    s.onFlood(bob, true)
    expect(lines).toHaveLength(1)
    clock.now += 1
    s.onFlood(bob, true)
    expect(lines).toHaveLength(2)
  })
})

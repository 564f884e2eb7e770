/**
 * The presence shell's state machine on a manual clock with fake edges (see
 * `service-harness.ts`): its heartbeat schedule, what it concludes about members that
 * fall silent, are disconnected or come back, how a pause of this very process is told
 * apart from every member dying, relayed heartbeats, and stop().
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { beforeAll, describe, expect, it } from 'vitest'
import { peerTag } from '../../../src/presence/relay.js'
import { verifyHeartbeat } from '../../../src/presence/service.js'
import { makePeers, type TestPeer } from '../team/helpers.js'
import { harness, type Harness } from './service-harness.js'

let self: TestPeer
let a: TestPeer
let b: TestPeer
let c: TestPeer

beforeAll(async () => {
  [self, a, b, c] = await makePeers(4)
})

const INTERVAL = 3000

/**
 * a started service in a team of three (self, a, b), a and b beating every interval; it
 * ends between beats (a beat at the very moment of a probe's start would overtake it)
 */
async function steadyTeam (beatsMs = 30_500): Promise<{ h: Harness, stopA: () => void, stopB: () => void }> {
  const h = harness({ self, peers: [a, b] })
  await h.service.start()
  const stopA = h.keepBeating(a, INTERVAL)
  const stopB = h.keepBeating(b, INTERVAL)
  await h.run(beatsMs)
  return { h, stopA, stopB }
}

const to = (h: Harness, peer: TestPeer): string[] => h.transitions.filter(t => t.peer === peer.peerId).map(t => t.to)
const when = (h: Harness, peer: TestPeer, state: string): number | undefined =>
  h.transitions.find(t => t.peer === peer.peerId && t.to === state)?.at

/** runs the clock until `peer` reaches `state` (at most `limitMs`); returns when it did */
async function until (h: Harness, peer: TestPeer, state: string, limitMs = 20_000): Promise<number> {
  for (let waited = 0; waited < limitMs; waited += 10) {
    if (h.stateOf(peer) === state) break
    await h.run(10)
  }
  const at = when(h, peer, state)
  if (at === undefined) throw new Error(`${state} not reached in ${limitMs} ms`)
  return at
}

describe('heartbeats', () => {
  it('publishes a signed beat just after start, then one per interval', async () => {
    const h = harness({ self, peers: [a, b] })
    const t0 = h.clock.now()
    await h.service.start()
    expect(h.service.intervalMs()).toBe(INTERVAL)
    await h.run(4 * INTERVAL + 100)
    const beats = h.beats()
    expect(beats.map(p => p.at - t0)).toEqual([20, 3020, 6020, 9020, 12020])
    for (const { hb } of beats) {
      expect(verifyHeartbeat(hb)).toBe(true)
      expect(hb).toMatchObject({ v: 1, type: 'beat', peerId: self.peerId, intervalMs: INTERVAL, digest: 'digest-self' })
      expect(hb.capacity).toMatchObject({ slots: 2, power: 'ac' })
    }
    const seqs = beats.map(p => p.hb.seq)
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true)
    // the first beat cannot know whom it reaches; later ones list the subscribers the last one reached
    expect(beats[0].hb.direct).toBeUndefined()
    expect(beats[1].hb.direct?.slice().sort()).toEqual([peerTag(a.peerId), peerTag(b.peerId)].sort())
  })

  it('a beat lists only the subscribers our last publish reached, not the ones that joined since', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    await h.run(100)
    h.subscribers.add(c.peerId)
    await h.run(INTERVAL)
    // c subscribed after the first publish: it was not among its recipients
    expect(h.beats()[1].hb.direct).not.toContain(peerTag(c.peerId))
    await h.run(INTERVAL)
    expect(h.beats()[2].hb.direct).toContain(peerTag(c.peerId))
  })

  it('in a steady team it wakes once per heartbeat interval, no more', async () => {
    const { h } = await steadyTeam()
    const before = { wakeups: h.wakeups(), beats: h.beats().length }
    await h.run(10 * INTERVAL)
    expect(h.beats().length - before.beats).toBe(10)
    expect(h.wakeups() - before.wakeups).toBe(10)
    expect(h.transitions.map(t => t.to)).toEqual(['alive', 'alive'])
  })

  it('reads the power source once per 30 s, not on every beat', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    await h.run(11 * INTERVAL + 100)
    expect(h.beats()).toHaveLength(12)
    // read at the first beat, again at the first one more than 30 s later
    expect(h.powerReads()).toBe(2)
  })

  it('a new subscriber hears from us within 100 ms, once more a second later, then on the interval', async () => {
    const h = harness({ self, peers: [a, b] })
    const t0 = h.clock.now()
    await h.service.start()
    await h.run(1000)
    h.subscribe(c.peerId)
    await h.run(2 * INTERVAL)
    expect(h.beats().map(p => p.at - t0)).toEqual([20, 1100, 2100, 5100])
  })

  it('a new subscriber right after a beat waits for the minimum gap between beats', async () => {
    const h = harness({ self, peers: [a, b] })
    const t0 = h.clock.now()
    await h.service.start()
    await h.run(50)
    h.subscribe(c.peerId)
    await h.run(2000)
    expect(h.beats().map(p => p.at - t0).slice(0, 3)).toEqual([20, 520, 1520])
  })
})

describe('members falling silent and coming back', () => {
  it('a member that stops beating is suspect, probed, then dead; its connections are hung up; a beat brings it back', async () => {
    const { h, stopA } = await steadyTeam()
    const conn = h.connect(a.peerId)
    const other = h.connect(b.peerId)
    expect(to(h, a)).toEqual(['alive'])
    stopA()
    const lastBeat = h.service.detector.lastSeen(a.peerId) ?? 0
    const suspectAt = await until(h, a, 'suspect')
    // phi accrual: past the mean interval plus the acceptable pause, and well before 7 s
    expect(suspectAt - lastBeat).toBeGreaterThan(INTERVAL + 500)
    expect(suspectAt - lastBeat).toBeLessThan(7000)
    expect(h.pings.map(p => [p.peer, p.at])).toEqual([[a.peerId, suspectAt]])
    expect(conn.aborted).toBeUndefined()
    // the probe hangs: dead once the unconfirmed suspicion times out
    const deadAt = await until(h, a, 'dead')
    expect(deadAt - suspectAt).toBeGreaterThanOrEqual(3000)
    expect(deadAt - suspectAt).toBeLessThan(3100)
    expect(conn.aborted?.name).toBe('StaleConnectionError')
    expect(other.aborted).toBeUndefined()
    expect(to(h, b)).toEqual(['alive'])

    h.beat(a)
    expect(h.stateOf(a)).toBe('alive')
    expect(h.transitions.at(-1)).toMatchObject({ peer: a.peerId, from: 'dead', to: 'alive', at: h.clock.now() })
  })

  it('a suspect that answers the probe is alive again at once and is not declared dead', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    await until(h, a, 'suspect')
    await h.run(1000)
    h.pings[0].answer()
    await h.flush()
    expect(h.stateOf(a)).toBe('alive')
    expect(to(h, a)).toEqual(['alive', 'suspect', 'alive'])
  })

  it('a member whose last connection closed is probed at once: refused, it is dead within a second', async () => {
    const { h } = await steadyTeam()
    const t0 = h.clock.now()
    h.disconnect(a.peerId)
    expect(h.pings.map(p => p.peer)).toEqual([a.peerId])
    h.pings[0].refuse()
    await h.flush()
    expect(h.stateOf(a)).toBe('suspect')
    const deadAt = await until(h, a, 'dead', 2000)
    expect(deadAt - t0).toBeLessThan(1000)
    expect(to(h, b)).toEqual(['alive'])
  })

  it('a disconnect of a non-member, or of a member that left, sends no probe; one probe per member at a time', async () => {
    const { h, stopB } = await steadyTeam()
    h.disconnect(c.peerId)
    stopB()
    h.beat(b, { type: 'left' })
    h.disconnect(b.peerId)
    expect(h.pings).toHaveLength(0)
    h.disconnect(a.peerId)
    h.disconnect(a.peerId)
    expect(h.pings.map(p => p.peer)).toEqual([a.peerId])
  })

  it('a refused probe that a heartbeat overtook is stale news: the member stays alive', async () => {
    const { h } = await steadyTeam()
    h.disconnect(a.peerId)
    await h.run(50)
    h.beat(a)
    h.pings[0].refuse()
    await h.flush()
    expect(h.stateOf(a)).toBe('alive')
    expect(to(h, a)).toEqual(['alive'])
  })

  it('a member back on a new connection while suspect is probed over it at once', async () => {
    const { h, stopA } = await steadyTeam()
    const old = h.connect(a.peerId, Date.now() - 60_000)
    stopA()
    await until(h, a, 'suspect')
    expect(h.pings).toHaveLength(1)
    h.connect(a.peerId, Date.now() + 1)
    expect(old.aborted?.name).toBe('StaleConnectionError')
    expect(h.pings).toHaveLength(2)
    // the older probe, still waiting on the silent connection, no longer counts
    h.pings[0].refuse()
    h.pings[1].answer()
    await h.flush()
    expect(h.stateOf(a)).toBe('alive')
  })

  it('a member that left is left at once, and its heartbeats still in flight do not revive it', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    h.beat(a, { type: 'left' })
    expect(h.stateOf(a)).toBe('left')
    await h.run(500)
    h.beat(a)
    expect(h.stateOf(a)).toBe('left')
    await h.run(20_000)
    expect(to(h, a)).toEqual(['alive', 'left'])
    expect(h.pings).toHaveLength(0)
  })
})

describe('a pause of this process', () => {
  it('declares no member dead, not even one suspect before the pause, and all recover when their beats arrive', async () => {
    const { h, stopA, stopB } = await steadyTeam()
    stopB()
    await until(h, b, 'suspect')
    await h.run(1000)
    // paused (SIGSTOP, a suspended laptop) for 30 s: nothing is received meanwhile
    stopA()
    h.clock.pause(30_000)
    h.clock.advance(0)
    await h.flush()
    const resumed = h.clock.now()
    expect(h.service.detector.localHealth(resumed)).toBeGreaterThan(0)
    expect(h.transitions.filter(t => t.to === 'dead')).toEqual([])
    // what the members sent during the pause is read right after the timers ran
    h.beat(a)
    h.beat(b)
    expect([h.stateOf(a), h.stateOf(b)]).toEqual(['alive', 'alive'])
    h.keepBeating(a, INTERVAL)
    h.keepBeating(b, INTERVAL)
    await h.run(30_000)
    expect(h.transitions.filter(t => t.to === 'dead')).toEqual([])
    expect([h.stateOf(a), h.stateOf(b)]).toEqual(['alive', 'alive'])
  })

  it('a member still silent after the pause is declared dead, later than it would be otherwise', async () => {
    const { h, stopA, stopB } = await steadyTeam()
    stopA()
    stopB()
    h.clock.pause(30_000)
    h.clock.advance(0)
    await h.flush()
    const resumed = h.clock.now()
    h.beat(b)
    h.keepBeating(b, INTERVAL)
    const deadAt = await until(h, a, 'dead', 30_000)
    // without the pause: dead 3 s after suspicion; a stalled observer waits longer (its
    // probe timeout and suspicion timeout stretch with its health, which recovers by 1 per 5 s)
    expect(deadAt - resumed).toBeGreaterThan(4000)
    expect(deadAt - resumed).toBeLessThan(25_000)
    expect(h.stateOf(b)).toBe('alive')
  })
})

describe('heartbeats received', () => {
  it('a heartbeat relayed by another member is a sign of life of its sender', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    await h.run(2000)
    const before = h.service.detector.lastSeen(a.peerId) ?? 0
    h.beat(a, { from: b })
    expect(h.service.detector.lastSeen(a.peerId)).toBe(h.clock.now())
    expect(h.service.detector.lastSeen(a.peerId)).toBeGreaterThan(before)
  })

  it('is relayed only when one of our subscribers is missing from the sender\'s direct list', async () => {
    const h = harness({ self, peers: [a, b, c] })
    await h.service.start()
    expect(h.beat(a, { direct: [peerTag(b.peerId), peerTag(c.peerId)] })).toBe(TopicValidatorResult.Ignore)
    expect(h.beat(a, { direct: [peerTag(b.peerId)] })).toBe(TopicValidatorResult.Accept)
    // no list (an older daemon, a large team): always relayed
    expect(h.beat(a)).toBe(TopicValidatorResult.Accept)
    // the peer that relayed it to us needs no copy back
    expect(h.beat(a, { from: c, direct: [peerTag(b.peerId)] })).toBe(TopicValidatorResult.Ignore)
    expect(h.stateOf(a)).toBe('alive')
  })

  it('a replayed heartbeat is ignored and is no sign of life of its author (only of the member relaying it)', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    h.beat(a, { seq: 1_000 })
    const seen = h.service.detector.lastSeen(a.peerId)
    await h.run(2000)
    expect(h.beat(a, { seq: 1_000, from: b })).toBe(TopicValidatorResult.Ignore)
    expect(h.beat(a, { seq: 999, from: b })).toBe(TopicValidatorResult.Ignore)
    expect(h.service.detector.lastSeen(a.peerId)).toBe(seen)
    expect(h.service.detector.lastSeen(b.peerId)).toBe(h.clock.now())
  })

  it('from an unverified peer it is ignored; a non-member\'s is ignored (its certificate may be on its way); our own echo is ignored; none counts', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    h.verified.delete(a.peerId)
    expect(h.beat(a)).toBe(TopicValidatorResult.Ignore)
    expect(h.stateOf(a)).toBeUndefined()
    // not a penalty for b: in a join burst b relays a newcomer's beats before we hear of it
    expect(h.beat(c, { from: b })).toBe(TopicValidatorResult.Ignore)
    expect(h.stateOf(c)).toBeUndefined()
    expect(h.beat(self, { from: b })).toBe(TopicValidatorResult.Ignore)
    expect(h.stateOf(self)).toBeUndefined()
    expect(h.transitions).toEqual([])
  })

  it('a member\'s beat with a bad signature is rejected', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    const forged = { v: 1, type: 'beat', peerId: a.peerId, seq: 5, intervalMs: 3000, addrs: ['/ip4/10.0.0.66/tcp/1'], sig: 'A'.repeat(86) }
    expect(h.receive(b.peerId, new TextEncoder().encode(JSON.stringify(forged)))).toBe(TopicValidatorResult.Reject)
    expect(h.stateOf(a)).toBeUndefined()
  })

  it('hands a member\'s state digest on', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    h.beat(a, { digest: 'd-a' })
    expect(h.digests).toEqual([{ peer: a.peerId, digest: 'd-a' }])
  })
})

describe('a member that just passed the hello', () => {
  it('is alive at once, before its first heartbeat; then judged on its heartbeats as any member', async () => {
    const h = harness({ self, peers: [a, b] })
    await h.service.start()
    h.service.helloed(a.peerId)
    expect(h.stateOf(a)).toBe('alive')
    expect(h.transitions).toEqual([{ peer: a.peerId, from: undefined, to: 'alive', at: h.clock.now() }])
    // it never beats: suspect, probed, and (the probe refused) dead, as a silent member
    await until(h, a, 'suspect')
    h.pings.find(p => p.peer === a.peerId)?.refuse()
    await until(h, a, 'dead')
  })

  it('changes nothing for a member already known, a non-member, or before start', async () => {
    const h = harness({ self, peers: [a, b] })
    h.service.helloed(a.peerId)
    await h.service.start()
    expect(h.stateOf(a)).toBeUndefined()
    h.service.helloed(c.peerId)
    expect(h.stateOf(c)).toBeUndefined()
    h.beat(b)
    const stop = h.keepBeating(b)
    await h.run(3 * INTERVAL)
    stop()
    await until(h, b, 'suspect')
    h.service.helloed(b.peerId)
    expect(h.stateOf(b)).toBe('suspect')
  })
})

describe('addresses in heartbeats', () => {
  const ADDRS = ['/ip4/127.0.0.1/tcp/4801', '/ip4/10.0.0.5/tcp/4801']

  it('every beat carries this daemon\'s own addresses, signed; a `left` carries none, nor a beat when there are none', async () => {
    let addrs = ADDRS
    const h = harness({ self, peers: [a, b], init: { addresses: () => addrs } })
    await h.service.start()
    await h.run(INTERVAL + 100)
    for (const { hb } of h.beats()) {
      expect(hb.addrs).toEqual(ADDRS)
      expect(verifyHeartbeat(hb)).toBe(true)
      // another address in place of the signed ones breaks the signature
      expect(verifyHeartbeat({ ...hb, addrs: ['/ip4/10.0.0.66/tcp/1'] })).toBe(false)
    }
    addrs = []
    await h.run(INTERVAL)
    expect(h.beats().at(-1)?.hb).not.toHaveProperty('addrs')
    addrs = ADDRS
    const stopping = h.service.stop({ announce: true, waitMs: 10 })
    await h.run(20)
    await stopping
    expect(h.published.at(-1)?.hb).toMatchObject({ type: 'left' })
    expect(h.published.at(-1)?.hb).not.toHaveProperty('addrs')
  })

  it('a member not connected to us: the addresses of its verified beat are handed on, whoever relayed it', async () => {
    const told: Array<{ peer: string, addrs: string[] }> = []
    const h = harness({ self, peers: [a, b], init: { onAddresses: (peer, addrs) => { told.push({ peer, addrs }) } } })
    await h.service.start()
    expect(h.beat(a, { from: b, addrs: ADDRS })).not.toBe(TopicValidatorResult.Reject)
    expect(told).toEqual([{ peer: a.peerId, addrs: ADDRS }])
  })

  it('none for a member we are connected to, a beat without them, a non-member, a replay, our own echo, or an unverified relay', async () => {
    const told: string[] = []
    const h = harness({ self, peers: [a, b], init: { onAddresses: peer => { told.push(peer) } } })
    await h.service.start()
    h.connect(a.peerId)
    h.beat(a, { addrs: ADDRS })
    h.beat(b)
    h.beat(c, { from: b, addrs: ADDRS })
    h.beat(b, { seq: 1, addrs: ADDRS })
    h.beat(self, { from: b, addrs: ADDRS })
    h.verified.delete(b.peerId)
    h.beat(b, { addrs: ADDRS })
    expect(told).toEqual([])
  })
})

describe('stop', () => {
  it('clears its timers and listeners: nothing is published or concluded afterwards', async () => {
    const { h, stopA, stopB } = await steadyTeam()
    h.disconnect(a.peerId) // a probe in flight at stop
    stopA()
    stopB()
    const published = h.published.length
    await h.service.stop({ announce: false })
    expect(h.clock.pending).toBe(1) // the probe's own timeout, until it settles
    h.pings[0].refuse()
    await h.flush()
    expect(h.clock.pending).toBe(0)
    expect(h.listeners()).toBe(0)
    await h.run(60_000, 100)
    expect(h.published).toHaveLength(published)
    expect(h.transitions.filter(t => t.to !== 'alive')).toEqual([])
  })

  it('announces left, then waits on the clock before it returns', async () => {
    const { h, stopA, stopB } = await steadyTeam(5000)
    stopA()
    stopB()
    let done = false
    const stopping = h.service.stop({ announce: true, waitMs: 100 }).then(() => { done = true })
    await h.flush()
    expect(h.published.at(-1)?.hb).toMatchObject({ type: 'left', peerId: self.peerId })
    expect(verifyHeartbeat(h.published.at(-1)?.hb)).toBe(true)
    await h.run(90)
    expect(done).toBe(false)
    await h.run(10)
    await stopping
    expect(done).toBe(true)
    expect(h.clock.pending).toBe(0)
  })

  it('start() installs its topic validator and its five listeners', async () => {
    const h = harness({ self, peers: [a, b] })
    expect(h.validatorInstalled()).toBe(false)
    await h.service.start()
    expect(h.validatorInstalled()).toBe(true)
    // peer:disconnect, connection:open (stale connections, signs of life), subscription-change, gossipsub:message
    expect(h.listeners()).toBe(5)
  })
})

describe('load awareness', () => {
  it('gossip handed to us by a suspect refutes the suspicion; a burst costs one detector update per 100 ms', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    await until(h, a, 'suspect')
    h.gossip(a.peerId)
    expect(h.stateOf(a)).toBe('alive')
    const seen = h.service.detector.lastSeen(a.peerId)
    await h.run(50)
    h.gossip(a.peerId)
    expect(h.service.detector.lastSeen(a.peerId)).toBe(seen)
    await h.run(60)
    h.gossip(a.peerId)
    expect(h.service.detector.lastSeen(a.peerId)).toBe(h.clock.now())
    // a non-member's gossip is no sign of anyone's life
    h.gossip(c.peerId)
    expect(h.stateOf(c)).toBeUndefined()
  })

  it('a saturated daemon declares no silent member dead while it stays saturated', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    h.utilization = 0.97
    await h.run(60_000)
    // the probe went out and was never answered: on an idle daemon that is dead in ~3 s
    expect(h.pings.length).toBeGreaterThan(0)
    expect(to(h, a)).toEqual(['alive', 'suspect'])
    h.utilization = 0.1
    await until(h, a, 'dead', 60_000)
    expect(to(h, b)).toEqual(['alive'])
  })

  it('a probe that fails without a refusal (a reset) does not confirm; a refused one does', async () => {
    const { h, stopA } = await steadyTeam()
    h.connect(a.peerId)
    stopA()
    const suspectAt = await until(h, a, 'suspect')
    h.pings[0].refuse('stream reset')
    await h.run(1000)
    // one confirmation: 1.75 s, not the 0.5 s of a refusal
    expect(h.stateOf(a)).toBe('suspect')
    const deadAt = await until(h, a, 'dead', 5000)
    expect(deadAt - suspectAt).toBeGreaterThanOrEqual(1750)
    h.beat(a)
    await h.run(50)
    h.disconnect(a.peerId)
    expect(h.pings).toHaveLength(2)
    h.pings[1].refuse('connect ECONNREFUSED 127.0.0.1:4801')
    await h.flush()
    const refusedAt = h.clock.now()
    await h.run(600)
    expect(h.stateOf(a)).toBe('dead')
    expect((h.transitions.at(-1)?.at ?? Infinity) - refusedAt).toBeLessThanOrEqual(510)
  })

  it('a probe that dies with the member\'s last connection is sent again over a fresh dial', async () => {
    const { h, stopA } = await steadyTeam()
    stopA()
    await until(h, a, 'suspect')
    expect(h.pings).toHaveLength(1)
    h.pings[0].refuse('Unexpected EOF - stream closed')
    await h.flush()
    expect(h.pings).toHaveLength(2)
    h.pings[1].refuse('connect ECONNREFUSED 127.0.0.1:4801')
    await h.flush()
    expect(await until(h, a, 'dead', 1000)).toBeDefined()
  })
})

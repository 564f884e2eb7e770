/**
 * Death notices on a fake gossipsub: who may publish, what a receiver accepts, relays and
 * hands on, and that nothing in a notice is taken as a verdict by itself (the receiver
 * only counts it and probes; see the presence service test for that part).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { beforeAll, describe, expect, it } from 'vitest'
import { DeadNotices, NOTICE_QUIET_MS, noticeTopic, signDeadNotice, verifyDeadNotice, type DeadNotice } from '../../../src/presence/dead-notice.js'
import type { PresenceValidator } from '../../../src/presence/edges.js'
import { makePeers, type TestPeer } from '../team/helpers.js'

let self: TestPeer
let observer: TestPeer
let victim: TestPeer
let stranger: TestPeer
let relay: TestPeer

beforeAll(async () => {
  [self, observer, victim, stranger, relay] = await makePeers(5)
})

const TEAM = 'team-notice-test'
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))

function setup (o: { large?: boolean } = {}): { n: DeadNotices, published: DeadNotice[], heard: Array<{ peer: string, by: string }>, deliver: (v: unknown, from?: TestPeer) => TopicValidatorResult, clock: { t: number }, subscribed: () => boolean } {
  let validator: PresenceValidator | undefined
  let subscribed = false
  const published: DeadNotice[] = []
  const heard: Array<{ peer: string, by: string }> = []
  const clock = { t: 1000 }
  const members = new Set([self, observer, victim, relay].map(p => p.peerId))
  const n = new DeadNotices({
    pubsub: {
      topicValidators: { set: (topic, v) => { if (topic === noticeTopic(TEAM)) validator = v }, delete: () => { validator = undefined } },
      subscribe: () => { subscribed = true },
      unsubscribe: () => { subscribed = false },
      publish: async (_topic, data) => { published.push(JSON.parse(new TextDecoder().decode(data))) }
    },
    teamId: TEAM,
    signer: self.signer,
    isVerified: peer => members.has(peer),
    isMember: peer => members.has(peer),
    shouldTell: () => o.large ?? true,
    onNotice: (peer, by) => { heard.push({ peer, by }) },
    now: () => clock.t
  })
  n.start()
  const deliver = (v: unknown, from: TestPeer = relay): TopicValidatorResult => {
    if (validator == null) throw new Error('no validator')
    return validator(peerIdFromString(from.peerId), { data: bytes(v) })
  }
  return { n, published, heard, deliver, clock, subscribed: () => subscribed }
}

describe('death notices', () => {
  it('are signed by their observer, and verify only unaltered', () => {
    const notice = signDeadNotice({ peer: victim.peerId, at: 5 }, observer.signer)
    expect(notice.by).toBe(observer.peerId)
    expect(verifyDeadNotice(notice)).toBe(true)
    expect(verifyDeadNotice({ ...notice, peer: relay.peerId })).toBe(false)
    expect(verifyDeadNotice({ ...notice, by: relay.peerId })).toBe(false)
    expect(verifyDeadNotice({ ...notice, extra: 1 })).toBe(false)
  })

  it('a member\'s notice is handed on once as its suspicion and relayed; more about the same death are not', () => {
    const { heard, deliver } = setup()
    expect(deliver(signDeadNotice({ peer: victim.peerId, at: 5 }, observer.signer))).toBe(TopicValidatorResult.Accept)
    expect(heard).toEqual([{ peer: victim.peerId, by: observer.peerId }])
    expect(deliver(signDeadNotice({ peer: victim.peerId, at: 6 }, relay.signer))).toBe(TopicValidatorResult.Ignore)
    expect(heard).toHaveLength(1)
  })

  it('rejects a notice signed by a non-member, a forged one, and junk; ignores one from an unverified neighbour', () => {
    const { heard, deliver } = setup()
    expect(deliver(signDeadNotice({ peer: victim.peerId, at: 5 }, stranger.signer))).toBe(TopicValidatorResult.Reject)
    const forged = { ...signDeadNotice({ peer: relay.peerId, at: 5 }, observer.signer), peer: victim.peerId }
    expect(deliver(forged)).toBe(TopicValidatorResult.Reject)
    expect(deliver({ hello: 1 })).toBe(TopicValidatorResult.Reject)
    expect(deliver(signDeadNotice({ peer: victim.peerId, at: 5 }, observer.signer), stranger)).toBe(TopicValidatorResult.Ignore)
    expect(heard).toEqual([])
  })

  it('a notice about this daemon, or about a non-member, is not acted on', () => {
    const { heard, deliver } = setup()
    expect(deliver(signDeadNotice({ peer: self.peerId, at: 5 }, observer.signer))).toBe(TopicValidatorResult.Ignore)
    expect(deliver(signDeadNotice({ peer: stranger.peerId, at: 5 }, observer.signer))).toBe(TopicValidatorResult.Ignore)
    expect(heard).toEqual([])
  })

  it('tells what it saw itself once per death, only in a large team, and not what it heard first', async () => {
    const large = setup()
    large.n.saw(victim.peerId)
    large.n.saw(victim.peerId)
    await Promise.resolve()
    expect(large.published.map(p => [p.peer, p.by])).toEqual([[victim.peerId, self.peerId]])
    expect(verifyDeadNotice(large.published[0])).toBe(true)
    large.clock.t += NOTICE_QUIET_MS
    large.n.saw(victim.peerId)
    expect(large.published).toHaveLength(2)
    // heard from another member first: its own confirmation adds nothing
    large.deliver(signDeadNotice({ peer: relay.peerId, at: 5 }, observer.signer))
    large.n.saw(relay.peerId)
    expect(large.published).toHaveLength(2)

    const small = setup({ large: false })
    small.n.saw(victim.peerId)
    expect(small.published).toHaveLength(0)
  })

  it('a false notice keeps a real death from being told only for the quiet period', () => {
    const { n, heard, deliver, clock, published } = setup()
    deliver(signDeadNotice({ peer: victim.peerId, at: 5 }, observer.signer))
    clock.t += NOTICE_QUIET_MS
    n.saw(victim.peerId)
    expect(published).toHaveLength(1)
    expect(heard).toHaveLength(1)
  })

  it('stop() unsubscribes and removes its validator', () => {
    const { n, subscribed } = setup()
    expect(subscribed()).toBe(true)
    n.stop()
    expect(subscribed()).toBe(false)
  })
})

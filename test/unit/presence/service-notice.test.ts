/**
 * What the presence service does with a death notice (src/presence/dead-notice.ts): it
 * probes the accused itself, and only its own probe's refusal makes it dead; a live
 * member answers and stays alive. And it reports each probe's outcome, which is how its
 * own sightings become notices.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { ProbeOutcome } from '../../../src/presence/failure-detector.js'
import { makePeers, type TestPeer } from '../team/helpers.js'
import { harness, type Harness } from './service-harness.js'

let self: TestPeer
let a: TestPeer
let b: TestPeer

beforeAll(async () => {
  [self, a, b] = await makePeers(3)
})

async function steadyTeam (outcomes: Array<[string, ProbeOutcome]> = []): Promise<Harness> {
  const h = harness({ self, peers: [a, b], init: { onProbe: (peer, outcome) => { outcomes.push([peer, outcome]) } } })
  await h.service.start()
  h.keepBeating(a, 3000)
  h.keepBeating(b, 3000)
  await h.run(30_500)
  return h
}

describe('a death notice', () => {
  it('makes the service probe the accused; refused, it is dead within a second of the notice', async () => {
    const h = await steadyTeam()
    const t0 = h.clock.now()
    h.service.heardDeath(a.peerId, b.peerId)
    expect(h.pings.map(p => p.peer)).toEqual([a.peerId])
    h.pings[0].refuse('connect ECONNREFUSED 127.0.0.1:4801')
    await h.flush()
    for (let i = 0; i < 100 && h.stateOf(a) !== 'dead'; i++) await h.run(10)
    expect(h.stateOf(a)).toBe('dead')
    expect(h.clock.now() - t0).toBeLessThan(1000)
  })

  it('from one flaky observer, about a member that answers, changes nothing', async () => {
    const h = await steadyTeam()
    h.service.heardDeath(a.peerId, b.peerId)
    h.pings[0].answer()
    await h.run(5000)
    expect(h.stateOf(a)).toBe('alive')
    expect(h.transitions.filter(t => t.peer === a.peerId).map(t => t.to)).toEqual(['alive'])
  })

  it('about this daemon, a non-member, or a member already dead, sends no probe', async () => {
    const h = await steadyTeam()
    h.service.heardDeath(self.peerId, b.peerId)
    h.service.heardDeath('12D3KooWNotAMemberNotAMemberNotAMemberNotAMember', b.peerId)
    expect(h.pings).toHaveLength(0)
  })

  it('each probe\'s outcome is reported (a refusal is what the daemon tells the team)', async () => {
    const outcomes: Array<[string, ProbeOutcome]> = []
    const h = await steadyTeam(outcomes)
    h.disconnect(a.peerId)
    h.pings[0].refuse('connect ECONNREFUSED 127.0.0.1:4801')
    await h.flush()
    expect(outcomes).toEqual([[a.peerId, 'refused']])
  })
})

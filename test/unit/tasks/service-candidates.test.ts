/**
 * The placement's view of the team (`tasks/candidates.ts`): this daemon from its own
 * counters, other members from their heartbeats; members without a heartbeat or a
 * presence state are not candidates.
 */
import { describe, expect, it } from 'vitest'
import type { PeerState } from '../../../src/presence/index.js'
import { PAUSED_LABEL, candidatesOf, type TeamView } from '../../../src/tasks/candidates.js'
import { capacity } from './service-fixture.js'

function view (over: Partial<TeamView> = {}): TeamView {
  const caps = new Map([['peer-b', capacity({ agents: ['build'], slots: 4, running: 3, queued: 1, cores: 8, labels: { gpu: 'yes' } })], ['peer-c', capacity()]])
  const states = new Map<string, PeerState>([['peer-b', 'suspect'], ['peer-d', 'alive']])
  return {
    selfId: 'peer-a',
    members: ['peer-a', 'peer-b', 'peer-c', 'peer-d'],
    self: { slots: 2, running: 1, queued: 0, agents: ['echo'], labels: { os: 'linux' } },
    capacityOf: peer => caps.get(peer),
    peerState: peer => states.get(peer),
    reputationOf: peer => ({ score: peer === 'peer-b' ? 0.5 : 0.9, status: 'probation' }),
    rttOf: () => 12,
    ...over
  }
}

describe('candidates for placement', () => {
  it('this daemon from its counters (alive, trusted, no hop); a member from its heartbeat, state and reputation', () => {
    const [self, b, ...rest] = candidatesOf(view())
    expect(self).toMatchObject({
      peerId: 'peer-a', self: true, state: 'alive', agents: ['echo'], labels: { os: 'linux' }, slots: 2, running: 1, queued: 0,
      reputation: { score: 1, status: 'trusted' }, rttMs: 0, inflight: 0
    })
    expect(self.paused).toBeUndefined()
    expect(b).toMatchObject({
      peerId: 'peer-b', self: false, state: 'suspect', agents: ['build'], labels: { gpu: 'yes' }, cores: 8, slots: 4, running: 3, queued: 1,
      reputation: { score: 0.5, status: 'probation' }, rttMs: 12
    })
    // peer-c: a heartbeat but no presence state; peer-d: a state but no heartbeat
    expect(rest).toEqual([])
  })

  it('a paused machine says why', () => {
    const paused = view({ self: { slots: 2, running: 0, queued: 0, agents: ['echo'], labels: { [PAUSED_LABEL]: 'on battery' } } })
    expect(candidatesOf(paused)[0].paused).toBe('on battery')
  })
})

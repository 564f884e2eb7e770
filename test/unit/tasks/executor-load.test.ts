import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DECLINE_BACKOFF_MS } from '../../../src/tasks/constants.js'
import { ExecutorLoad, RECENT_DECAY_MS } from '../../../src/tasks/executor-load.js'
import type { Slot } from '../../../src/tasks/lease-watch.js'
import type { Candidate } from '../../../src/tasks/placement.js'

/** a peer as its heartbeat shows it */
function peer (peerId: string, slots: number, running: number, queued = 0, self = false): Candidate {
  const base = { state: 'alive' as const, agents: ['echo'], labels: {}, cores: 4, load1: 0, memFreeMb: 4096, rttMs: 1 }
  return { ...base, peerId, self, slots, running, queued, inflight: 0, reputation: { score: 0.5, status: 'unproven' } }
}

describe('ExecutorLoad', () => {
  let heartbeats: Map<string, { stamp: number, c: Candidate }>
  let load: ExecutorLoad
  const heartbeat = (c: Candidate): void => { heartbeats.set(c.peerId, { stamp: (heartbeats.get(c.peerId)?.stamp ?? 0) + 1, c }) }
  const seen = (id: string, agent?: string, prefetch = false): Candidate | undefined => load.candidates(agent, prefetch).find(c => c.peerId === id)

  beforeEach(() => {
    vi.useFakeTimers()
    heartbeats = new Map()
    load = new ExecutorLoad({
      candidates: () => [...heartbeats.values()].map(h => h.c),
      capacityStamp: id => heartbeats.get(id)?.stamp
    })
  })
  afterEach(() => { vi.useRealTimers() })

  it('counts its own placements exactly on top of the other coordinators\' share of a heartbeat', () => {
    load.count('r', 'echo', +1)
    load.count('r', 'echo', +1)
    heartbeat(peer('r', 8, 3, 1)) // 4 busy, 2 of them ours: 2 are the others'
    expect(seen('r')).toMatchObject({ running: 4, queued: 0, inflight: 2 })
    // two more placed before the next heartbeat: counted at once, not twice
    load.count('r', 'echo', +1)
    load.count('r', 'lint', +1)
    expect(seen('r')).toMatchObject({ running: 6, inflight: 4 })
    expect(seen('r', 'echo')?.agentInflight).toBe(3)
    expect(seen('r', 'lint')?.agentInflight).toBe(1)
    // the next heartbeat shows all six busy: still six
    heartbeat(peer('r', 8, 6))
    expect(seen('r')).toMatchObject({ running: 6, inflight: 4 })
  })

  it('releases a slot once, and never counts below zero', () => {
    heartbeat(peer('r', 2, 0))
    load.count('r', 'echo', +1)
    load.count('r', 'echo', +1)
    const slot: Slot = { attempt: 1, accepted: true, expiresWall: 0 }
    load.release('r', 'echo', slot)
    load.release('r', 'echo', slot)
    expect(slot.released).toBe(true)
    expect(seen('r', 'echo')).toMatchObject({ inflight: 1, agentInflight: 1 })
    load.count('r', 'echo', -1)
    load.count('r', 'echo', -1)
    expect(seen('r', 'echo')).toMatchObject({ inflight: 0, agentInflight: 0 })
    load.count('r', 'echo', +1)
    expect(seen('r', 'echo')).toMatchObject({ inflight: 1, agentInflight: 1 })
  })

  it('an executor\'s own word on its other load beats heartbeats while fresh', () => {
    heartbeat(peer('r', 4, 0))
    load.noteLoad('r', 3)
    heartbeat(peer('r', 4, 0)) // a heartbeat from before the executor's word arrived late
    expect(seen('r')?.running).toBe(3)
    vi.advanceTimersByTime(2_000)
    heartbeat(peer('r', 4, 1))
    expect(seen('r')?.running).toBe(1)
  })

  it('a peer that declined counts as full for the back-off, this daemon included', () => {
    heartbeat(peer('r', 4, 0))
    heartbeat(peer('me', 2, 0, 0, true))
    load.declined('r')
    load.declined('me')
    expect(seen('r')?.running).toBe(4)
    expect(seen('me')).toMatchObject({ running: 2, inflight: 0 })
    vi.advanceTimersByTime(DECLINE_BACKOFF_MS)
    expect(seen('r')?.running).toBe(0)
    expect(seen('me')?.running).toBe(0)
  })

  it('with prefetch, a remote peer takes one task per slot ahead; this daemon and a peer without slots do not', () => {
    heartbeat(peer('r', 3, 3))
    heartbeat(peer('none', 0, 0))
    heartbeat(peer('me', 2, 2, 0, true))
    // its slots stay 3 (its share of the work is that of 3 slots), 3 more queue ahead
    expect(seen('r', undefined, true)).toMatchObject({ slots: 3, queueAhead: 3 })
    expect(seen('none', undefined, true)?.queueAhead).toBeUndefined()
    expect(seen('me', undefined, true)?.queueAhead).toBeUndefined()
    expect(seen('r')?.queueAhead).toBeUndefined()
  })

  it('remembers what it placed on each peer lately, fading with time; a declined offer does not count', () => {
    heartbeat(peer('r', 4, 0))
    heartbeat(peer('me', 4, 0, 0, true))
    load.count('r', 'echo', +1)
    load.count('r', 'echo', +1)
    load.count('me', 'echo', +1)
    expect(seen('r')?.recent).toBe(2)
    expect(seen('me')?.recent).toBe(1)
    // a release frees the slot, not the record of the placement
    load.release('r', 'echo', { attempt: 1, accepted: true, expiresWall: 0 })
    expect(seen('r')).toMatchObject({ inflight: 1, recent: 2 })
    vi.advanceTimersByTime(RECENT_DECAY_MS)
    expect(seen('r')?.recent).toBeCloseTo(2 / Math.E)
    load.count('r', 'echo', +1)
    load.declined('r')
    expect(seen('r')?.recent).toBeCloseTo(2 / Math.E)
    expect(seen('other')).toBeUndefined()
  })

  it('tells which of this daemon\'s exact counts are its own tasks, never more than the executor holds', () => {
    heartbeat(peer('me', 4, 3, 0, true))
    load.count('me', 'echo', +1)
    expect(seen('me')).toMatchObject({ running: 3, inflight: 1 })
    load.count('me', 'echo', +1)
    load.count('me', 'echo', +1)
    load.count('me', 'echo', +1)
    // one ended on the executor and its result is not recorded yet: still 3 running, all ours
    expect(seen('me')).toMatchObject({ running: 3, inflight: 3 })
  })
})

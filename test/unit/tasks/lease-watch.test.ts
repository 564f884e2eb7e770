import { describe, expect, it } from 'vitest'
import type { PeerState } from '../../../src/presence/index.js'
import { taskRetry } from '../../../src/state/crdt/index.js'
import { LEASE_GRACE_MS } from '../../../src/tasks/constants.js'
import { heldLeases, isGone, lapseOf, type PeerView, type Slot } from '../../../src/tasks/lease-watch.js'
import { leased, reported, task } from './records.js'

const states: Record<string, PeerState> = { alive: 'alive', suspect: 'suspect', dead: 'dead', left: 'left', self: 'dead' }
const view: PeerView = { selfId: 'self', peerState: peer => states[peer] }
const NOW = 100_000

describe('isGone', () => {
  it('is true for dead and left peers only', () => {
    expect(['alive', 'suspect', 'dead', 'left', undefined].map(s => isGone(s as PeerState | undefined))).toStrictEqual([false, false, true, true, false])
  })
})

describe('heldLeases', () => {
  it('keeps the current attempt\'s leases that run (within grace), have no result and whose executor is not gone', () => {
    const record = reported(leased(task({ replicas: 5 }),
      { executor: 'alive', attempt: 1, expiresWall: NOW + 5_000 },
      { executor: 'suspect', attempt: 1, expiresWall: NOW - LEASE_GRACE_MS }, // at the edge of grace: still held
      { executor: 'dead', attempt: 1, expiresWall: NOW + 5_000 },
      { executor: 'left', attempt: 1, expiresWall: NOW + 5_000 },
      { executor: 'self', attempt: 1, expiresWall: NOW + 5_000 }, // this daemon is never gone, whatever the view says
      { executor: 'lapsed', attempt: 1, expiresWall: NOW - LEASE_GRACE_MS - 1 },
      { executor: 'done', attempt: 1, expiresWall: NOW + 5_000 }
    ), ['done', 1, 0])
    expect(heldLeases(record, NOW, view).map(l => l.executor).sort()).toStrictEqual(['alive', 'self', 'suspect'])
  })

  it('ignores leases of an earlier attempt', () => {
    const record = taskRetry(leased(task(), { executor: 'alive', attempt: 1, expiresWall: NOW + 5_000 }))
    expect(record.attempt).toBe(2)
    expect(heldLeases(record, NOW, view)).toStrictEqual([])
  })
})

describe('lapseOf', () => {
  const slot = (expiresWall: number, accepted = true): Slot => ({ attempt: 1, accepted, expiresWall })

  it('holds until the lease plus grace has passed', () => {
    expect(lapseOf('alive', slot(NOW - LEASE_GRACE_MS), NOW, view)).toBeUndefined()
    expect(lapseOf('alive', slot(NOW - LEASE_GRACE_MS - 1), NOW, view)).toStrictEqual({ why: 'its lease lapsed', timedOut: true })
  })

  it('an offer never answered lapses without a timeout against the executor', () => {
    expect(lapseOf('suspect', slot(NOW - LEASE_GRACE_MS - 1, false), NOW, view)).toStrictEqual({ why: 'the offer was never answered', timedOut: false })
  })

  it('a gone executor loses its slot at once, lease or not, and it is not a timeout', () => {
    for (const peer of ['dead', 'left']) {
      expect(lapseOf(peer, slot(NOW + 60_000), NOW, view)).toStrictEqual({ why: 'its executor is gone', timedOut: false })
      expect(lapseOf(peer, slot(NOW - 60_000), NOW, view)?.why).toBe('its executor is gone')
    }
  })

  it('this daemon\'s own executor is never gone, only lapsed', () => {
    expect(lapseOf('self', slot(NOW + 60_000), NOW, view)).toBeUndefined()
    expect(lapseOf('self', slot(NOW - 60_000), NOW, view)?.why).toBe('its lease lapsed')
  })
})

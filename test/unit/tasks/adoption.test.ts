import { describe, expect, it } from 'vitest'
import type { PeerState } from '../../../src/presence/index.js'
import type { TaskCoordinator } from '../../../src/state/crdt/index.js'
import { adoptions, heir, type AdoptionView } from '../../../src/tasks/adoption.js'

const SURVIVORS = ['s1', 's2', 's3', 's4']
const states: Record<string, PeerState> = { s1: 'alive', s2: 'alive', s3: 'suspect', s4: 'alive', dead: 'dead', gone: 'left', busy: 'alive' }

function viewOf (selfId: string, calls = { live: 0 }): AdoptionView {
  return { selfId, peerState: p => states[p], liveMembers: () => { calls.live++; return [...SURVIVORS] } }
}

/** 30 tasks of a dead coordinator, 30 of one that left, 30 of a live one */
function openTasks (): Map<string, TaskCoordinator> {
  const open = new Map<string, TaskCoordinator>()
  for (let i = 0; i < 30; i++) {
    open.set(`d${i}`, { peer: 'dead', epoch: 0 })
    open.set(`g${i}`, { peer: 'gone', epoch: 3 })
    open.set(`b${i}`, { peer: 'busy', epoch: 1 })
  }
  return open
}

describe('adoptions', () => {
  it('gives every orphan to exactly one survivor, its rendezvous heir, at the next epoch', () => {
    const open = openTasks()
    const bySurvivor = SURVIVORS.map(s => adoptions(open, viewOf(s)))
    const all = bySurvivor.flat()
    expect(all.map(a => a.taskId).sort()).toStrictEqual([...open.keys()].filter(id => !id.startsWith('b')).sort())
    SURVIVORS.forEach((s, i) => {
      for (const a of bySurvivor[i]) {
        expect(heir(a.taskId, SURVIVORS)).toBe(s)
        expect(a.epoch).toBe((open.get(a.taskId)?.epoch ?? NaN) + 1)
      }
    })
    // the work spreads: no survivor takes everything
    for (const mine of bySurvivor) expect(mine.length).toBeLessThan(all.length)
  })

  it('adopts nothing of a live coordinator, and asks for the live members only when one is gone', () => {
    const calls = { live: 0 }
    const open = new Map([...openTasks()].filter(([id]) => id.startsWith('b')))
    expect(adoptions(open, viewOf('s1', calls))).toStrictEqual([])
    expect(adoptions(new Map(), viewOf('s1', calls))).toStrictEqual([])
    expect(calls.live).toBe(0)
    adoptions(openTasks(), viewOf('s1', calls))
    expect(calls.live).toBe(1)
  })

  it('never names the gone coordinator as heir, even if the member list still has it', () => {
    const open = new Map<string, TaskCoordinator>([...Array(50).keys()].map(i => [`t${i}`, { peer: 'dead', epoch: 0 }]))
    const stale: AdoptionView = { selfId: 'dead', peerState: p => states[p], liveMembers: () => [...SURVIVORS, 'dead'] }
    expect(adoptions(open, stale)).toStrictEqual([])
  })

  it('with two coordinators gone and both still in the member list, every orphan still finds a living heir', () => {
    const open = openTasks()
    const stale = (selfId: string): AdoptionView => ({ selfId, peerState: p => states[p], liveMembers: () => [...SURVIVORS, 'dead', 'gone'] })
    const all = SURVIVORS.flatMap(s => adoptions(open, stale(s))).map(a => a.taskId)
    expect(all.sort()).toStrictEqual([...open.keys()].filter(id => !id.startsWith('b')).sort())
  })
})

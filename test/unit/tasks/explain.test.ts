import { describe, expect, it } from 'vitest'
import { explainTask } from '../../../src/tasks/explain.js'
import type { Placement } from '../../../src/tasks/placement.js'
import { leased, reported, task } from './records.js'

const NAMES: Record<string, string> = { sub: 'bob', alice: 'alice', carol: 'carol' }
const nameOf = (peer: string): string | undefined => NAMES[peer]
/** what a placement made now says: alice would be chosen today */
const aliceNow: Placement = {
  ranked: [{ peerId: 'alice', score: 0.9, freeSlots: 2, parts: { slots: 0.55, load: 0.1, memory: 0.1, reputation: 0.1, rtt: 0.05 }, share: 1, recent: 0 }],
  held: [],
  full: [],
  refused: [],
  chosen: ['alice']
}

describe('explainTask', () => {
  it('a task that ran on carol says so by name, and never that alice was chosen', () => {
    const record = reported(leased(task(), { executor: 'carol', attempt: 1, expiresWall: 10 }), ['carol', 1, 0])
    const doc = explainTask({ record, placementNow: () => aliceNow, selfId: 'alice', nameOf, now: 5 })
    expect(doc.state).toBe('succeeded')
    expect(doc.lines).toContain('submitted by bob (sub)')
    expect(doc.lines.find(l => l.startsWith('ran on '))).toBe('ran on carol (carol): attempt 1, committed, output sha256 out-0…')
    expect(doc.lines.some(l => /^\s*chosen:/.test(l))).toBe(false)
    expect(doc.lines).toContain('if it were placed now (this daemon\'s view):')
    expect(doc.ranOn).toEqual([{ peerId: 'carol', name: 'carol', attempt: 1, outcome: 'committed' }])
  })

  it('a failed attempt, then a running one on a live lease', () => {
    let record = reported(leased(task(), { executor: 'carol', attempt: 1, expiresWall: 10 }), ['carol', 1, 3])
    record = { ...record, attempt: 2, state: 'running' }
    record = leased(record, { executor: 'alice', attempt: 2, expiresWall: 100 })
    const doc = explainTask({ record, placementNow: () => aliceNow, selfId: 'alice', nameOf, now: 50 })
    expect(doc.ranOn.map(s => [s.peerId, s.attempt, s.outcome])).toEqual([['carol', 1, 'failed'], ['alice', 2, 'running']])
    expect(doc.lines).toContain('running on alice (alice, this daemon): attempt 2')
    expect(doc.lines).toContain('ran on carol (carol): attempt 1, failed: exit code 3')
  })

  it('a failed attempt is told once, with why it is not held against its executor', () => {
    let record = reported(leased(task(), { executor: 'carol', attempt: 1, expiresWall: 10 }), ['carol', 1, 2])
    const result = record.results['1:carol']
    record = { ...record, results: { '1:carol': { ...result, reason: 'invalid-input', error: 'bad input' } } }
    const doc = explainTask({ record, placementNow: () => aliceNow, selfId: 'alice', nameOf, now: 50 })
    const told = doc.lines.filter(l => l.includes('attempt 1') && l.includes('failed'))
    expect(told).toEqual(['ran on carol (carol): attempt 1, failed: bad input (not held against it: the agent refused the input)'])
  })

  it('a pending task shows the placement, its choice and why it waits; an unknown name shows the bare id', () => {
    const doc = explainTask({ record: task(), placementNow: () => ({ ...aliceNow, chosen: [], waiting: 'all busy' }), selfId: 'x', nameOf: () => undefined })
    expect(doc.lines).toContain('submitted by sub')
    expect(doc.lines).toContain('waiting: all busy')
    expect(doc.ranOn).toEqual([])
  })
})

/**
 * The share rule of placement: placements as a pass makes them (each one counted in the
 * next candidate's `inflight` and `recent`), in proportion to free slots and quality, and
 * this daemon no better than an equal peer, even when its tasks end before a peer's do.
 */
import { describe, expect, it } from 'vitest'
import { ExecutorLoad } from '../../../src/tasks/executor-load.js'
import { place, type Candidate, type PlacementRequest } from '../../../src/tasks/placement.js'
import { rng } from '../../helpers/rng.js'

const req: PlacementRequest = { agent: 'echo' }

/** a member as the coordinator sees it; `others` are the slots other coordinators' work holds */
function member (peerId: string, over: Partial<Candidate> & { others?: number } = {}): Candidate {
  const { others = 0, ...rest } = over
  return {
    peerId,
    self: false,
    state: 'alive',
    agents: ['echo'],
    labels: {},
    cores: 8,
    load1: 1,
    memFreeMb: 8192,
    slots: 50,
    running: others,
    queued: 0,
    inflight: 0,
    reputation: { score: 0.5, status: 'unproven' },
    rttMs: 2,
    ...rest
  }
}

/** `n` placements in one pass: each counted in the next one's view, as the executor load counts it */
function pass (members: Candidate[], n: number, seed: number): Record<string, number> {
  const random = rng(seed)
  const placed: Record<string, number> = Object.fromEntries(members.map(m => [m.peerId, 0]))
  for (let i = 0; i < n; i++) {
    const view = members.map(m => ({ ...m, running: m.running + placed[m.peerId], inflight: placed[m.peerId], recent: placed[m.peerId] }))
    const [peer] = place(req, view, { random }).chosen
    if (peer === undefined) break
    placed[peer]++
  }
  return placed
}

function within (placed: Record<string, number>, expected: Record<string, number>, what: string): void {
  for (const [peer, want] of Object.entries(expected)) {
    const got = placed[peer]
    expect(got, `${what}: ${peer} got ${got}, expected ${want} ± 15 % (${JSON.stringify(placed)})`).toBeGreaterThanOrEqual(Math.floor(want * 0.85))
    expect(got, `${what}: ${peer} got ${got}, expected ${want} ± 15 % (${JSON.stringify(placed)})`).toBeLessThanOrEqual(Math.ceil(want * 1.15))
  }
}

describe('placement: the share rule', () => {
  it('spreads a pass over members with equal free slots within ±15 % of equal', () => {
    for (const seed of [1, 2, 3, 4]) {
      const placed = pass([member('a'), member('b'), member('c')], 120, seed)
      within(placed, { a: 40, b: 40, c: 40 }, `seed ${seed}`)
    }
  })

  it('splits 2:1 over 50 and 25 free slots, and gives a full member nothing', () => {
    for (const seed of [1, 2, 3]) {
      const placed = pass([member('a'), member('b', { others: 25 }), member('c', { others: 50 })], 60, seed)
      within(placed, { a: 40, b: 20 }, `seed ${seed}`)
      expect(placed.c).toBe(0)
    }
  })

  it('gives a suspect member half the share of an equal alive one, and a low reputation less', () => {
    const suspect = pass([member('a'), member('b', { state: 'suspect' })], 60, 5)
    within(suspect, { a: 40, b: 20 }, 'suspect')
    const low = place(req, [member('a'), member('b', { reputation: { score: 0.35, status: 'unproven' } })], { random: rng(1) })
    const share = Object.fromEntries(low.ranked.map(s => [s.peerId, s.share]))
    expect(share.b).toBeLessThan(share.a * 0.9)
    const probation = place(req, [member('a'), member('b', { reputation: { score: 0.9, status: 'probation' } })], { random: rng(1) })
    expect(probation.ranked.find(s => s.peerId === 'b')?.share).toBeLessThan(0.45)
  })

  it('this daemon (trusted, no network hop) is due no more than an equal stranger', () => {
    const self = member('me', { self: true, rttMs: 0, reputation: { score: 1, status: 'trusted' } })
    const p = place(req, [self, member('a'), member('b', { rttMs: null })])
    for (const s of p.ranked) expect(s.share).toBeCloseTo(1 / 3)
    within(pass([self, member('a'), member('b')], 150, 9), { me: 50, a: 50, b: 50 }, 'with this daemon')
  })

  it('holds back a member more than a quarter of its slots ahead of its share, and says so; a member busy with others\' work is owed nothing', () => {
    const p = place(req, [
      member('me', { self: true, slots: 10, recent: 40 }),
      member('a', { slots: 10, running: 10, inflight: 10, recent: 15 })
    ])
    expect(p.chosen).toEqual([])
    expect(p.held.map(s => s.peerId)).toEqual(['me'])
    expect(p.held[0].note).toMatch(/^ahead of its share \(50 %\): 40 placed here lately against 28 due/)
    expect(p.waiting).toBe('the one machine that serves "echo" is busy (10/10 slots); 1 ahead of its share of the recent work, waiting for the others to catch up')
    // the same lead over a member full of other coordinators' tasks: nothing to wait for
    const q = place(req, [member('me', { self: true, slots: 10, recent: 40 }), member('a', { slots: 10, others: 10, recent: 15 })])
    expect(q.chosen).toEqual(['me'])
    expect(q.held).toEqual([])
  })

  it('a member held back takes the task when the caller says it has waited long enough (ignoreHold): no free slot stays idle', () => {
    const members = [member('me', { self: true, slots: 10, recent: 40 }), member('a', { slots: 10, running: 10, inflight: 10, recent: 15 })]
    expect(place(req, members).chosen).toEqual([])
    const p = place(req, members, { ignoreHold: true })
    expect(p.chosen).toEqual(['me'])
    expect(p.held).toEqual([])
    expect(p.waiting).toBeUndefined()
  })

  it('with tasks that end here at once and on peers a few passes later, each member still runs a third (±15 %)', () => {
    for (const seed of [1, 2]) {
      const random = rng(seed)
      let now = 0
      const members = [member('me', { self: true, rttMs: 0, reputation: { score: 1, status: 'trusted' } }), member('a'), member('b')]
      const holding: Array<{ peer: string, until: number }> = []
      const load = new ExecutorLoad({
        candidates: () => members.map(m => m.self ? m : { ...m, running: holding.filter(h => h.peer === m.peerId).length }),
        capacityStamp: () => 1,
        now: () => now
      })
      const placed: Record<string, number> = { me: 0, a: 0, b: 0 }
      for (let round = 0; round < 400; round++, now += 10) {
        // a peer's answer that its task ended comes 8 passes (80 ms) after the offer
        for (const h of holding.splice(0).filter(h => { if (h.until > round) return true; load.count(h.peer, 'echo', -1); return false })) holding.push(h)
        // a pass ends when nothing can be placed (or, if this daemon were never held back, after 300)
        for (let k = 0; k < 300; k++) {
          const [peer] = place(req, load.candidates('echo'), { random }).chosen
          if (peer === undefined) break
          load.count(peer, 'echo', +1)
          placed[peer]++
          // this daemon's noop ends before the next pass
          if (peer === 'me') load.count(peer, 'echo', -1)
          else holding.push({ peer, until: round + 8 })
        }
      }
      const total = placed.me + placed.a + placed.b
      within(placed, { me: total / 3, a: total / 3, b: total / 3 }, `seed ${seed}`)
    }
  })
})

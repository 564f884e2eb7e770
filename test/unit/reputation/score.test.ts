import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  applyBehaviour, applyOutcome, history, newReputation, reputationFromJSON, score, status, weight,
  type Outcome, type ReputationState
} from '../../../src/reputation/index.js'
import { DEFAULT_COOL_OFF_MS, DEFAULT_HALF_LIFE_MS } from '../../../src/reputation/constants.js'

const MIN = 60_000
const DAY = 24 * 60 * MIN

function many (state: ReputationState, outcome: Outcome, n: number, now: number): ReputationState {
  for (let i = 0; i < n; i++) state = applyOutcome(state, outcome, now)
  return state
}

describe('reputation score', () => {
  it('starts unproven at the 0.5 prior', () => {
    const s = newReputation(0)
    expect(score(s, 0)).toBe(0.5)
    expect(status(s, 0)).toBe('unproven')
    expect(weight(s, 0)).toBe(1)
  })

  it('decays toward the prior with time, from either side', () => {
    const good = many(newReputation(0), 'success', 8, 0)
    const bad = many(newReputation(0), 'timeout', 4, 0)
    expect(score(good, 0)).toBeCloseTo(10 / 12)
    expect(score(good, DEFAULT_HALF_LIFE_MS)).toBeCloseTo(6 / 8)
    expect(score(bad, 0)).toBeCloseTo(2 / 6)
    let previous = score(good, 0)
    for (const t of [1, 2, 5, 10, 30].map(d => d * DAY)) {
      const now = score(good, t)
      expect(now).toBeLessThan(previous)
      expect(now).toBeGreaterThan(0.5)
      previous = now
    }
    expect(score(good, 120 * DAY)).toBeCloseTo(0.5, 6)
    expect(score(bad, 120 * DAY)).toBeCloseTo(0.5, 6)
  })

  it('is in [0, 1], rises with successes and falls with failures (property)', () => {
    const outcome = fc.constantFrom<Outcome>('success', 'failure', 'timeout', 'outvoted')
    fc.assert(fc.property(
      fc.array(fc.tuple(outcome, fc.integer({ min: 0, max: 10 * DAY })), { maxLength: 40 }),
      fc.integer({ min: 0, max: 10 * DAY }),
      (events, later) => {
        let s = newReputation(0)
        let t = 0
        for (const [o, dt] of events) {
          t += dt
          s = applyOutcome(s, o, t)
          const v = score(s, t)
          expect(v).toBeGreaterThanOrEqual(0)
          expect(v).toBeLessThanOrEqual(1)
        }
        const now = t + later
        expect(score(applyOutcome(s, 'success', now), now)).toBeGreaterThan(score(s, now))
        for (const o of ['failure', 'timeout', 'outvoted'] as const) {
          expect(score(applyOutcome(s, o, now), now)).toBeLessThan(score(s, now))
        }
      }
    ))
  })

  it('weighs an outvoted result above a failure, and a failure above a timeout', () => {
    const at = (o: Outcome): number => score(applyOutcome(newReputation(0), o, 0), 0)
    expect(at('outvoted')).toBeLessThan(at('failure'))
    expect(at('failure')).toBeLessThan(at('timeout'))
  })
})

describe('reputation status', () => {
  it('becomes trusted after 10 consecutive successes, and any failure resets the run', () => {
    let s = many(newReputation(0), 'success', 9, 0)
    expect(status(s, 0)).toBe('unproven')
    s = applyOutcome(s, 'success', 0)
    expect(status(s, 0)).toBe('trusted')
    s = applyOutcome(s, 'timeout', 1)
    expect(status(s, 1)).toBe('unproven')
    s = many(s, 'success', 10, 2)
    expect(status(s, 2)).toBe('trusted')
    s = applyBehaviour(s, 'invalid-message', 3)
    expect(status(s, 3)).toBe('unproven')
  })

  it('goes quarantined → cool-off → probation → recovered, and a relapse doubles the cool-off', () => {
    let s = many(newReputation(0), 'failure', 2, 0)
    expect(status(s, 0)).toBe('unproven')
    s = applyOutcome(s, 'failure', 0)
    expect(score(s, 0)).toBeLessThan(0.3)
    expect(status(s, 0)).toBe('quarantined')
    expect(weight(s, 0)).toBe(0)
    expect(status(s, DEFAULT_COOL_OFF_MS - 1)).toBe('quarantined')
    // a late success while quarantined does not count toward probation
    s = applyOutcome(s, 'success', 5 * MIN)
    let t = DEFAULT_COOL_OFF_MS
    expect(status(s, t)).toBe('probation')
    expect(weight(s, t)).toBe(0.5)
    // a relapse on probation: back to quarantine, for twice as long
    s = applyOutcome(s, 'timeout', t)
    expect(status(s, t + 2 * DEFAULT_COOL_OFF_MS - 1)).toBe('quarantined')
    t += 2 * DEFAULT_COOL_OFF_MS
    expect(status(s, t)).toBe('probation')
    s = many(s, 'success', 2, t)
    expect(status(s, t)).toBe('probation')
    s = applyOutcome(s, 'success', t)
    expect(status(s, t)).toBe('unproven')
    expect(weight(s, t)).toBe(1)
    expect(s.strikes).toBe(0)
    s = many(s, 'success', 7, t)
    expect(status(s, t)).toBe('trusted')
    expect(history(s).map(e => e.status)).toContain('quarantined')
  })

  it('caps the cool-off at 24 hours however often a peer relapses', () => {
    let s = applyBehaviour(newReputation(0), 'protocol-violation', 0)
    let t = 0
    for (let i = 0; i < 12; i++) {
      t = s.quarantinedUntil ?? t
      s = applyBehaviour(s, 'flood', t)
    }
    expect((s.quarantinedUntil ?? 0) - t).toBe(DAY)
  })

  it('bans permanently on a proven forgery', () => {
    let s = many(newReputation(0), 'success', 20, 0)
    s = applyBehaviour(s, 'forgery', 1)
    expect(status(s, 1)).toBe('banned')
    expect(score(s, 1)).toBe(0)
    s = many(s, 'success', 50, 2)
    for (const t of [2, DAY, 365 * DAY]) {
      expect(status(s, t)).toBe('banned')
      expect(weight(s, t)).toBe(0)
    }
  })
})

describe('reputation history and storage', () => {
  it('keeps the last 50 events, newest last', () => {
    let s = newReputation(0)
    for (let i = 0; i < 120; i++) s = applyOutcome(s, i % 7 === 0 ? 'timeout' : 'success', i * 1000)
    const h = history(s)
    expect(h).toHaveLength(50)
    expect(h[49].at).toBe(119_000)
    expect(h[0].at).toBe(70_000)
    h.pop()
    expect(history(s)).toHaveLength(50)
  })

  it('round-trips through JSON and refuses a damaged state, naming the key', () => {
    const s = applyBehaviour(applyOutcome(newReputation(5), 'success', 10), 'flood', 20)
    expect(reputationFromJSON(JSON.parse(JSON.stringify(s)))).toEqual(s)
    expect(() => reputationFromJSON({ ...s, good: -1 })).toThrow(/'good'/)
    expect(() => reputationFromJSON({ ...s, version: 2 })).toThrow(/'version'/)
    expect(() => reputationFromJSON({ ...s, history: [{ at: 1, event: 'nope', score: 1, status: 'x' }] })).toThrow(/'history'/)
    expect(() => reputationFromJSON(null)).toThrow(/InvalidArgument|root/)
  })

  it('refuses an unknown event', () => {
    expect(() => applyOutcome(newReputation(0), 'great' as Outcome, 0)).toThrow(/unknown outcome/)
  })
})

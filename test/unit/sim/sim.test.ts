/**
 * The simulator end to end at 200 peers (each run well under a second): determinism,
 * convergence, detection, false positives, partition heal, and Lifeguard's local health.
 */
import { describe, expect, it } from 'vitest'
import { simulate } from '../../../src/sim/run.js'
import { defaultScenario, type Scenario } from '../../../src/sim/scenario.js'

function scenario (change: (sc: Scenario) => void = () => {}): Scenario {
  const sc = defaultScenario(200, 1)
  sc.load.machines = 20
  sc.load.durationMs = 60_000
  change(sc)
  return sc
}

describe('sim', () => {
  it('gives the same report for the same seed, and another for another seed', () => {
    const a = JSON.stringify(simulate(scenario()))
    const b = JSON.stringify(simulate(scenario()))
    const c = JSON.stringify(simulate(scenario(sc => { sc.seed = 2 })))
    expect(b).toBe(a)
    expect(c).not.toBe(a)
  })

  it('converges a join wave, finds every silent kill everywhere, with no false dead at 1 % loss', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulate(scenario(sc => {
        sc.seed = seed
        sc.joiners = 20
        sc.slowFraction = 0
        sc.partitionFraction = 0
      }))
      expect(r.scenario.loss).toBe(0.01)
      expect(r.membership.joinMs.count).toBe(20)
      expect(r.membership.convergedMs).not.toBeNull()
      expect(r.detection.kills).toBe(3)
      expect(r.detection.everywhereMs.every(ms => ms !== null)).toBe(true)
      expect(r.detection.perNodeMs.count).toBe(3 * (200 - 3))
      expect(r.falsePositives.dead).toBe(0)
    }
  })

  it('starts a team from one seed: every member joins through it and all converge', () => {
    const r = simulate(scenario(sc => {
      sc.joiners = 199
      sc.kills = 0
      sc.partitionFraction = 0
    }))
    expect(r.membership.joinMs.count).toBe(199)
    expect(r.membership.convergedMs).not.toBeNull()
  })

  it('brings every member to one LWW state (one digest) and one membership after a partition heals', () => {
    const r = simulate(scenario(sc => { sc.partitionFraction = 0.1 }))
    expect(r.partition.minority).toBe(20)
    expect(r.partition.deadAcrossPartition).toBeGreaterThan(0)
    expect(r.partition.membershipMs).not.toBeNull()
    expect(r.partition.stateMs).not.toBeNull()
    expect(r.partition.digests).toBe(1)
    expect(r.partition.keys).toBeGreaterThan(10)
  })

  it('declares no stalling member dead, in steady state or after a partition heals (buddy system, refutations first)', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulate(scenario(sc => {
        sc.seed = seed
        sc.slowFraction = 0.1
        sc.partitionFraction = 0.1
      }))
      expect(r.falsePositives.ofSlowNodes).toBeGreaterThan(0)
      expect(r.falsePositives.dead).toBe(0)
    }
  })

  it('keeps a node whose timers fire late from declaring live members dead, by its local health', () => {
    const stalls = (sc: Scenario): void => {
      sc.slowFraction = 0.1
      sc.stallMinMs = 1500
      sc.stallMaxMs = 3000
      sc.stallGapMs = 4000
      sc.partitionFraction = 0
      // enough loss that healthy members are suspected (and refute) now and then, so slow
      // nodes hold suspicions of healthy members while they stall
      sc.net.loss = 0.1
    }
    const on = simulate(scenario(stalls))
    const off = simulate(scenario(sc => {
      stalls(sc)
      sc.swim.localHealth = false
    }))
    expect(on.falsePositives.deadBySlowNodes).toBe(0)
    // the control: the same stalls without local health do make slow nodes accuse
    expect(off.falsePositives.deadBySlowNodes).toBeGreaterThan(0)
  })

  it('spreads placed work evenly at 80 % utilisation by the share rule', () => {
    const r = simulate(scenario(sc => {
      sc.kills = 0
      sc.partitionFraction = 0
      sc.load.machines = 50
    }))
    expect(r.load.utilisation).toBeGreaterThan(0.7)
    expect(r.load.imbalance).toBeLessThanOrEqual(1.25)
  })
})

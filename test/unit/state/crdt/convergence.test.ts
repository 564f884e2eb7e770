import { describe, expect, it } from 'vitest'
import {
  compareHlcTime, lwwEntries, lwwMerge, rwMerge, rwValues, stateHash, vvCompare
} from '../../../../src/state/crdt/index.js'
import { ELEMENTS, KEYS, applyCanonically, mulberry32, simulate, type Op, type State } from './simulation.js'

const fullHash = (s: State): string => stateHash(s.map, s.set)
const viewHash = (s: State): string => stateHash(lwwEntries(s.map), rwValues(s.set))

describe('mulberry32', () => {
  it('is deterministic per seed and spreads over [0, 1)', () => {
    const a = mulberry32(42)
    const b = mulberry32(42)
    const xs = Array.from({ length: 1_000 }, () => a())
    expect(xs).toStrictEqual(Array.from({ length: 1_000 }, () => b()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1)
    expect(mulberry32(43)()).not.toBe(mulberry32(42)())
  })
})

describe('convergence under reordering, duplication, drops and a partition', () => {
  it('5 replicas, 10,000 ops: identical state hashes, equal to one replica applying every op in hlc order', () => {
    let divergedMidPartition = false
    let stateVsOpBased: [string, string] | undefined
    const { replicas, ops, stats } = simulate({
      seed: 0x5eed_c0de,
      replicas: 5,
      ops: 10_000,
      partition: [3_000, 6_000],
      dropRate: 0.1,
      duplicateRate: 0.05,
      onMidPartition: rs => {
        divergedMidPartition = fullHash(rs[0].state) !== fullHash(rs[4].state)
        // state-based merge of two replicas = op-based application of the union of their ops
        const union = new Set<Op>()
        for (const r of [rs[0], rs[4]]) for (const byAuthor of r.log.values()) for (const op of byAuthor.values()) union.add(op)
        const merged: State = { map: lwwMerge(rs[0].state.map, rs[4].state.map), set: rwMerge(rs[0].state.set, rs[4].state.set) }
        stateVsOpBased = [fullHash(merged), fullHash(applyCanonically(union))]
      }
    })

    // the run exercised what it claims to
    expect(stats.generated).toBe(10_000)
    expect(ops).toHaveLength(10_000)
    expect(stats.dropped).toBeGreaterThan(100)
    expect(stats.partitionDropped).toBeGreaterThan(100)
    expect(stats.duplicated).toBeGreaterThan(100)
    expect(stats.antiEntropyOps).toBeGreaterThan(stats.dropped)
    expect(divergedMidPartition).toBe(true)
    expect(stateVsOpBased?.[0]).toBe(stateVsOpBased?.[1])
    const sameTime = ops.filter((op, i) => ops.some((o, j) => j > i && j < i + 50 && o.author !== op.author &&
      compareHlcTime(o.hlc, op.hlc) === 0)).length
    expect(sameTime).toBeGreaterThan(0) // concurrent ops with equal (wall, logical) from different authors

    // every replica holds every op...
    const full: Record<string, number> = {}
    for (const op of ops) full[op.author] = Math.max(full[op.author] ?? 0, op.seq)
    for (const r of replicas) expect(vvCompare(r.vv, full), r.id).toBe('equal')

    // ...and the identical state, tombstones and tags included
    const reference = applyCanonically(ops)
    const expected = fullHash(reference)
    for (const r of replicas) {
      expect(fullHash(r.state), r.id).toBe(expected)
      expect(viewHash(r.state), r.id).toBe(viewHash(reference))
    }

    // and the outcome is not degenerate: some keys/elements live, some deleted/removed
    const live = lwwEntries(reference.map).length
    const present = rwValues(reference.set).length
    expect(live).toBeGreaterThan(0)
    expect(live).toBeLessThan(KEYS.length)
    expect(present).toBeGreaterThan(0)
    expect(present).toBeLessThan(ELEMENTS.length)
  })

  it.each([1, 2, 3])('converges for seed %i too (2,000 ops, heavy loss)', seed => {
    const { replicas, ops } = simulate({
      seed, replicas: 5, ops: 2_000, partition: [500, 1_500], dropRate: 0.4, duplicateRate: 0.2
    })
    const expected = fullHash(applyCanonically(ops))
    for (const r of replicas) expect(fullHash(r.state), r.id).toBe(expected)
  })
})

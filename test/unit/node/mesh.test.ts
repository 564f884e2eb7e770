import { describe, expect, it } from 'vitest'
import { FULL_TEAM_MAX, meshFor, overlayNeighbours } from '../../../src/node/mesh.js'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `peer-${i}`)

/** every member's neighbours, computed as each daemon would: from the same roster */
function graph (members: string[]): Map<string, Set<string>> {
  return new Map(members.map(m => [m, new Set(overlayNeighbours(m, members))]))
}

/** hops from `from` to the farthest member (breadth first); Infinity if one is unreachable */
function eccentricity (g: Map<string, Set<string>>, from: string): number {
  const dist = new Map([[from, 0]])
  const queue = [from]
  while (queue.length > 0) {
    const at = queue.shift() as string
    for (const next of g.get(at) ?? []) {
      if (!dist.has(next)) { dist.set(next, (dist.get(at) ?? 0) + 1); queue.push(next) }
    }
  }
  return dist.size < g.size ? Infinity : Math.max(...dist.values())
}

describe('meshFor: gossip fan-out by team size', () => {
  it('keeps gossipsub\'s defaults and flood publish up to FULL_TEAM_MAX members', () => {
    for (const n of [1, 2, 5, FULL_TEAM_MAX]) {
      expect(meshFor(n)).toEqual({ D: 6, Dlo: 4, Dhi: 12, Dout: 2, Dlazy: 6, floodPublish: true })
    }
  })

  it('above it keeps flood publish (the connections bound it) with a lower mesh ceiling, within gossipsub\'s constraints', () => {
    for (const n of [FULL_TEAM_MAX + 1, 50, 10_000]) {
      const m = meshFor(n)
      expect(m.floodPublish).toBe(true)
      expect(m.Dhi).toBeLessThan(12)
      // gossipsub requires Dout < Dlo <= D <= Dhi and Dout <= D / 2
      expect(m.Dout).toBeLessThan(m.Dlo)
      expect(m.Dlo).toBeLessThanOrEqual(m.D)
      expect(m.D).toBeLessThanOrEqual(m.Dhi)
      expect(m.Dout).toBeLessThanOrEqual(m.D / 2)
    }
  })

  it('hands out a copy (a caller may adjust its own)', () => {
    const a = meshFor(5)
    a.D = 1
    expect(meshFor(5).D).toBe(6)
  })
})

describe('overlayNeighbours: which members a daemon stays connected to', () => {
  it('is everyone else up to FULL_TEAM_MAX members, whether or not self is listed', () => {
    const m = ids(FULL_TEAM_MAX)
    expect(overlayNeighbours('peer-3', m)).toEqual(m.filter(x => x !== 'peer-3').sort())
    expect(overlayNeighbours('peer-3', m.filter(x => x !== 'peer-3'))).toHaveLength(FULL_TEAM_MAX - 1)
  })

  it('is bounded above it: at most 12 of 49 at 50 members, at most 28 of 9,999 at 10,000', () => {
    const at50 = graph(ids(50))
    expect(Math.max(...[...at50.values()].map(s => s.size))).toBeLessThanOrEqual(12)
    expect(Math.min(...[...at50.values()].map(s => s.size))).toBeGreaterThanOrEqual(6)
    expect(overlayNeighbours('peer-7', ids(10_000)).length).toBeLessThanOrEqual(28)
  })

  it('is symmetric (a picks b exactly when b picks a) and never picks self', () => {
    for (const n of [21, 37, 50, 200]) {
      const g = graph(ids(n))
      for (const [a, ns] of g) {
        expect(ns.has(a)).toBe(false)
        for (const b of ns) expect(g.get(b)?.has(a)).toBe(true)
      }
    }
  })

  it('connects the whole team within a few hops', () => {
    const g50 = graph(ids(50))
    expect(eccentricity(g50, 'peer-0')).toBeLessThanOrEqual(4)
    const g500 = graph(ids(500))
    expect(eccentricity(g500, 'peer-0')).toBeLessThanOrEqual(6)
  })

  it('does not depend on the order the roster lists members in', () => {
    const m = ids(60)
    expect(overlayNeighbours('peer-5', [...m].reverse())).toEqual(overlayNeighbours('peer-5', m))
  })
})

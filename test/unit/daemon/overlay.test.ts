import { describe, expect, it, vi } from 'vitest'
import { OVERLAY_RECHECK_MS, Overlay, PRUNE_EVERY_MS } from '../../../src/daemon/overlay.js'
import { FULL_TEAM_MAX, overlayNeighbours } from '../../../src/node/mesh.js'

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `peer-${String(i).padStart(3, '0')}`)

describe('Overlay: the peers a session keeps connected', () => {
  it('wants every peer, members or not, while the team is small', () => {
    const o = new Overlay({ selfId: () => 'peer-000', members: () => ids(FULL_TEAM_MAX), onChange: () => {} })
    for (const p of ids(FULL_TEAM_MAX)) expect(o.wants(p)).toBe(true)
    expect(o.wants('stranger')).toBe(true)
  })

  it('wants only its overlay neighbours in a team of 50, and no stranger', () => {
    const members = ids(50)
    const o = new Overlay({ selfId: () => members[0], members: () => members, onChange: () => {} })
    const near = new Set(overlayNeighbours(members[0], members))
    const wanted = members.filter(p => o.wants(p))
    expect(new Set(wanted)).toEqual(near)
    expect(wanted.length).toBeLessThanOrEqual(12)
    expect(o.wants('stranger')).toBe(false)
  })

  it('tells the redialer when a member joining moves new neighbours in, and looks again only when due or told', () => {
    let members = ids(30)
    let now = 0
    let changes = 0
    const o = new Overlay({ selfId: () => members[0], members: () => members, onChange: () => { changes++ }, clock: () => now })
    o.wants(members[1])
    const first = changes
    members = ids(60)
    o.wants(members[1])
    expect(changes).toBe(first) // not due yet
    o.changed()
    o.wants(members[1])
    const moved = new Set(overlayNeighbours(members[0], members))
    expect(new Set(o.current())).toEqual(moved)
    expect(changes).toBe(first + 1)
    now += OVERLAY_RECHECK_MS
    o.wants(members[1])
    expect(changes).toBe(first + 1) // the same set: no news
  })
})

describe('Overlay: pruning in a large team', () => {
  it('asks to prune with the current neighbours at each recompute in a large team, never in a small one', () => {
    const pruned: string[][] = []
    let now = 0
    const big = ids(40)
    const o = new Overlay({ selfId: () => big[0], members: () => big, onChange: () => {}, prune: n => { pruned.push(n) }, clock: () => now })
    o.wants(big[1])
    o.wants(big[2])
    expect(pruned).toHaveLength(1)
    expect(pruned[0]).toEqual(overlayNeighbours(big[0], big))
    now += OVERLAY_RECHECK_MS
    o.wants(big[1])
    expect(pruned).toHaveLength(2)

    const small: string[][] = []
    const s = new Overlay({ selfId: () => 'peer-000', members: () => ids(10), onChange: () => {}, prune: n => { small.push(n) } })
    s.wants('peer-001')
    expect(small).toHaveLength(0)
  })
})

describe('Overlay: started, it prunes on its own', () => {
  it('looks for connections to prune every PRUNE_EVERY_MS with nobody asking, until stopped', async () => {
    vi.useFakeTimers()
    try {
      const big = ids(40)
      let pruned = 0
      const o = new Overlay({ selfId: () => big[0], members: () => big, onChange: () => {}, prune: () => { pruned++ } })
      o.start()
      await vi.advanceTimersByTimeAsync(PRUNE_EVERY_MS * 3)
      expect(pruned).toBe(3)
      o.stop()
      await vi.advanceTimersByTimeAsync(PRUNE_EVERY_MS * 3)
      expect(pruned).toBe(3)
    } finally {
      vi.useRealTimers()
    }
  })
})

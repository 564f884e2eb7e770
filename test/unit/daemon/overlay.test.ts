import { describe, expect, it } from 'vitest'
import { OVERLAY_RECHECK_MS, Overlay } from '../../../src/daemon/overlay.js'
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

import { describe, expect, it } from 'vitest'
import { GossipWatch, type GossipLack } from '../../../src/node/gossip-watch.js'

function rig (graceMs = 1_000, maxBackoffMs = 8_000): { watch: GossipWatch, members: Set<string>, lacks: Map<string, GossipLack>, reopened: Array<[string, GossipLack, number, number]> } {
  const members = new Set<string>()
  const lacks = new Map<string, GossipLack>()
  const reopened: Array<[string, GossipLack, number, number]> = []
  const watch = new GossipWatch({
    members: () => members,
    lack: peer => lacks.get(peer) ?? 'ok',
    reopen: (peer, lack, tries, lackingMs) => { reopened.push([peer, lack, tries, lackingMs]) },
    graceMs,
    maxBackoffMs
  })
  return { watch, members, lacks, reopened }
}

describe('the gossip watch', () => {
  it('leaves a member with a stream and a subscription alone', () => {
    const { watch, members, reopened } = rig()
    members.add('a')
    for (let t = 0; t <= 60_000; t += 500) watch.check(t)
    expect(reopened).toEqual([])
    expect(watch.lacking).toBe(0)
  })

  it('reopens a member lacking its stream only after the grace period', () => {
    const { watch, members, lacks, reopened } = rig(1_000)
    members.add('a')
    lacks.set('a', 'no-stream')
    watch.check(0)
    watch.check(999)
    expect(reopened).toEqual([])
    expect(watch.lacking).toBe(1)
    watch.check(1_000)
    expect(reopened).toEqual([['a', 'no-stream', 1, 1_000]])
  })

  it('a link that comes back within the grace period is never reopened', () => {
    const { watch, members, lacks, reopened } = rig(1_000)
    members.add('a')
    lacks.set('a', 'no-subscription')
    watch.check(0)
    lacks.set('a', 'ok')
    watch.check(500)
    lacks.set('a', 'no-subscription')
    watch.check(1_200)
    expect(reopened).toEqual([])
    watch.check(2_200)
    expect(reopened).toEqual([['a', 'no-subscription', 1, 1_000]])
  })

  it('backs off between reopens of a member that stays without a link, up to a ceiling', () => {
    const { watch, members, lacks, reopened } = rig(1_000, 8_000)
    members.add('a')
    lacks.set('a', 'no-stream')
    for (let t = 0; t <= 40_000; t += 100) watch.check(t)
    // first at the grace period, then 2, 4, 8, 8, … s apart
    expect(reopened.map(r => r[3])).toEqual([1_000, 3_000, 7_000, 15_000, 23_000, 31_000, 39_000])
    expect(reopened.map(r => r[2])).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(watch.counts.reopened).toBe(7)
  })

  it('counts a link that came back after a reopen, and starts afresh when it is lost again', () => {
    const { watch, members, lacks, reopened } = rig(1_000)
    members.add('a')
    lacks.set('a', 'no-stream')
    watch.check(0)
    watch.check(1_000)
    lacks.set('a', 'ok')
    watch.check(2_000)
    expect(watch.counts.healed).toBe(1)
    lacks.set('a', 'no-stream')
    watch.check(3_000)
    watch.check(4_000)
    expect(reopened.map(r => r[2])).toEqual([1, 1])
  })

  it('forgets a member that disconnected: back, it gets a fresh grace period', () => {
    const { watch, members, lacks, reopened } = rig(1_000)
    members.add('a')
    lacks.set('a', 'no-stream')
    watch.check(0)
    members.delete('a')
    watch.check(500)
    expect(watch.lacking).toBe(0)
    members.add('a')
    watch.check(1_000)
    watch.check(1_999)
    expect(reopened).toEqual([])
    watch.check(2_000)
    expect(reopened).toEqual([['a', 'no-stream', 1, 1_000]])
  })

  it('judges each member on its own', () => {
    const { watch, members, lacks, reopened } = rig(1_000)
    for (const m of ['a', 'b', 'c']) members.add(m)
    lacks.set('b', 'no-stream')
    watch.check(0)
    watch.check(1_000)
    expect(reopened.map(r => r[0])).toEqual(['b'])
  })
})

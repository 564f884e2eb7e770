/**
 * One SwimNode driven by hand through a recording shell: the buddy system, the urgent lane
 * for refutations, and a push-pull's stale suspicions going to the member only.
 */
import { describe, expect, it } from 'vitest'
import { RANK_ALIVE, RANK_DEAD, RANK_SUSPECT, keyOf, rankOf, type Update } from '../../../src/sim/membership.js'
import type { Message, NodeIo } from '../../../src/sim/messages.js'
import { Rng } from '../../../src/sim/rng.js'
import { DEFAULT_SWIM, SwimNode } from '../../../src/sim/swim-node.js'

interface Sent { to: number, msg: Message }

function node (id: number, universe: number): { n: SwimNode, sent: Sent[] } {
  const sent: Sent[] = []
  const io: NodeIo = {
    send: (to, msg) => { sent.push({ to, msg }) },
    timer: () => {},
    viewChanged: () => {},
    accused: () => {},
    declared: () => {},
    refuted: () => {}
  }
  const base = new Int32Array(universe).fill(keyOf(0, RANK_ALIVE))
  return { n: new SwimNode(id, universe, base, universe, { ...DEFAULT_SWIM }, io, new Rng(id + 1)), sent }
}

const updatesOf = (msg: Message): Update[] => 'updates' in msg ? msg.updates : []

describe('sim SWIM node', () => {
  it('pings a member it holds suspect with the suspicion (buddy system)', () => {
    const { n, sent } = node(0, 2)
    n.handle(1, { kind: 'gossip', updates: [{ member: 1, key: keyOf(0, RANK_SUSPECT), from: 7, urgent: false }], kv: [] }, 0)
    sent.length = 0
    n.fire('probe', 0, 10, 10)
    const ping = sent.find(s => s.msg.kind === 'ping')
    expect(ping?.to).toBe(1)
    expect(updatesOf(ping?.msg as Message)[0]).toMatchObject({ member: 1, key: keyOf(0, RANK_SUSPECT) })
  })

  it('sends its refutation of a timed suspicion ahead of newer news', () => {
    const { n, sent } = node(0, 40)
    n.handle(3, { kind: 'ping', seq: 1, updates: [{ member: 0, key: keyOf(0, RANK_SUSPECT), from: 3, urgent: false }] }, 1)
    const refutation = { member: 0, key: keyOf(1, RANK_ALIVE), from: 0, urgent: true }
    expect(updatesOf(sent[0].msg)[0]).toEqual(refutation)
    // news that arrives later, and has been sent less often, still waits behind it
    const news = Array.from({ length: 20 }, (_, i) => ({ member: i + 10, key: keyOf(1, RANK_ALIVE), from: -1, urgent: false }))
    n.handle(5, { kind: 'gossip', updates: news, kv: [] }, 2)
    n.handle(4, { kind: 'ping', seq: 2, updates: [] }, 3)
    expect(updatesOf(sent[sent.length - 1].msg)[0]).toEqual(refutation)
  })

  it('passes a death learned in a push-pull to the member only, as a suspicion, and never gossips it', () => {
    const { n, sent } = node(0, 5)
    n.handle(1, { kind: 'sync', reply: true, entries: [[2, keyOf(0, RANK_DEAD)]], kv: [] }, 0)
    expect(rankOf(n.view.get(2))).toBe(RANK_SUSPECT)
    expect(sent).toEqual([{ to: 2, msg: { kind: 'gossip', updates: [{ member: 2, key: keyOf(0, RANK_SUSPECT), from: -1, urgent: false }], kv: [] } }])
    sent.length = 0
    n.fire('gossip', 0, 200, 200)
    n.handle(3, { kind: 'ping', seq: 1, updates: [] }, 201)
    expect(sent.flatMap(s => updatesOf(s.msg)).filter(u => u.member === 2)).toEqual([])
  })
})

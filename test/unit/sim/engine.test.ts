import { describe, expect, it } from 'vitest'
import { BroadcastQueue, ProbeOrder, RANK_ALIVE, RANK_DEAD, RANK_SUSPECT, View, keyOf, rankOf, retransmitLimit } from '../../../src/sim/membership.js'
import { EventQueue } from '../../../src/sim/queue.js'
import { Rng } from '../../../src/sim/rng.js'

describe('sim event queue', () => {
  it('pops by time, then class, then insertion order', () => {
    const q = new EventQueue<string>()
    q.push(5, 'e')
    q.push(1, 'a')
    q.push(3, 'c1')
    q.push(3, 'c2')
    q.push(3, 'timer', 0)
    q.push(3, 'late-msg', 2)
    q.push(2, 'b')
    q.push(3, 'c3')
    const out: string[] = []
    while (q.size > 0) out.push(q.pop()?.event ?? '')
    expect(out).toEqual(['a', 'b', 'timer', 'c1', 'c2', 'c3', 'late-msg', 'e'])
  })

  it('keeps insertion order among many equal times whatever the heap layout', () => {
    const q = new EventQueue<number>()
    const rng = new Rng(3)
    for (let i = 0; i < 1000; i++) q.push(rng.int(10), i)
    let last = { at: -1, seq: -1 }
    while (q.size > 0) {
      const item = q.pop()
      if (item === undefined) break
      if (item.at === last.at) expect(item.event).toBeGreaterThan(last.seq)
      else expect(item.at).toBeGreaterThan(last.at)
      last = { at: item.at, seq: item.event }
    }
  })
})

describe('sim PRNG', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed)
      return Array.from({ length: 50 }, () => r.nextU32())
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(42)).not.toEqual(draw(43))
    expect(draw(0).some(x => x !== 0)).toBe(true)
  })

  it('draws uniformly enough in range', () => {
    const r = new Rng(9)
    const counts = new Array<number>(10).fill(0)
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500)
    for (let i = 0; i < 1000; i++) {
      const x = r.next()
      expect(x >= 0 && x < 1).toBe(true)
    }
  })

  it('forks independent, reproducible streams', () => {
    const a = new Rng(5)
    const b = new Rng(5)
    expect(a.fork().nextU32()).toBe(b.fork().nextU32())
  })
})

describe('sim membership lattice', () => {
  it('orders entries as SWIM does: higher incarnation, then dead > suspect > alive', () => {
    const base = new Int32Array(3)
    const v = new View(base, 0)
    expect(v.merge(1, keyOf(0, RANK_ALIVE))).toBe(0)
    expect(v.merge(1, keyOf(0, RANK_SUSPECT))).toBe(keyOf(0, RANK_ALIVE))
    expect(v.merge(1, keyOf(0, RANK_ALIVE))).toBe(-1)
    expect(v.merge(1, keyOf(1, RANK_ALIVE))).toBe(keyOf(0, RANK_SUSPECT))
    expect(v.merge(1, keyOf(0, RANK_DEAD))).toBe(-1)
    expect(v.merge(1, keyOf(1, RANK_DEAD))).toBe(keyOf(1, RANK_ALIVE))
    expect(rankOf(v.get(1))).toBe(RANK_DEAD)
    expect(v.liveCount).toBe(0)
    expect(v.deadMembers()).toEqual([1])
  })

  it('reads the same before and after it turns dense', () => {
    const rng = new Rng(12)
    const n = 64
    const base = new Int32Array(n).fill(keyOf(0, RANK_ALIVE))
    const v = new View(base, n)
    const ref = [...base]
    for (let i = 0; i < 40; i++) {
      const m = rng.int(n)
      const k = keyOf(rng.int(3), 1 + rng.int(3))
      v.merge(m, k)
      ref[m] = Math.max(ref[m], k)
      expect(Array.from({ length: n }, (_, j) => v.get(j))).toEqual(ref)
      expect(v.deltaEntries()).toEqual(ref.flatMap((k, j) => k !== base[j] ? [[j, k]] : []))
      expect(v.deadMembers()).toEqual(ref.flatMap((k, j) => rankOf(k) === RANK_DEAD ? [j] : []))
      expect(v.liveCount).toBe(ref.filter(k => rankOf(k) !== RANK_DEAD).length)
    }
  })

  it('merges to the same view in any order', () => {
    const rng = new Rng(11)
    const updates = Array.from({ length: 200 }, () => [rng.int(5), keyOf(rng.int(3), 1 + rng.int(3))] as const)
    const apply = (order: ReadonlyArray<readonly [number, number]>): number[] => {
      const v = new View(new Int32Array(5), 0)
      for (const [m, k] of order) v.merge(m, k)
      return [0, 1, 2, 3, 4].map(m => v.get(m))
    }
    expect(apply(rng.shuffle([...updates]))).toEqual(apply(updates))
    expect(apply([...updates, ...updates])).toEqual(apply(updates))
  })
})

describe('sim dissemination and probing', () => {
  it('sends each update at most `limit` times, fewest-sent first, newest first among equals', () => {
    const q = new BroadcastQueue<string>()
    q.put(1, 'a')
    q.put(2, 'b')
    expect(q.take(1, 2)).toEqual(['b'])
    expect(q.take(1, 2)).toEqual(['a'])
    expect(q.take(5, 2).sort()).toEqual(['a', 'b'])
    expect(q.size).toBe(0)
    q.put(1, 'a')
    q.put(1, 'a2')
    expect(q.take(5, 3)).toEqual(['a2'])
    expect(retransmitLimit(4, 10_000)).toBe(20)
  })

  it('probes every member once per lap, in a different order each lap', () => {
    const rng = new Rng(1)
    const order = new ProbeOrder(12, () => rng.next())
    const lap1 = Array.from({ length: 12 }, () => order.next(() => true))
    const lap2 = Array.from({ length: 12 }, () => order.next(() => true))
    expect([...lap1].sort((a, b) => a - b)).toEqual([...Array(12).keys()])
    expect([...lap2].sort((a, b) => a - b)).toEqual([...Array(12).keys()])
    expect(lap2).not.toEqual(lap1)
    expect(order.next(i => i === 7)).toBe(7)
    expect(order.next(() => false)).toBe(-1)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  PLACEMENT_WEIGHTS, SUSPECT_FACTOR, explainPlacement, place,
  type Candidate, type PlacementRequest
} from '../../../src/tasks/placement.js'
import { rng } from '../presence/sim.js'

function cand (peerId: string, over: Partial<Candidate> = {}): Candidate {
  return {
    peerId,
    self: false,
    state: 'alive',
    agents: ['test'],
    labels: {},
    cores: 8,
    load1: 1,
    memFreeMb: 8192,
    slots: 4,
    running: 0,
    queued: 0,
    inflight: 0,
    reputation: { score: 0.5, status: 'unproven' },
    rttMs: 10,
    ...over
  }
}

const req: PlacementRequest = { agent: 'test' }
const first = (): number => 0

function reasonOf (peerId: string, request: PlacementRequest, c: Candidate, others: Candidate[] = []): string {
  const p = place(request, [c, ...others], { random: first })
  const r = p.refused.find(x => x.peerId === peerId)
  expect(r, `${peerId} should be refused`).toBeDefined()
  expect(p.ranked.map(s => s.peerId)).not.toContain(peerId)
  expect(p.full.map(s => s.peerId)).not.toContain(peerId)
  return r?.reason ?? ''
}

describe('placement: refusals', () => {
  it('refuses dead and left peers, keeps suspect ones at a lower score', () => {
    expect(reasonOf('a', req, cand('a', { state: 'dead' }))).toMatch(/dead/)
    expect(reasonOf('a', req, cand('a', { state: 'left' }))).toMatch(/left/)
    const p = place(req, [cand('a', { state: 'suspect' }), cand('b')], { random: first })
    expect(p.ranked.map(s => s.peerId)).toEqual(['b', 'a'])
    const [b, a] = p.ranked
    expect(a.score).toBeCloseTo(b.score * SUSPECT_FACTOR)
    expect(a.note).toMatch(/suspect/)
  })

  it('refuses a peer that does not serve the agent, naming what it serves', () => {
    expect(reasonOf('a', req, cand('a', { agents: ['echo', 'sleep'] }))).toBe('does not serve agent "test" (serves: echo, sleep)')
  })

  it('names each label that does not match', () => {
    const r = reasonOf('a', { agent: 'test', labels: { os: 'mac', gpu: 'yes', zone: 'eu' } },
      cand('a', { labels: { os: 'linux', zone: 'eu' } }))
    expect(r).toContain('os=mac (has os=linux)')
    expect(r).toContain('gpu=yes (not set)')
    expect(r).not.toContain('zone')
  })

  it('refuses when cores or free memory fall short', () => {
    expect(reasonOf('a', { agent: 'test', needs: { cores: 16 } }, cand('a', { cores: 8 }))).toBe('needs 16 cores, has 8')
    expect(reasonOf('a', { agent: 'test', needs: { memMb: 4096 } }, cand('a', { memFreeMb: 2000 })))
      .toBe('needs 4096 MB free memory, has 2000 MB')
    const ok = place({ agent: 'test', needs: { cores: 8, memMb: 8192 } }, [cand('a')])
    expect(ok.chosen).toEqual(['a'])
  })

  it('refuses quarantined and banned peers, with the score and the threshold', () => {
    const q = reasonOf('a', req, cand('a', { reputation: { score: 0.21, status: 'quarantined' } }))
    expect(q).toContain('quarantined')
    expect(q).toContain('0.21')
    expect(q).toContain('0.30')
    const custom = place(req, [cand('a', { reputation: { score: 0.21, status: 'quarantined' } })], { quarantineThreshold: 0.4 })
    expect(custom.refused[0].reason).toContain('0.40')
    expect(reasonOf('a', req, cand('a', { reputation: { score: 0, status: 'banned' } }))).toMatch(/banned.*0\.00/)
  })

  it('refuses a paused peer, saying why', () => {
    expect(reasonOf('a', req, cand('a', { paused: 'on battery (40%)' }))).toBe('paused: on battery (40%)')
    expect(reasonOf('a', req, cand('a', { slots: 0 }))).toMatch(/0 task slots/)
  })

  it('never places on an excluded peer, even when it is the only one', () => {
    const p = place({ agent: 'test', exclude: ['a'] }, [cand('a')])
    expect(p.chosen).toEqual([])
    expect(p.refused[0].reason).toMatch(/excluded/)
    expect(p.waiting).toBeDefined()
  })

  it('lists every reason of a peer on one line', () => {
    const r = reasonOf('a', { agent: 'test', labels: { os: 'mac' } }, cand('a', { state: 'dead', paused: 'outside working hours 09:00-18:00' }))
    expect(r).toMatch(/^dead.*; label os=mac.*; paused: outside working hours 09:00-18:00$/)
    expect(r).not.toContain('\n')
  })
})

describe('placement: slots and scores', () => {
  it('counts free slots from the heartbeat, or from inflight when that is larger', () => {
    const p = place(req, [
      cand('hb', { slots: 4, running: 2, queued: 1, inflight: 1 }),
      cand('lag', { slots: 4, running: 0, queued: 0, inflight: 3 }),
      cand('busy', { slots: 4, running: 1, queued: 0, inflight: 4 }),
      cand('over', { slots: 2, running: 3, queued: 2, inflight: 0 })
    ], { random: first })
    const free = Object.fromEntries([...p.ranked, ...p.full].map(s => [s.peerId, s.freeSlots]))
    expect(free).toEqual({ hb: 1, lag: 1, busy: 0, over: -3 })
    expect(p.full.map(s => s.peerId).sort()).toEqual(['busy', 'over'])
    expect(p.ranked.map(s => s.peerId).sort()).toEqual(['hb', 'lag'])
  })

  it('counts slots to queue ahead as free, but not towards the share', () => {
    const p = place(req, [cand('a', { slots: 4, running: 4, inflight: 4, queueAhead: 4 }), cand('b', { slots: 4, running: 4, inflight: 4 })], { random: first })
    expect(p.ranked.map(s => [s.peerId, s.freeSlots])).toEqual([['a', 4]])
    expect(p.chosen).toEqual(['a'])
    expect([...p.ranked, ...p.full].map(s => s.share)).toEqual([0.5, 0.5])
  })

  it('caps free slots by the agent\'s own slot cap', () => {
    const p = place(req, [
      cand('a', { slots: 8, agentSlots: 2, agentInflight: 1 }),
      cand('b', { slots: 8, agentSlots: 2, agentInflight: 2 })
    ])
    expect(p.ranked.map(s => [s.peerId, s.freeSlots])).toEqual([['a', 1]])
    expect(p.full.map(s => [s.peerId, s.freeSlots])).toEqual([['b', 0]])
    expect(p.ranked[0].parts.slots).toBeCloseTo(PLACEMENT_WEIGHTS.slots * 0.5)
  })

  it('scores a documented weighted sum, free slots dominant', () => {
    const idle = cand('idle', { slots: 4, load1: 0, memFreeMb: 16384, reputation: { score: 1, status: 'trusted' }, rttMs: 0, self: true })
    const [s] = place(req, [idle]).ranked
    expect(s.parts).toEqual(PLACEMENT_WEIGHTS)
    expect(s.score).toBeCloseTo(1)
    // a half-busy but otherwise perfect machine loses to an idle mediocre one
    const half = cand('half', { running: 2, load1: 0, memFreeMb: 16384, reputation: { score: 1, status: 'trusted' }, rttMs: 0 })
    const plain = cand('plain', { load1: 2, memFreeMb: 4096, rttMs: 20 })
    expect(place(req, [half, plain]).ranked[0].peerId).toBe('plain')
  })

  it('prefers lower load per core, more free memory, better reputation, lower rtt, and self', () => {
    const top = (a: Partial<Candidate>, b: Partial<Candidate>): string => place(req, [cand('a', a), cand('b', b)], { random: first }).ranked[0].peerId
    expect(top({ load1: 6 }, { load1: 2 })).toBe('b')
    expect(top({ load1: 4, cores: 16 }, { load1: 4, cores: 4 })).toBe('a')
    expect(top({ memFreeMb: 1024 }, { memFreeMb: 4096 })).toBe('b')
    expect(top({ reputation: { score: 0.9, status: 'trusted' } }, { reputation: { score: 0.6, status: 'unproven' } })).toBe('a')
    expect(top({ reputation: { score: 0.9, status: 'probation' } }, { reputation: { score: 0.6, status: 'unproven' } })).toBe('b')
    expect(top({ rttMs: 200 }, { rttMs: 5 })).toBe('b')
    expect(top({ rttMs: null }, { rttMs: 5 })).toBe('b')
    expect(top({ rttMs: null }, { rttMs: 500 })).toBe('a')
    expect(top({ self: true, rttMs: null }, { rttMs: 1 })).toBe('a')
  })

  it('halves the reputation part on probation and treats an unknown rtt as neutral', () => {
    const [p] = place(req, [cand('a', { reputation: { score: 0.8, status: 'probation' }, rttMs: null })]).ranked
    expect(p.parts.reputation).toBeCloseTo(PLACEMENT_WEIGHTS.reputation * 0.4)
    expect(p.parts.rtt).toBeCloseTo(PLACEMENT_WEIGHTS.rtt * 0.5)
  })

  it('does not crash on nonsense numbers from a bad heartbeat', () => {
    const p = place(req, [cand('a', { load1: Number.NaN, cores: 0, memFreeMb: -1, rttMs: Number.POSITIVE_INFINITY })])
    expect(p.chosen).toEqual(['a'])
    expect(Number.isFinite(p.ranked[0].score)).toBe(true)
  })
})

describe('placement: avoid, replicas, waiting', () => {
  it('moves avoided peers out while another can take the task, and falls back to them otherwise', () => {
    const p = place({ agent: 'test', avoid: ['a'] }, [cand('a', { load1: 0 }), cand('b', { load1: 7 })], { random: first })
    expect(p.chosen).toEqual(['b'])
    expect(p.refused).toEqual([{ peerId: 'a', reason: expect.stringMatching(/avoided/) as unknown as string }])

    // b is busy but eligible: it will take the task when a slot frees, so a stays avoided
    const busy = place({ agent: 'test', avoid: ['a'] }, [cand('a'), cand('b', { running: 4 })], { random: first })
    expect(busy.chosen).toEqual([])
    expect(busy.full.map(s => s.peerId)).toEqual(['b'])

    const only = place({ agent: 'test', avoid: ['a'] }, [cand('a'), cand('b', { state: 'dead' })], { random: first })
    expect(only.chosen).toEqual(['a'])
    expect(only.ranked[0].note).toMatch(/earlier attempt/)
  })

  it('picks distinct replicas and says why it waits when too few machines can take them', () => {
    const p = place({ agent: 'test', replicas: 2 }, [cand('a'), cand('b'), cand('c')], { random: rng(7) })
    expect(new Set(p.chosen).size).toBe(2)
    expect(p.waiting).toBeUndefined()

    const few = place({ agent: 'test', replicas: 3 }, [cand('a'), cand('b', { running: 4 }), cand('c', { state: 'dead' })], { random: rng(7) })
    expect(few.chosen).toEqual(['a'])
    expect(few.waiting).toBe('wants 3 distinct machines, only 1 can take it now; 1 busy (4/4 slots); 1 more refused (1 dead)')
  })

  it('explains a wait when every machine that serves the agent is busy', () => {
    const p = place(req, [cand('a', { slots: 4, running: 4 }), cand('b', { slots: 2, inflight: 2 }), cand('c', { slots: 1, running: 1 })])
    expect(p.chosen).toEqual([])
    expect(p.waiting).toBe('all 3 machines that serve "test" are busy (7/7 slots)')
    const one = place(req, [cand('a', { slots: 2, running: 2 }), cand('b', { agents: ['echo'] })])
    expect(one.waiting).toBe('the one machine that serves "test" is busy (2/2 slots)')
  })

  it('explains a wait when no member serves the agent', () => {
    const p = place({ agent: 'gpu-test' }, [cand('a', { agents: ['echo'] }), cand('b', { agents: ['sleep', 'echo'] })])
    expect(p.waiting).toBe('no member serves agent "gpu-test" (members serve: echo, sleep)')
    expect(place(req, []).waiting).toBe('no members known yet')
  })

  it('explains a wait when no machine has a label, or none that serves the agent', () => {
    const p = place({ agent: 'test', labels: { os: 'mac' } }, [cand('a', { labels: { os: 'linux' } }), cand('b')])
    expect(p.waiting).toBe('label os=mac: no machine has it')
    const q = place({ agent: 'test', labels: { os: 'mac' } }, [cand('a', { labels: { os: 'linux' } }), cand('b', { agents: ['echo'], labels: { os: 'mac' } })])
    expect(q.waiting).toBe('label os=mac: no machine that serves "test" has it')
    const r = place({ agent: 'test', needs: { cores: 32 } }, [cand('a', { cores: 8 }), cand('b', { cores: 16 })])
    expect(r.waiting).toBe('needs 32 cores: machines that serve "test" have at most 16')
    const s = place(req, [cand('a', { state: 'dead' }), cand('b', { state: 'dead' }), cand('c', { paused: 'on battery' })])
    expect(s.waiting).toBe('no machine that serves "test" can take it (2 dead, 1 paused)')
  })
})

describe('placement: the choice', () => {
  const ten = (): Candidate[] => Array.from({ length: 10 }, (_, i) => cand(`p${i}`, { load1: i }))

  it('with a fixed random gives the same answer', () => {
    const a = place({ agent: 'test', replicas: 3 }, ten(), { random: rng(42) })
    const b = place({ agent: 'test', replicas: 3 }, ten(), { random: rng(42) })
    expect(a).toEqual(b)
    // input order does not matter either
    const c = place({ agent: 'test', replicas: 3 }, ten().reverse(), { random: rng(42) })
    expect(c).toEqual(a)
  })

  it('with one ranked candidate picks it; with equal shares and nothing placed yet, draws them alike', () => {
    expect(place(req, [cand('a', { running: 4 }), cand('b')], { random: rng(1) }).chosen).toEqual(['b'])
    const random = rng(3)
    const counts = new Map<string, number>()
    for (let i = 0; i < 1000; i++) {
      const [c] = place(req, [cand('a', { load1: 5 }), cand('b', { load1: 1 })], { random }).chosen
      counts.set(c, (counts.get(c) ?? 0) + 1)
    }
    // the better ranked still gets more (load counts in the share), but not all
    expect(counts.get('b')).toBeGreaterThan(counts.get('a') ?? 0)
    expect(counts.get('a')).toBeGreaterThan(250)
  })

  it('many coordinators with the same (stale) view spread their first picks over all, in proportion to shares', () => {
    const random = rng(11)
    const counts = new Map<string, number>()
    const p0 = place(req, ten(), { random })
    const share = new Map(p0.ranked.map(s => [s.peerId, s.share]))
    for (let i = 0; i < 4000; i++) {
      const [c] = place(req, ten(), { random }).chosen
      counts.set(c, (counts.get(c) ?? 0) + 1)
    }
    expect(counts.size).toBe(10)
    for (const [peer, s] of share) {
      expect(counts.get(peer), peer).toBeGreaterThan(4000 * s * 0.85)
      expect(counts.get(peer), peer).toBeLessThan(4000 * s * 1.15)
    }
  })

  it('spreads placements in proportion to slots (4:2:1, within ±15%)', () => {
    const slots: Record<string, number> = { big: 4, mid: 2, small: 1 }
    const HOLD = 5
    for (const seed of [1, 2, 3]) {
      const random = rng(seed)
      let active: Array<{ peer: string, until: number }> = []
      const placed: Record<string, number> = { big: 0, mid: 0, small: 0 }
      let backlog = 0
      for (let round = 0; round < 3000; round++) {
        active = active.filter(t => t.until > round)
        // arrivals average 1.3 a round against a capacity of 7 / 5 = 1.4 (93% busy). Far below
        // capacity the one-slot machine, all free or all busy, wins more than its share
        // (1.4× at 70% busy): the free fraction balances utilisation only once slots are scarce
        backlog += random() < 0.3 ? 2 : 1
        while (backlog > 0) {
          const candidates = Object.entries(slots).map(([peerId, n]) => {
            const held = active.filter(t => t.peer === peerId).length
            // heartbeats lag a round: `running` is stale, `inflight` is current
            return cand(peerId, { slots: n, running: Math.max(0, held - 1), inflight: held })
          })
          const [peer] = place(req, candidates, { random }).chosen
          if (peer == null) break
          active.push({ peer, until: round + HOLD })
          placed[peer]++
          backlog--
        }
      }
      const total = placed.big + placed.mid + placed.small
      for (const [peer, n] of Object.entries(slots)) {
        const share = placed[peer] / total
        const expected = n / 7
        expect(share, `${peer} (seed ${seed}): ${JSON.stringify(placed)}`).toBeGreaterThan(expected * 0.85)
        expect(share, `${peer} (seed ${seed}): ${JSON.stringify(placed)}`).toBeLessThan(expected * 1.15)
      }
    }
  })

  it('property: chosen ⊆ ranked, distinct, as many as possible', () => {
    const candidate = fc.record({
      peerId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
      state: fc.constantFrom<Candidate['state']>('alive', 'alive', 'suspect', 'dead', 'left'),
      slots: fc.integer({ min: 0, max: 8 }),
      running: fc.integer({ min: 0, max: 8 }),
      queued: fc.integer({ min: 0, max: 3 }),
      inflight: fc.integer({ min: 0, max: 8 }),
      recent: fc.double({ min: 0, max: 40, noNaN: true }),
      load1: fc.double({ min: 0, max: 16, noNaN: true }),
      memFreeMb: fc.integer({ min: 0, max: 32768 }),
      rttMs: fc.option(fc.integer({ min: 0, max: 500 })),
      status: fc.constantFrom<Candidate['reputation']['status']>('trusted', 'unproven', 'probation', 'quarantined', 'banned'),
      serves: fc.boolean()
    }).map(r => cand(r.peerId, {
      state: r.state, slots: r.slots, running: r.running, queued: r.queued, inflight: r.inflight, recent: r.recent, load1: r.load1,
      memFreeMb: r.memFreeMb, rttMs: r.rttMs, reputation: { score: 0.5, status: r.status }, agents: r.serves ? ['test'] : ['echo']
    }))
    fc.assert(fc.property(
      fc.array(candidate, { maxLength: 12 }),
      fc.integer({ min: 0, max: 5 }),
      fc.subarray(['a', 'b', 'c', 'd']),
      fc.subarray(['e', 'f']),
      fc.integer(),
      (candidates, replicas, avoid, exclude, seed) => {
        const p = place({ agent: 'test', replicas, avoid, exclude }, candidates, { random: rng(seed) })
        const ranked = p.ranked.map(s => s.peerId)
        expect(p.chosen.every(c => ranked.includes(c))).toBe(true)
        expect(new Set(p.chosen).size).toBe(p.chosen.length)
        expect(p.chosen.length).toBe(Math.min(replicas, ranked.length))
        expect(p.chosen.some(c => exclude.includes(c))).toBe(false)
        expect(p.waiting != null).toBe(p.chosen.length < replicas)
        // every distinct candidate lands in exactly one list
        const all = [...ranked, ...p.held.map(s => s.peerId), ...p.full.map(s => s.peerId), ...p.refused.map(r => r.peerId)]
        expect(all.sort()).toEqual([...new Set(candidates.map(c => c.peerId))].sort())
        expect(p.ranked.every(s => s.freeSlots > 0) && p.held.every(s => s.freeSlots > 0) && p.full.every(s => s.freeSlots <= 0)).toBe(true)
        // shares of the eligible sum to 1 (or all are 0 when none has room for this coordinator)
        const shares = [...p.ranked, ...p.held, ...p.full].map(s => s.share)
        const sum = shares.reduce((a, b) => a + b, 0)
        expect(shares.length === 0 || Math.abs(sum - 1) < 1e-9 || sum === 0).toBe(true)
        // leads sum to 0, so a member held back always has another eligible one behind it
        if (p.held.length > 0) expect(p.ranked.length + p.full.length).toBeGreaterThan(0)
      }
    ), { numRuns: 300 })
  })
})

describe('explainPlacement', () => {
  it('shows the ranking, the refusals and the waiting line', () => {
    const p = place({ agent: 'test', labels: { os: 'linux' }, replicas: 3 }, [
      cand('12D3KooWaaa', { labels: { os: 'linux' }, self: true }),
      cand('12D3KooWbbb', { labels: { os: 'linux' }, running: 4, state: 'suspect' }),
      cand('12D3KooWccc', { labels: { os: 'mac' } }),
      cand('12D3KooWddd', { labels: { os: 'linux' }, reputation: { score: 0.2, status: 'quarantined' } })
    ], { random: first })
    const lines = explainPlacement(p)
    const text = lines.join('\n')
    expect(lines[0]).toMatch(/^#\s+name\s+peer\s+score\s+free\s+slots\s+load\s+mem\s+rep\s+rtt\s+share\s+lately$/)
    expect(lines[1]).toMatch(/^1\s+-\s+12D3KooWaaa\s+\d\.\d\d\s+4\s/)
    expect(lines[2]).toMatch(/^full\s+-\s+12D3KooWbbb\s+\d\.\d\d\s+0\s/)
    expect(text).toContain('note 12D3KooWbbb: suspect')
    expect(text).toContain('refused 12D3KooWccc: label os=linux (has os=mac)')
    expect(text).toContain('refused 12D3KooWddd: quarantined: reputation 0.20 (below the quarantine threshold 0.30)')
    expect(text).toContain('chosen: 12D3KooWaaa')
    expect(lines.at(-1)).toBe(`waiting: ${p.waiting ?? ''}`)
    expect(p.waiting).toMatch(/^wants 3 distinct machines, only 1 can take it now; 1 busy/)
  })

  it('names members beside their peer ids; choice: false leaves out chosen and waiting', () => {
    const p = place({ agent: 'test' }, [cand('12D3KooWaaa'), cand('12D3KooWccc', { labels: {} })], { random: first })
    const names: Record<string, string> = { '12D3KooWaaa': 'alice', '12D3KooWccc': 'carol' }
    const lines = explainPlacement(p, { nameOf: peer => names[peer] })
    expect(lines[1]).toMatch(/^1\s+(alice|carol)\s+12D3KooW(aaa|ccc)\s/)
    expect(lines.find(l => l.startsWith('chosen: '))).toMatch(/^chosen: (alice \(12D3KooWaaa\)|carol \(12D3KooWccc\))$/)
    const after = explainPlacement(p, { nameOf: peer => names[peer], choice: false })
    expect(after.some(l => /^(chosen|waiting):/.test(l))).toBe(false)
  })

  it('says so when nothing is eligible', () => {
    const lines = explainPlacement(place({ agent: 'gpu' }, [cand('a')]))
    expect(lines).toEqual([
      'no eligible machine',
      'refused a: does not serve agent "gpu" (serves: test)',
      'waiting: no member serves agent "gpu" (members serve: test)'
    ])
  })
})

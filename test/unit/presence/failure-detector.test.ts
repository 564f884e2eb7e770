import { describe, expect, it } from 'vitest'
import { FailureDetector } from '../../../src/presence/failure-detector.js'
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../../src/presence/constants.js'
import { deliver, heartbeatSends, percentile, rng, simulate, uniform, type ProbeModel } from './sim.js'

const MINUTES_10 = 10 * 60_000

/** Kill the peer after a warm-up; returns ms from the kill to `dead`. */
function killRun (seed: number, probe: 'fast-fail' | 'timeout' | 'none'): number {
  const random = rng(seed)
  const killAt = uniform(random, 30_000, 90_000)
  const sends = heartbeatSends({ random, startMs: 0, endMs: killAt, jitter: 0.2 })
  const arrivals = deliver(sends, random)
  // kill -9 closes the sockets: a probe is refused or reset within milliseconds;
  // a vanished machine only fails the probe at its timeout
  const model: ProbeModel | undefined = probe === 'none'
    ? undefined
    : (at) => ({ at: at + (probe === 'fast-fail' ? uniform(random, 2, 50) : DEFAULT_PROBE_TIMEOUT_MS), ok: false })
  const { deadAt } = simulate({ arrivals, probe: model, endMs: killAt + 15_000 })
  if (deadAt == null) throw new Error(`seed ${seed}: never declared dead`)
  return deadAt - killAt
}

function summary (label: string, times: number[]): { p50: number, max: number } {
  const p50 = percentile(times, 0.5)
  const max = Math.max(...times)
  console.log(`${label}: p50 ${p50.toFixed(0)} ms, p99 ${percentile(times, 0.99).toFixed(0)} ms, max ${max.toFixed(0)} ms (${times.length} runs)`)
  return { p50, max }
}

/** A run is "never dead" when no transition to dead happened. */
function neverDead (arrivals: number[], probe: ProbeModel | undefined, endMs: number): { dead: number, suspects: number } {
  const { transitions } = simulate({ arrivals, probe, endMs })
  return {
    dead: transitions.filter(t => t.to === 'dead').length,
    suspects: transitions.filter(t => t.to === 'suspect').length
  }
}

describe('failure detector: kill -9 detection (1,000 seeded runs, 1 s heartbeats, ±20 % jitter)', () => {
  it('detects a killed peer with p50 ≤ 3 s and max ≤ 10 s when the probe is refused', () => {
    const times = Array.from({ length: 1000 }, (_, i) => killRun(i + 1, 'fast-fail'))
    const { p50, max } = summary('kill -9, probe refused', times)
    expect(p50).toBeLessThanOrEqual(3000)
    expect(max).toBeLessThanOrEqual(10_000)
  })

  it('still detects a silently vanished peer within 10 s (probe times out, or no probe)', () => {
    for (const mode of ['timeout', 'none'] as const) {
      const times = Array.from({ length: 1000 }, (_, i) => killRun(10_000 + i, mode))
      const { max } = summary(`vanished, probe ${mode}`, times)
      expect(max).toBeLessThanOrEqual(10_000)
    }
  })
})

describe('failure detector: no false dead', () => {
  it('a peer SIGSTOPped 2 s every 30 s for 10 minutes is never dead, with or without probes', () => {
    let suspects = 0
    for (let seed = 1; seed <= 20; seed++) {
      const random = rng(seed)
      const offset = uniform(random, 5000, 30_000)
      const pauseEnd = (t: number): number | undefined => {
        const k = Math.floor((t - offset) / 30_000)
        const start = offset + k * 30_000
        return t >= offset && t < start + 2000 ? start + 2000 : undefined
      }
      // a stopped process fires its overdue timer on resume
      const sends = heartbeatSends({ random, startMs: 0, endMs: MINUTES_10, jitter: 0.2, delay: (due) => (pauseEnd(due) ?? due) - due })
      const arrivals = deliver(sends, random)
      // a probe to a stopped process hangs, and is answered when it resumes
      const probe: ProbeModel = (at) => {
        const answer = (pauseEnd(at) ?? at) + uniform(random, 1, 20)
        return answer - at < DEFAULT_PROBE_TIMEOUT_MS ? { at: answer, ok: true } : { at: at + DEFAULT_PROBE_TIMEOUT_MS, ok: false }
      }
      for (const p of [probe, undefined]) {
        const run = neverDead(arrivals, p, MINUTES_10)
        expect(run.dead).toBe(0)
        suspects += run.suspects
      }
    }
    console.log(`SIGSTOP 2 s / 30 s: 40 runs of 10 min, ${suspects} suspicions, 0 dead`)
  })

  it('a peer whose heartbeats jitter by ±50 % is never dead (nor even suspect)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = rng(seed)
      const arrivals = deliver(heartbeatSends({ random, startMs: 0, endMs: MINUTES_10, jitter: 0.5 }), random)
      expect(neverDead(arrivals, undefined, MINUTES_10)).toEqual({ dead: 0, suspects: 0 })
    }
  })

  it('a peer throttled to 20 % CPU (heartbeats up to 4× late) is never dead while it answers probes', () => {
    let suspects = 0
    for (let seed = 1; seed <= 20; seed++) {
      const random = rng(seed)
      const sends = heartbeatSends({
        random,
        startMs: 0,
        endMs: MINUTES_10,
        jitter: 0.2,
        delay: () => random() < 0.25 ? uniform(random, 0, 4000) : 0
      })
      const arrivals = deliver(sends, random)
      // a starved process still answers a ping, slowly
      const probe: ProbeModel = (at) => ({ at: at + uniform(random, 10, 1500), ok: true })
      const run = neverDead(arrivals, probe, MINUTES_10)
      expect(run.dead).toBe(0)
      suspects += run.suspects
    }
    console.log(`throttled: 20 runs of 10 min, ${suspects} suspicions, 0 dead`)
  })
})

describe('failure detector: states', () => {
  /** A peer with 30 regular heartbeats ending at t = 30 s. */
  function warm (fd: FailureDetector, peer = 'p'): number {
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat(peer, t)
    return 30_000
  }

  it('announces a new peer as alive, a graceful stop as left at once, and ignores stale heartbeats', () => {
    const fd = new FailureDetector()
    expect(fd.recordHeartbeat('p', 0)).toEqual({ peer: 'p', from: undefined, to: 'alive', at: 0 })
    expect(fd.recordLeft('p', 500)).toEqual({ peer: 'p', from: 'alive', to: 'left', at: 500 })
    expect(fd.state('p')).toBe('left')
    expect(fd.recordLeft('p', 600)).toBeUndefined()
    expect(fd.recordHeartbeat('p', 900)).toBeUndefined()
    expect(fd.evaluate(60_000)).toEqual([])
    expect(fd.state('p')).toBe('left')
    expect(fd.recordHeartbeat('p', 61_000)?.to).toBe('alive')
  })

  it('goes alive → suspect → dead by phi and the suspicion timeout, and a probe refutes', () => {
    const fd = new FailureDetector()
    const last = warm(fd)
    expect(fd.evaluate(last + 1000)).toEqual([])
    const suspect = fd.evaluate(last + 2500)
    expect(suspect).toEqual([{ peer: 'p', from: 'alive', to: 'suspect', at: last + 2500 }])
    expect(fd.phi('p', last + 2500)).toBeGreaterThanOrEqual(8)
    expect(fd.recordProbe('p', true, last + 2600)).toEqual({ peer: 'p', from: 'suspect', to: 'alive', at: last + 2600 })
    // suspicion restarts from the successful probe
    expect(fd.evaluate(last + 3000)).toEqual([])
    expect(fd.evaluate(last + 5200).map(t => t.to)).toEqual(['suspect'])
    expect(fd.evaluate(last + 5200 + 2999)).toEqual([])
    expect(fd.evaluate(last + 5200 + 3000).map(t => t.to)).toEqual(['dead'])
    expect(fd.recordHeartbeat('p', last + 20_000)?.to).toBe('alive')
  })

  it('a failed direct probe confirms the suspicion down to the floor', () => {
    const fd = new FailureDetector()
    const last = warm(fd)
    fd.evaluate(last + 2500)
    expect(fd.suspicionTimeout('p', last + 2500)).toBe(3000)
    fd.recordProbe('p', false, last + 2510)
    expect(fd.suspicionTimeout('p', last + 2510)).toBe(500)
    expect(fd.evaluate(last + 3000).map(t => t.to)).toEqual(['dead'])
  })

  it('independent confirmations shorten the suspicion timeout (Lifeguard), down to the floor', () => {
    const fd = new FailureDetector()
    const last = warm(fd)
    fd.evaluate(last + 2500)
    const timeouts = [fd.suspicionTimeout('p', last + 2500)]
    for (const by of ['a', 'b', 'b', 'p', 'c', 'd']) {
      fd.recordSuspicionFrom('p', by, last + 2600)
      timeouts.push(fd.suspicionTimeout('p', last + 2600))
    }
    // a: shorter; b again and p itself: no change; c: floor; d: stays at the floor
    expect(timeouts[1]).toBeLessThan(timeouts[0])
    expect(timeouts[2]).toBeLessThan(timeouts[1])
    expect(timeouts[3]).toBe(timeouts[2])
    expect(timeouts[4]).toBe(timeouts[2])
    expect(timeouts[5]).toBe(500)
    expect(timeouts[6]).toBe(500)
    expect(fd.evaluate(last + 2500 + 499)).toEqual([])
    expect(fd.evaluate(last + 3000).map(t => t.to)).toEqual(['dead'])
  })

  it('local lag raises the suspicion timeout, restarts suspicions, and decays back', () => {
    const fd = new FailureDetector()
    const last = warm(fd)
    fd.evaluate(last + 2500)
    fd.recordLocalLag(50, last + 2600)
    expect(fd.localHealth(last + 2600)).toBe(0)
    fd.recordLocalLag(1500, last + 4000)
    expect(fd.localHealth(last + 4000)).toBe(2)
    expect(fd.suspicionTimeout('p', last + 4000)).toBe(9000)
    // the suspicion clock restarted at the lag report, and the timeout shrinks as health recovers
    expect(fd.evaluate(last + 7000)).toEqual([])
    expect(fd.evaluate(last + 10_000).map(t => t.to)).toEqual(['dead'])
    expect(fd.localHealth(last + 14_000)).toBe(0)
    for (let i = 0; i < 20; i++) fd.recordLocalLag(10_000, last + 20_000)
    expect(fd.localHealth(last + 20_000)).toBe(8)
  })

  it('scales the suspicion timeout with a slower heartbeat interval', () => {
    const fd = new FailureDetector()
    for (let t = 0; t <= 200_000; t += 5000) fd.recordHeartbeat('slow', t)
    expect(fd.suspicionTimeout('slow', 200_000)).toBeGreaterThan(10_000)
    expect(fd.evaluate(200_000 + 6000)).toEqual([])
  })

  it('rejects inconsistent settings', () => {
    expect(() => new FailureDetector({ suspicionMinMs: 5000, suspicionMaxMs: 1000 })).toThrow(/suspicionMinMs/)
    expect(() => new FailureDetector({ minStdDevMs: 0 })).toThrow(/minStdDevMs/)
  })
})

describe('failure detector: confirmations over time', () => {
  it('counts a confirmer again when it renews an old suspicion', () => {
    const fd = new FailureDetector()
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    fd.recordSuspicionFrom('p', 'a', 5000)
    fd.evaluate(32_500)
    expect(fd.suspicionTimeout('p', 32_500)).toBe(3000)
    fd.recordSuspicionFrom('p', 'a', 32_600)
    expect(fd.suspicionTimeout('p', 32_600)).toBeLessThan(3000)
  })
})

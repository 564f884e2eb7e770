import { describe, expect, it } from 'vitest'
import { FailureDetector } from '../../../src/presence/failure-detector.js'
import { DEFAULT_HEARTBEAT_BASE_MS, DEFAULT_PROBE_TIMEOUT_MS } from '../../../src/presence/constants.js'
import { deliver, heartbeatSends, percentile, rng, simulate, uniform, type ProbeModel } from './sim.js'

const MINUTES_10 = 10 * 60_000
/** the shipped heartbeat interval, and the old 1 s one the detector was first tuned for */
const INTERVALS = [DEFAULT_HEARTBEAT_BASE_MS, 1000]

/**
 * Kill the peer after a warm-up; returns ms from the kill to `dead`. The shell probes a
 * suspect (`probe`); with `disconnect`, it also probes as soon as the killed process's
 * connection closes, and that probe is refused within milliseconds.
 */
function killRun (seed: number, probe: 'fast-fail' | 'timeout' | 'none', intervalMs: number, disconnect = false): number {
  const random = rng(seed)
  const killAt = uniform(random, 30 * intervalMs, 90 * intervalMs)
  const sends = heartbeatSends({ random, startMs: 0, endMs: killAt, intervalMs, jitter: 0.2 })
  const arrivals = deliver(sends, random)
  // kill -9 closes the sockets: a probe is refused or reset within milliseconds;
  // a vanished machine only fails the probe at its timeout
  const model: ProbeModel | undefined = probe === 'none'
    ? undefined
    : (at) => probe === 'fast-fail'
        ? { at: at + uniform(random, 2, 50), ok: 'refused' as const }
        // a timeout is not a refusal: one confirmation
        : { at: at + DEFAULT_PROBE_TIMEOUT_MS, ok: 'failed' as const }
  const probeResults = disconnect ? [{ at: killAt + uniform(random, 2, 50), ok: false }] : []
  const { deadAt } = simulate({ arrivals, probe: model, probeResults, endMs: killAt + 30_000, init: { heartbeatIntervalMs: intervalMs } })
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
function neverDead (arrivals: number[], probe: ProbeModel | undefined, endMs: number, intervalMs: number): { dead: number, suspects: number } {
  const { transitions } = simulate({ arrivals, probe, endMs, init: { heartbeatIntervalMs: intervalMs } })
  return {
    dead: transitions.filter(t => t.to === 'dead').length,
    suspects: transitions.filter(t => t.to === 'suspect').length
  }
}

describe.each(INTERVALS)('failure detector: kill -9 detection (1,000 seeded runs, %i ms heartbeats jittered by a fifth)', intervalMs => {
  it('detects a killed peer within ~0.5 s once its connection closes and the probe is refused', () => {
    const times = Array.from({ length: 1000 }, (_, i) => killRun(i + 1, 'fast-fail', intervalMs, true))
    const { p50, max } = summary(`${intervalMs} ms, kill -9, connection closed, probe refused`, times)
    expect(p50).toBeLessThanOrEqual(1000)
    expect(max).toBeLessThanOrEqual(1000)
  })

  it('still detects a killed peer from its missing heartbeats alone (probe refused at suspicion)', () => {
    const times = Array.from({ length: 1000 }, (_, i) => killRun(i + 1, 'fast-fail', intervalMs))
    const { p50, max } = summary(`${intervalMs} ms, kill -9, probe refused at suspicion`, times)
    // with no disconnect event, detection follows the heartbeat interval
    expect(p50).toBeLessThanOrEqual(intervalMs + 2000)
    expect(max).toBeLessThanOrEqual(10_000)
  })

  it('still detects a silently vanished peer within 10 s (probe times out, or no probe)', () => {
    for (const mode of ['timeout', 'none'] as const) {
      const times = Array.from({ length: 1000 }, (_, i) => killRun(10_000 + i, mode, intervalMs))
      const { max } = summary(`${intervalMs} ms, vanished, probe ${mode}`, times)
      expect(max).toBeLessThanOrEqual(10_000)
    }
  })
})

describe.each(INTERVALS)('failure detector: no false dead (%i ms heartbeats)', intervalMs => {
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
      const sends = heartbeatSends({ random, startMs: 0, endMs: MINUTES_10, intervalMs, jitter: 0.2, delay: (due) => (pauseEnd(due) ?? due) - due })
      const arrivals = deliver(sends, random)
      // a probe to a stopped process hangs, and is answered when it resumes
      const probe: ProbeModel = (at) => {
        const answer = (pauseEnd(at) ?? at) + uniform(random, 1, 20)
        return answer - at < DEFAULT_PROBE_TIMEOUT_MS ? { at: answer, ok: true } : { at: at + DEFAULT_PROBE_TIMEOUT_MS, ok: false }
      }
      for (const p of [probe, undefined]) {
        const run = neverDead(arrivals, p, MINUTES_10, intervalMs)
        expect(run.dead).toBe(0)
        suspects += run.suspects
      }
    }
    console.log(`${intervalMs} ms, SIGSTOP 2 s / 30 s: 40 runs of 10 min, ${suspects} suspicions, 0 dead`)
  })

  it('a peer whose heartbeats jitter by ±50 % is never dead (nor even suspect)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = rng(seed)
      const arrivals = deliver(heartbeatSends({ random, startMs: 0, endMs: MINUTES_10, intervalMs, jitter: 0.5 }), random)
      expect(neverDead(arrivals, undefined, MINUTES_10, intervalMs)).toEqual({ dead: 0, suspects: 0 })
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
        intervalMs,
        jitter: 0.2,
        delay: () => random() < 0.25 ? uniform(random, 0, 4 * intervalMs) : 0
      })
      const arrivals = deliver(sends, random)
      // a starved process still answers a ping, slowly
      const probe: ProbeModel = (at) => ({ at: at + uniform(random, 10, 1500), ok: true })
      const run = neverDead(arrivals, probe, MINUTES_10, intervalMs)
      expect(run.dead).toBe(0)
      suspects += run.suspects
    }
    console.log(`${intervalMs} ms, throttled: 20 runs of 10 min, ${suspects} suspicions, 0 dead`)
  })
})

describe('failure detector: states', () => {
  /** A peer with 30 regular heartbeats ending at t = 30 s. */
  function warm (fd: FailureDetector, peer = 'p'): number {
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat(peer, t)
    return 30_000
  }

  it('announces a new peer as alive, a graceful stop as left at once, and ignores stale heartbeats', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
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
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
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
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    const last = warm(fd)
    fd.evaluate(last + 2500)
    expect(fd.suspicionTimeout('p', last + 2500)).toBe(3000)
    fd.recordProbe('p', false, last + 2510)
    expect(fd.suspicionTimeout('p', last + 2510)).toBe(500)
    expect(fd.evaluate(last + 3000).map(t => t.to)).toEqual(['dead'])
  })

  it('a refused probe of an alive peer (its connection closed) makes it suspect, confirmed', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    const last = warm(fd)
    expect(fd.recordProbe('p', false, last + 300)).toEqual({ peer: 'p', from: 'alive', to: 'suspect', at: last + 300 })
    expect(fd.suspicionTimeout('p', last + 300)).toBe(500)
    expect(fd.evaluate(last + 799)).toEqual([])
    expect(fd.evaluate(last + 800).map(t => t.to)).toEqual(['dead'])
    // a heartbeat refutes, as ever
    expect(fd.recordHeartbeat('p', last + 5000)?.to).toBe('alive')
    expect(fd.recordProbe('p', false, last + 5100)?.to).toBe('suspect')
    expect(fd.recordHeartbeat('p', last + 5200)?.to).toBe('alive')
  })

  it('independent confirmations shorten the suspicion timeout (Lifeguard), down to the floor', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
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
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
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
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
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
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    fd.recordSuspicionFrom('p', 'a', 5000)
    fd.evaluate(32_500)
    expect(fd.suspicionTimeout('p', 32_500)).toBe(3000)
    fd.recordSuspicionFrom('p', 'a', 32_600)
    expect(fd.suspicionTimeout('p', 32_600)).toBeLessThan(3000)
  })
})

describe('failure detector: nextCheck (when the shell must wake)', () => {
  it('is the moment phi reaches the threshold: nothing before, the transition then', () => {
    for (const intervalMs of INTERVALS) {
      const fd = new FailureDetector({ heartbeatIntervalMs: intervalMs })
      for (let t = intervalMs; t <= 30 * intervalMs; t += intervalMs) fd.recordHeartbeat('p', t)
      const due = fd.nextCheck(30 * intervalMs)
      expect(due).toBeGreaterThan(31 * intervalMs)
      expect(fd.evaluate(due - 1)).toEqual([])
      expect(fd.evaluate(due).map(t => t.to)).toEqual(['suspect'])
      expect(fd.phi('p', due)).toBeGreaterThanOrEqual(8)
    }
  })

  it('moves later with each heartbeat, is capped while a peer is suspect, and is Infinity with nothing to watch', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    expect(fd.nextCheck(0)).toBe(Infinity)
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    const before = fd.nextCheck(30_000)
    fd.recordHeartbeat('p', 31_000)
    expect(fd.nextCheck(31_000)).toBeGreaterThan(before)
    fd.recordProbe('p', false, 31_100)
    expect(fd.nextCheck(31_100)).toBe(31_100 + 250)
    fd.recordLeft('p', 31_200)
    expect(fd.nextCheck(31_200)).toBe(Infinity)
  })

  it('an event-driven shell (waking only at nextCheck) sees the same transitions as polling every 10 ms', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = rng(seed)
      const intervalMs = INTERVALS[seed % INTERVALS.length]
      const stopAt = uniform(random, 20 * intervalMs, 40 * intervalMs)
      const resumeAt = random() < 0.5 ? stopAt + uniform(random, 0, 12 * intervalMs) : Infinity
      const arrivals = deliver(heartbeatSends({ random, startMs: 0, endMs: 60 * intervalMs, intervalMs, jitter: 0.3 }), random)
        .filter(t => t < stopAt || t > resumeAt)
      const polled = simulate({ arrivals, endMs: 60 * intervalMs, evaluateEveryMs: 10, init: { heartbeatIntervalMs: intervalMs } })
      const fd = new FailureDetector({ heartbeatIntervalMs: intervalMs })
      const seen: Array<{ to: string, at: number }> = []
      let i = 0
      let now = 0
      for (let wakeups = 0; now <= 60 * intervalMs; wakeups++) {
        expect(wakeups).toBeLessThan(1000)
        const wake = Math.min(fd.nextCheck(now), arrivals[i] ?? Infinity, 60 * intervalMs + 1)
        expect(wake).toBeGreaterThanOrEqual(now)
        now = wake
        while (i < arrivals.length && arrivals[i] <= now) {
          const t = fd.recordHeartbeat('peer', arrivals[i++])
          if (t != null) seen.push({ to: t.to, at: t.at })
        }
        for (const t of fd.evaluate(now)) seen.push({ to: t.to, at: t.at })
        if (wake === 60 * intervalMs + 1) break
      }
      const expected = polled.transitions.map(t => ({ to: t.to, at: t.at }))
      expect(seen.map(t => t.to)).toEqual(expected.map(t => t.to))
      // never later than polling; polling finds each transition up to a step late, and a
      // suspect → dead up to two (its suspicion started up to a step late too)
      seen.forEach((t, k) => {
        expect(t.at).toBeLessThanOrEqual(expected[k].at + 0.01)
        expect(expected[k].at - t.at).toBeLessThanOrEqual(20)
      })
    }
  })
})

describe('failure detector: load awareness (Lifeguard local health, signs of life)', () => {
  /** a peer with 30 regular 1 s heartbeats ending at t = 30 s, then suspect at 32.5 s */
  function suspectAt (fd: FailureDetector): number {
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    expect(fd.evaluate(32_500).map(t => t.to)).toEqual(['suspect'])
    return 32_500
  }

  it('a saturated node declares no one dead while it stays saturated, and does once it recovers', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    let now = suspectAt(fd)
    // 20 s of a loop ≥ 90 % busy, sampled every 100 ms: the unconfirmed 3 s timeout never runs out
    for (const end = now + 20_000; now < end; now += 100) {
      fd.recordLocalLoad(0.95, now)
      expect(fd.evaluate(now)).toEqual([])
    }
    expect(fd.state('p')).toBe('suspect')
    // a loop that is merely busy is not saturated
    fd.recordLocalLoad(0.5, now)
    let deadAt: number | undefined
    for (; deadAt == null && now < 200_000; now += 100) deadAt = fd.evaluate(now).find(t => t.to === 'dead')?.at
    expect(deadAt).toBeDefined()
  })

  it('saturation widens the silence phi allows before suspicion', () => {
    const calm = new FailureDetector({ heartbeatIntervalMs: 1000 })
    const busy = new FailureDetector({ heartbeatIntervalMs: 1000 })
    for (let t = 1000; t <= 30_000; t += 1000) { calm.recordHeartbeat('p', t); busy.recordHeartbeat('p', t) }
    busy.recordLocalLoad(1, 30_000)
    expect(calm.nextCheck(30_000)).toBeLessThan(33_000)
    expect(busy.nextCheck(30_000) - calm.nextCheck(30_000)).toBeGreaterThanOrEqual(1500)
  })

  it('any traffic refutes a suspicion and moves phi\'s clock; a peer that left stays left', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    const at = suspectAt(fd)
    expect(fd.recordSignOfLife('p', at + 100)).toEqual({ peer: 'p', from: 'suspect', to: 'alive', at: at + 100 })
    expect(fd.lastSeen('p')).toBe(at + 100)
    expect(fd.evaluate(at + 1000)).toEqual([])
    expect(fd.recordSignOfLife('p', at + 200)).toBeUndefined()
    expect(fd.recordSignOfLife('unknown', at + 200)).toBeUndefined()
    fd.recordLeft('p', at + 300)
    expect(fd.recordSignOfLife('p', at + 10_000)).toBeUndefined()
    expect(fd.state('p')).toBe('left')
  })

  it('traffic still queued from a peer whose port refused us undoes neither the refusal nor its death', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    expect(fd.recordProbe('p', 'refused', 30_100)?.to).toBe('suspect')
    expect(fd.recordSignOfLife('p', 30_110)).toBeUndefined()
    expect(fd.evaluate(30_600).map(t => t.to)).toEqual(['dead'])
    expect(fd.recordSignOfLife('p', 30_700)).toBeUndefined()
    expect(fd.state('p')).toBe('dead')
  })

  it('a probe that failed while this node lagged is no evidence; one that failed otherwise is one confirmation', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    const at = suspectAt(fd)
    expect(fd.suspicionTimeout('p', at)).toBe(3000)
    // the probe went out at `at`; this node stalled 300 ms meanwhile; it timed out at +3 s
    fd.recordLocalLag(300, at + 1000)
    fd.recordProbe('p', 'failed', at + 3000, at)
    expect(fd.suspicionTimeout('p', at + 3000)).toBe(3000 * (1 + fd.localHealth(at + 3000)))
    // after health recovered, a probe that fails (a timeout, a reset) is one confirmation, not a refusal
    const later = at + 10_000
    fd.recordProbe('p', 'failed', later + 3000, later)
    expect(fd.suspicionTimeout('p', later + 3000)).toBeCloseTo(1750, 6)
  })

  it('a refused probe confirms fully, and no slowness of this node stretches it', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 1000 })
    for (let t = 1000; t <= 30_000; t += 1000) fd.recordHeartbeat('p', t)
    fd.recordLocalLoad(1, 30_100)
    fd.recordLocalLag(2000, 30_150)
    expect(fd.recordProbe('p', 'refused', 30_200, 30_190)?.to).toBe('suspect')
    expect(fd.suspicionTimeout('p', 30_200)).toBe(500)
    fd.recordLocalLoad(1, 30_500)
    expect(fd.evaluate(30_700).map(t => t.to)).toEqual(['dead'])
  })

  it('a team that grew (longer interval, known from the roster and announced by the peer) finds no peer late', () => {
    const fd = new FailureDetector({ heartbeatIntervalMs: 3000 })
    let t = 0
    for (; t <= 90_000; t += 3000) fd.recordHeartbeat('p', t, 3000)
    // the team grew to 20: this node's roster says so, the peer now beats every 5.85 s, and says so too
    t -= 3000
    fd.setTeamInterval(5850)
    for (let k = 0; k < 5; k++) {
      t += 5850
      expect(fd.evaluate(t - 1)).toEqual([])
      fd.recordHeartbeat('p', t, 5850)
    }
    expect(fd.state('p')).toBe('alive')
  })
})

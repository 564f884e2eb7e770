/**
 * A seeded, simulated-time harness for the failure detector: one observer, one peer.
 * The peer's heartbeat arrival times are generated up front; probes are answered by a
 * model of the peer (killed, paused, throttled). No real timers.
 */
import { FailureDetector, type FailureDetectorInit, type ProbeOutcome, type Transition } from '../../../src/presence/failure-detector.js'

export { rng } from '../../helpers/rng.js'

export function uniform (random: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * random()
}

/** What a probe sent at `sentAt` returns, and when; undefined = no probe is sent. */
export type ProbeModel = (sentAt: number) => { at: number, ok: boolean | ProbeOutcome } | undefined

export interface SimOptions {
  /** heartbeat arrival times at the observer, ascending */
  arrivals: number[]
  probe?: ProbeModel
  /**
   * probe results reported at fixed times, whatever the state: the shell probes a member
   * whose last connection closed (a killed process closes its sockets)
   */
  probeResults?: Array<{ at: number, ok: boolean | ProbeOutcome }>
  endMs: number
  evaluateEveryMs?: number
  init?: FailureDetectorInit
}

export interface SimResult {
  transitions: Transition[]
  /** first time the peer was declared dead, if ever */
  deadAt: number | undefined
  detector: FailureDetector
}

const PEER = 'peer'

export function simulate (options: SimOptions): SimResult {
  const fd = new FailureDetector(options.init)
  const step = options.evaluateEveryMs ?? 100
  const transitions: Transition[] = []
  const probes: Array<{ at: number, ok: boolean | ProbeOutcome }> = [...(options.probeResults ?? [])]
  let next = 0
  let deadAt: number | undefined
  const note = (t: Transition | undefined): void => {
    if (t == null) return
    transitions.push(t)
    if (t.to === 'dead' && deadAt == null) deadAt = t.at
    if (t.to === 'suspect' && options.probe != null) {
      const answer = options.probe(t.at)
      if (answer != null) probes.push(answer)
    }
  }
  for (let now = 0; now <= options.endMs; now += step) {
    // deliver everything due by `now`, in time order, each at its own time
    for (;;) {
      const hb = next < options.arrivals.length && options.arrivals[next] <= now ? options.arrivals[next] : Infinity
      let pi = -1
      for (let i = 0; i < probes.length; i++) {
        if (probes[i].at <= now && (pi < 0 || probes[i].at < probes[pi].at)) pi = i
      }
      const pt = pi >= 0 ? probes[pi].at : Infinity
      if (hb === Infinity && pt === Infinity) break
      if (hb <= pt) {
        note(fd.recordHeartbeat(PEER, hb))
        next++
      } else {
        const [p] = probes.splice(pi, 1)
        note(fd.recordProbe(PEER, p.ok, p.at))
      }
    }
    for (const t of fd.evaluate(now)) note(t)
  }
  return { transitions, deadAt, detector: fd }
}

/**
 * Send times of a heartbeat timer that re-arms itself after each send
 * (`setTimeout(send, interval · (1 + jitter))`), where `delay(t)` is how late a timer due
 * at `t` actually fires (a pause, CPU starvation).
 */
export function heartbeatSends (options: {
  random: () => number
  startMs: number
  endMs: number
  intervalMs?: number
  jitter: number
  delay?: (dueAt: number) => number
}): number[] {
  const interval = options.intervalMs ?? 1000
  const out: number[] = []
  let t = options.startMs
  while (t < options.endMs) {
    out.push(t)
    const due = t + interval * (1 + uniform(options.random, -options.jitter, options.jitter))
    t = due + (options.delay?.(due) ?? 0)
  }
  return out
}

/** Add a one-way network delay to each send; the result stays sorted. */
export function deliver (sends: number[], random: () => number, minMs = 1, maxMs = 20): number[] {
  const out = sends.map(s => s + uniform(random, minMs, maxMs))
  for (let i = 1; i < out.length; i++) out[i] = Math.max(out[i], out[i - 1])
  return out
}

export function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

/**
 * Load balance: coordinators place a Poisson stream of tasks on machines with the daemon's
 * share rule (`sharesOf`, `isHeld`, `pickByShare` from src/tasks/placement-share.ts) and
 * its reputation math (src/reputation/score.ts), in virtual time. Every machine has the
 * same slots, so a perfect spread gives each the same busy slots; the figure is the
 * busiest machine's time-averaged busy slots over the mean (1.0 is perfect).
 *
 * Simplifications: each coordinator sees every machine's busy slots exactly (the daemon
 * sees them a heartbeat late), load fitness is the machine's free share of its slots, and
 * memory is ample. A few flaky machines fail tasks, so reputation moves their share.
 * Each placement costs O(machines), so this part runs on `machines` ≤ the team size.
 */
import { applyOutcome, newReputation, score, status, weight } from '../reputation/score.js'
import type { ReputationState } from '../reputation/types.js'
import { isHeld, pickByShare, qualityOf, sharesOf, type Sharer } from '../tasks/placement-share.js'
import { EventQueue } from './queue.js'
import type { Rng } from './rng.js'

export interface LoadConfig {
  machines: number
  slots: number
  coordinators: number
  /** offered load: busy slots over all slots */
  utilisation: number
  meanTaskMs: number
  durationMs: number
  /** time before busy slots are counted */
  warmupMs: number
  flakyFraction: number
  /** a flaky machine's failure rate */
  flakyFailure: number
}

export interface LoadReport {
  machines: number
  slots: number
  coordinators: number
  tasks: number
  /** measured busy slots over all slots */
  utilisation: number
  /** max over machines of time-averaged busy slots / the mean */
  imbalance: number
  /** the same among machines that never failed a task */
  imbalanceReliable: number
  /** tasks that found no machine to take them at once */
  waited: number
}

/** time constant of each coordinator's record of what it placed where (as executor-load.ts) */
const RECENT_DECAY_MS = 30_000
const QUALITY_FRESH_MS = 10_000

type Ev = { kind: 'arrive' } | { kind: 'done', machine: number, coord: number, ok: boolean } | { kind: 'retry' }

export function runLoad (cfg: LoadConfig, rng: Rng): LoadReport {
  const M = cfg.machines
  const C = cfg.coordinators
  const q = new EventQueue<Ev>()
  const busy = new Int32Array(M)
  const busyBy = Array.from({ length: C }, () => new Int32Array(M))
  const recent = Array.from({ length: C }, () => new Float64Array(M))
  const recentAt = new Float64Array(C)
  const rep: ReputationState[] = Array.from({ length: M }, () => newReputation(0))
  const flaky = new Uint8Array(M)
  for (let i = 0; i < Math.round(M * cfg.flakyFraction); i++) flaky[rng.int(M)] = 1
  const integral = new Float64Array(M)
  let lastAt = 0
  let now = 0
  let tasks = 0
  let waited = 0
  const waiting: number[] = []
  const ratePerMs = cfg.utilisation * M * cfg.slots / cfg.meanTaskMs

  const advance = (t: number): void => {
    const from = Math.max(lastAt, cfg.warmupMs)
    if (t > from) for (let m = 0; m < M; m++) integral[m] += busy[m] * (t - from)
    lastAt = t
  }
  const decayTo = (c: number): void => {
    const f = Math.exp(-(now - recentAt[c]) / RECENT_DECAY_MS)
    const r = recent[c]
    for (let m = 0; m < M; m++) r[m] *= f
    recentAt[c] = now
  }
  // quality changes with a machine's busy slots and reputation; the reputation's own decay
  // (half-life of days) is negligible within QUALITY_FRESH_MS
  const quality = new Float64Array(M)
  const qualityAt = new Float64Array(M).fill(-Infinity)
  const qualityOfMachine = (m: number): number => {
    if (now - qualityAt[m] > QUALITY_FRESH_MS) {
      const st = status(rep[m], now)
      quality[m] = weight(rep[m], now) === 0 ? 0 : qualityOf({ load: 1 - busy[m] / cfg.slots, memory: 1 }, { score: score(rep[m], now), status: st }, false)
      qualityAt[m] = now
    }
    return quality[m]
  }
  const touch = (m: number): void => { qualityAt[m] = -Infinity }
  const place = (c: number): boolean => {
    decayTo(c)
    const all: Sharer[] = []
    for (let m = 0; m < M; m++) {
      const quality = qualityOfMachine(m)
      if (quality === 0) continue
      all.push({ peerId: String(m), capacity: cfg.slots - (busy[m] - busyBy[c][m]), quality, recent: recent[c][m], freeSlots: cfg.slots - busy[m] })
    }
    const view = sharesOf(all)
    const pickable = all.filter(s => s.freeSlots > 0 && !isHeld(s, view)).sort((a, b) => b.quality - a.quality)
    if (pickable.length === 0) return false
    const m = Number(pickByShare(pickable, view, 1, () => rng.next())[0])
    busy[m]++
    busyBy[c][m]++
    touch(m)
    recent[c][m] += 1
    const ok = !(flaky[m] === 1 && rng.chance(cfg.flakyFailure))
    q.push(now + rng.exp(cfg.meanTaskMs), { kind: 'done', machine: m, coord: c, ok })
    return true
  }
  const drain = (): void => {
    while (waiting.length > 0 && place(waiting[0])) waiting.shift()
  }

  q.push(rng.exp(1 / ratePerMs), { kind: 'arrive' })
  q.push(1000, { kind: 'retry' })
  while (q.size > 0 && q.peekTime() <= cfg.durationMs) {
    const item = q.pop()
    if (item === undefined) break
    advance(item.at)
    now = item.at
    const ev = item.event
    if (ev.kind === 'arrive') {
      tasks++
      q.push(now + rng.exp(1 / ratePerMs), { kind: 'arrive' })
      const c = rng.int(C)
      if (waiting.length > 0 || !place(c)) {
        waited++
        waiting.push(c)
      }
    } else if (ev.kind === 'done') {
      busy[ev.machine]--
      busyBy[ev.coord][ev.machine]--
      rep[ev.machine] = applyOutcome(rep[ev.machine], ev.ok ? 'success' : 'failure', now)
      touch(ev.machine)
      drain()
    } else {
      q.push(now + 1000, { kind: 'retry' })
      drain()
    }
  }
  advance(cfg.durationMs)
  const span = cfg.durationMs - cfg.warmupMs
  const avg = Array.from(integral, x => x / span)
  const ratio = (xs: number[]): number => xs.length === 0 ? NaN : Math.max(...xs) / (xs.reduce((a, b) => a + b, 0) / xs.length)
  const reliable = avg.filter((_, m) => flaky[m] === 0)
  const r3 = (x: number): number => Math.round(x * 1000) / 1000
  return {
    machines: M,
    slots: cfg.slots,
    coordinators: C,
    tasks,
    utilisation: r3(avg.reduce((a, b) => a + b, 0) / (M * cfg.slots)),
    imbalance: r3(ratio(avg)),
    imbalanceReliable: r3(ratio(reliable)),
    waited
  }
}

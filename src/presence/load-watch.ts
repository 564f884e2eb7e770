/**
 * This daemon's own health, measured for the failure detector (Lifeguard's local health):
 * how busy its event loop has been (`performance.eventLoopUtilization()`, a read of two
 * counters, nearly free) and how late its timers fire. Both are read at every wakeup the
 * presence shell has anyway; while a peer is suspect or probed, when the verdict depends
 * on them, a short timer also samples them every {@link WATCH_EVERY_MS}, so a loop that
 * saturates is known within a tenth of a second, not at the next heartbeat. An idle team
 * pays nothing for it: the timer only runs while someone is under suspicion.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Clock, Timer } from '../model/clock.js'

/** the sampling period while a verdict is pending (ms) */
export const WATCH_EVERY_MS = 100
/** utilization is only judged over at least this much time, so one busy tick is not a trend (ms) */
const MIN_SPAN_MS = 250

/** busy share (0..1) of the event loop since the previous call */
export type UtilizationMeter = () => number

/** the process's own event-loop utilization, between successive calls */
export function eventLoopMeter (): UtilizationMeter {
  let last: EventLoopUtilization = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const { utilization } = performance.eventLoopUtilization(now, last)
    last = now
    return utilization
  }
}

export interface LoadWatchInit {
  clock: Clock
  meter: UtilizationMeter
  /** a timer ran `ms` late */
  onLag: (ms: number, now: number) => void
  /** the loop was busy for `utilization` of the time since the last report */
  onLoad: (utilization: number, now: number) => void
}

export class LoadWatch {
  private lastAt: number
  private timer?: Timer
  private dueAt = 0

  constructor (private readonly init: LoadWatchInit) {
    this.lastAt = init.clock.now()
  }

  /** read the loop's utilization now, if enough time has passed to judge it */
  sample (now = this.init.clock.now()): void {
    if (now - this.lastAt < MIN_SPAN_MS) return
    this.lastAt = now
    this.init.onLoad(this.init.meter(), now)
  }

  /** sample every {@link WATCH_EVERY_MS} while `on`; stop when not */
  watch (on: boolean): void {
    if (!on) {
      this.timer?.clear()
      this.timer = undefined
      return
    }
    if (this.timer != null) return
    this.arm()
  }

  private arm (): void {
    this.dueAt = this.init.clock.now() + WATCH_EVERY_MS
    this.timer = this.init.clock.setTimeout(this.tick, WATCH_EVERY_MS).unref()
  }

  private readonly tick = (): void => {
    const now = this.init.clock.now()
    this.init.onLag(now - this.dueAt, now)
    this.sample(now)
    this.arm()
  }
}

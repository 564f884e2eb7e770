/**
 * A manual `Clock` for unit tests: time moves only when the test calls `advance()`, which
 * runs every timer that falls due, in due order (a timer armed by a callback runs in the
 * same `advance` if it falls due inside it). No wall-clock timers.
 */
import type { Clock, Timer } from '../../src/model/clock.js'

interface Pending {
  id: number
  at: number
  every?: number
  fn: () => void
}

export class ManualClock implements Clock {
  private time: number
  private nextId = 0
  private readonly timers = new Map<number, Pending>()

  constructor (start = 1_000_000) {
    this.time = start
  }

  readonly now = (): number => this.time

  readonly setTimeout = (fn: () => void, ms: number): Timer => this.arm(fn, ms)

  readonly setInterval = (fn: () => void, ms: number): Timer => this.arm(fn, ms, Math.max(1, ms))

  /** timers armed and not yet run or cleared */
  get pending (): number { return this.timers.size }

  /** when the next timer falls due, if any */
  get nextAt (): number | undefined {
    let at: number | undefined
    for (const t of this.timers.values()) if (at === undefined || t.at < at) at = t.at
    return at
  }

  /** moves time on by `ms`, running the timers that fall due on the way */
  advance (ms: number): void {
    const end = this.time + ms
    for (;;) {
      const due = [...this.timers.values()].filter(t => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.time = Math.max(this.time, due.at)
      if (due.every === undefined) this.timers.delete(due.id)
      else due.at += due.every
      due.fn()
    }
    this.time = end
  }

  /**
   * this process was paused (SIGSTOP, a suspended laptop) for `ms`: time moves on and no
   * timer runs meanwhile; the next `advance` runs the timers that fell due, late
   */
  pause (ms: number): void {
    this.time += ms
  }

  private arm (fn: () => void, ms: number, every?: number): Timer {
    const id = this.nextId++
    this.timers.set(id, { id, at: this.time + Math.max(0, ms), fn, ...(every === undefined ? {} : { every }) })
    const timer: Timer = { clear: () => { this.timers.delete(id) }, unref: () => timer }
    return timer
  }
}

/**
 * The clock the orchestrators read and arm their timers on: the coordinator, the executor
 * and state sync take one as a parameter, so their state machines run in unit tests on a
 * manual clock (no wall-clock waits) and in the daemon on `systemClock`.
 *
 * `now()` is wall time in ms (the leases on the wire are wall times). A timer's callback
 * runs at most once (`setTimeout`) or every `ms` (`setInterval`) until `clear()`. Timers of
 * `systemClock` do not keep the process alive: the daemon's listeners do.
 */

/** a timer armed on a `Clock`; `clear()` is idempotent */
export interface Timer {
  clear: () => void
  /** the timer does not keep the process alive; returns the timer */
  unref: () => Timer
}

export interface Clock {
  /** wall time, ms since the epoch */
  now: () => number
  /** runs `fn` once, `ms` from now */
  setTimeout: (fn: () => void, ms: number) => Timer
  /** runs `fn` every `ms` */
  setInterval: (fn: () => void, ms: number) => Timer
}

/** the wall clock and Node's timers */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout (fn, ms) {
    return nodeTimer(setTimeout(fn, ms), clearTimeout)
  },
  setInterval (fn, ms) {
    return nodeTimer(setInterval(fn, ms), clearInterval)
  }
}

function nodeTimer<H extends { unref?: () => unknown }> (handle: H, clear: (handle: H) => void): Timer {
  const timer: Timer = {
    clear: () => { clear(handle) },
    unref: () => { handle.unref?.(); return timer }
  }
  return timer
}

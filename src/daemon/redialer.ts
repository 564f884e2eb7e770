/**
 * Keeps dialing the peers the daemon wants to be connected to (remembered peers, team
 * members, discovered peers) until they connect, backing off per peer.
 *
 * Two backoffs, as memberlist and Serf do it: a member that was connected and then lost
 * without a goodbye (declared `suspect` or `dead`: a partition, a network change) is
 * redialed every 0.25–0.5 s (after each failed dial) while it has been gone for less than
 * {@link FAST_REDIAL_FOR_MS} (5 minutes), so a heal is seen within about a second; the
 * longer it stays gone, the more slowly it is tried: the delay grows to 1/600 of the time
 * gone (1 s after 10 minutes, 6 s after an hour), up to a minute. While the SYNs are
 * dropped each try also waits out the connect timeout: ~160 dials (a SYN or two each) in
 * the first 5 minutes (measured: 153–156 per member in a 300 s partition), then
 * ~800·ln(T / 5 min) more for an outage of length T.
 *
 * Every other peer backs off exponentially from 0.5 s to a minute: discovered and
 * remembered peers, a member that left (said goodbye), and a member whose address refuses
 * the connection (its host is up, its daemon is not): a daemon that starts again dials its
 * members itself.
 *
 * A dial that hangs on a black-holed TCP SYN is cut by the transport's connect timeout
 * (`TCP_CONNECT_TIMEOUT_MS` in src/node/constants.ts), not by {@link RedialerInit.dialTimeoutMs},
 * so the next try comes ~1.5 s later rather than after the whole dial timeout.
 */
import { logger } from '@libp2p/logger'
import { backoffDelay } from '../model/backoff.js'

const log = logger('paired:redialer')

/** delay cap (ms) for a lost member while it has been gone for up to 5 minutes */
export const FAST_REDIAL_MAX_MS = 500
/** the delay cap for a lost member is the time it has been gone divided by this (at least {@link FAST_REDIAL_MAX_MS}) */
export const REDIAL_SLOWDOWN = 600
/** a lost member is in its fast phase while gone for less than this (ms): 5 minutes */
export const FAST_REDIAL_FOR_MS = FAST_REDIAL_MAX_MS * REDIAL_SLOWDOWN
/**
 * the longest wait between dials of a peer this daemon is joining through (its invite's
 * addresses): a member swamped by a burst of joins closes some of their connections before
 * their hello, and a joiner that backed off for a minute would wait long after it has room
 */
export const JOIN_REDIAL_MAX_MS = 1_000
/**
 * the delay cap for a member this daemon has not reached yet while presence hears it alive
 * (its heartbeats come relayed) is the time since it was first wanted divided by this, and
 * at least {@link UNREACHED_REDIAL_MIN_CAP_MS}: it is up, so a failed dial was most likely a
 * busy moment (20 daemons joining on one machine), not a minute-long outage; a pair that
 * truly cannot reach each other (two NATs) still slows to the usual minute within an hour
 */
export const UNREACHED_REDIAL_SLOWDOWN = 60
export const UNREACHED_REDIAL_MIN_CAP_MS = 2_000
/** the timer never sleeps less than this (ms), so a rounding edge cannot spin */
const MIN_WAIT_MS = 10

export type RedialPresence = 'alive' | 'suspect' | 'dead' | 'left' | undefined

export interface RedialerInit {
  dial: (peer: string, signal: AbortSignal) => Promise<void>
  isConnected: (peer: string) => boolean
  /**
   * what presence thinks of `peer`: a member lost while `suspect` or `dead` gets the fast
   * backoff; one that `left` (it said goodbye) the slow one
   */
  presence?: (peer: string) => RedialPresence
  /** @default 500 */
  minBackoffMs?: number
  /** @default 60000 */
  maxBackoffMs?: number
  /** longest sleep between looks at the targets (a due dial wakes it sooner); @default 30000 */
  tickMs?: number
  /** a whole dial, upgrade included; @default 10000 */
  dialTimeoutMs?: number
  /** dials in flight at once (a dial waiting on a dropped SYN costs a socket, no CPU); @default 16 */
  concurrency?: number
  /** the jitter source, a number in [0, 1) per call; @default Math.random */
  random?: () => number
  /**
   * whether this daemon is to keep `peer` connected (in a large team only its overlay
   * neighbours, src/node/mesh.ts); a target it says no to is kept but not dialed, until
   * {@link Redialer.refresh}. A peer joined through (`eager`) is dialed whatever it says.
   * @default every target
   */
  wanted?: (peer: string) => boolean
}

interface Target {
  /** dials since the peer was last verified connected */
  failures: number
  dueAt: number
  inFlight: boolean
  /** it was a verified member while connected */
  member: boolean
  /** when a member was first seen disconnected (ms), while it stays so */
  downSince?: number
  /** its last dial was refused (nothing listens there): no daemon to wait for */
  refused?: boolean
  /** when it was first wanted (ms) */
  since: number
  /** new addresses arrived while a dial was in flight: dial again as soon as it ends */
  again?: boolean
  /** this daemon is joining the team through this peer: never back off past {@link JOIN_REDIAL_MAX_MS} until it is connected */
  eager?: boolean
  /** not wanted ({@link RedialerInit.wanted}) when last due: waits for {@link Redialer.refresh} */
  parked?: boolean
}

/** whether a dial failed because the peer's host refused it (ECONNREFUSED) on every address */
export function refusedDial (err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.length > 0 && err.errors.every(refusedDial)
  return err instanceof Error && (/\bECONNREFUSED\b/.test(err.message) || (err as { code?: unknown }).code === 'ECONNREFUSED')
}

export { backoffDelay }

/**
 * The delay before the next dial of a member lost `downForMs` ago, after `failures` failed
 * dials: exponential from `min`, capped at {@link FAST_REDIAL_MAX_MS} for the first
 * {@link FAST_REDIAL_FOR_MS} and at `downForMs / REDIAL_SLOWDOWN` (at most `max`) after;
 * jittered over the upper half (so two sides that lost each other at once do not keep
 * dialing in step). Pure.
 */
export function memberRedialDelay (failures: number, downForMs: number, min: number, max: number, random: number): number {
  const cap = Math.min(max, Math.max(FAST_REDIAL_MAX_MS, downForMs / REDIAL_SLOWDOWN))
  const base = Math.min(cap, min * 2 ** Math.min(failures, 20))
  return Math.round(base * (0.5 + 0.5 * random))
}

export class Redialer {
  private readonly targets = new Map<string, Target>()
  private timer?: ReturnType<typeof setTimeout>
  private timerAt = Infinity
  private controller?: AbortController
  private readonly min: number
  private readonly random: () => number
  private readonly max: number
  private scheduled = false
  private readonly concurrency: number

  constructor (private readonly init: RedialerInit) {
    this.min = init.minBackoffMs ?? 500
    this.random = init.random ?? Math.random
    this.max = init.maxBackoffMs ?? 60_000
    this.concurrency = init.concurrency ?? 16
  }

  start (): void {
    if (this.controller != null) return
    this.controller = new AbortController()
    this.tick()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
    this.controller?.abort()
    this.controller = undefined
    this.targets.clear()
  }

  /** keep this peer connected; `soon` dials at once even if it was backing off; `eager`: see {@link JOIN_REDIAL_MAX_MS} */
  want (peer: string, options: { soon: boolean, eager?: boolean }): void {
    const now = Date.now()
    let t = this.targets.get(peer)
    if (t == null) {
      t = { failures: 0, dueAt: options.soon ? 0 : now + this.min, inFlight: false, member: false, since: now }
      this.targets.set(peer, t)
    } else if (!t.inFlight) {
      t.dueAt = Math.min(t.dueAt, now + (options.soon ? 0 : this.min))
    }
    if (t.member && t.downSince == null && !this.init.isConnected(peer)) t.downSince = now
    if (options.eager === true) t.eager = true
    if (options.soon) this.tickSoon()
    else this.arm()
  }

  /** `peer` is a member and proved it on a connection that is open now */
  connected (peer: string): void {
    let t = this.targets.get(peer)
    if (t == null) {
      t = { failures: 0, dueAt: 0, inFlight: false, member: true, since: Date.now() }
      this.targets.set(peer, t)
    }
    t.failures = 0
    t.member = true
    t.downSince = undefined
    t.eager = false
    if (!t.inFlight) t.dueAt = Date.now() + this.max
    this.arm()
  }

  forget (peer: string): void {
    this.targets.delete(peer)
  }

  /**
   * new addresses for `peer` arrived (a hint with a certificate, identify): the backoff so
   * far was earned by dials without them, so start over and dial at once, or as soon as
   * the dial in flight (which may not use them) ends. A peer not wanted stays unwanted.
   */
  addressesArrived (peer: string): void {
    const t = this.targets.get(peer)
    if (t == null) return
    t.failures = 0
    t.refused = false
    if (t.inFlight) t.again = true
    else t.dueAt = 0
    this.tickSoon()
  }

  /**
   * who is wanted may have changed (a member joined or left, which moves the overlay):
   * look at the parked targets again at once
   */
  refresh (): void {
    for (const t of this.targets.values()) {
      if (t.parked === true && !t.inFlight) {
        t.parked = false
        t.dueAt = 0
      }
    }
    this.tickSoon()
  }

  /** run a tick on the next turn of the event loop, once however often it is asked */
  private tickSoon (): void {
    if (this.scheduled || this.controller == null) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.controller != null) this.tick()
    })
  }

  /** sleep until the next target is due (never longer than `tickMs`) */
  private arm (): void {
    if (this.controller == null) return
    const now = Date.now()
    let next = now + (this.init.tickMs ?? 30_000)
    let inFlight = 0
    for (const t of this.targets.values()) if (t.inFlight) inFlight++
    // with every dial slot taken, the next dial to end arms the timer again
    if (inFlight < this.concurrency) {
      for (const t of this.targets.values()) if (!t.inFlight) next = Math.min(next, t.dueAt)
    }
    const due = Math.max(now + MIN_WAIT_MS, next)
    if (this.timer != null && Math.abs(due - this.timerAt) < MIN_WAIT_MS) return
    clearTimeout(this.timer)
    this.timerAt = due
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Infinity
      this.tick()
    }, due - now)
    this.timer.unref?.()
  }

  private tick (): void {
    const controller = this.controller
    if (controller == null) return
    const now = Date.now()
    let inFlight = 0
    for (const t of this.targets.values()) if (t.inFlight) inFlight++
    for (const [peer, t] of this.targets) {
      if (t.inFlight || t.dueAt > now) continue
      if (this.init.isConnected(peer)) {
        t.failures = 0
        t.downSince = undefined
        t.dueAt = now + this.max
        continue
      }
      if (t.eager !== true && this.init.wanted?.(peer) === false) {
        t.parked = true
        t.dueAt = Infinity
        continue
      }
      if (t.member && t.downSince == null) t.downSince = now
      if (inFlight >= this.concurrency) continue
      inFlight++
      this.dialOnce(peer, t, controller.signal)
    }
    this.arm()
  }

  private dialOnce (peer: string, t: Target, stopped: AbortSignal): void {
    t.inFlight = true
    const dial = new AbortController()
    const timeout = setTimeout(() => { dial.abort(new Error('dial timed out')) }, this.init.dialTimeoutMs ?? 10_000)
    const signal = AbortSignal.any([stopped, dial.signal])
    this.init.dial(peer, signal).then(() => {
      // look again after the usual delay: connected, it is parked until lost; a connection
      // that died before the hello (an upgrade cut short on a busy peer) is dialed again,
      // not a minute later. It counts as a try until the hello succeeds (`connected`), so
      // a peer that connects but is never verified still backs off.
      t.failures++
      t.dueAt = Date.now() + this.delay(peer, t)
    }, err => {
      t.failures++
      t.refused = refusedDial(err)
      t.dueAt = Date.now() + this.delay(peer, t)
      log('dial %s failed (%d): %s', peer, t.failures, (err as Error).message)
    }).finally(() => {
      clearTimeout(timeout)
      t.inFlight = false
      if (t.again === true) {
        t.again = false
        t.dueAt = 0
      }
      this.arm()
    })
  }

  private delay (peer: string, t: Target): number {
    if (t.eager === true) return backoffDelay(t.failures, this.min, Math.min(this.max, JOIN_REDIAL_MAX_MS), this.random())
    const presence = this.init.presence?.(peer)
    if (t.member && t.downSince != null && t.refused !== true && (presence === 'suspect' || presence === 'dead')) {
      return memberRedialDelay(t.failures, Date.now() - t.downSince, this.min, this.max, this.random())
    }
    if (!t.member && t.refused !== true && presence === 'alive') {
      const cap = Math.max(UNREACHED_REDIAL_MIN_CAP_MS, (Date.now() - t.since) / UNREACHED_REDIAL_SLOWDOWN)
      return backoffDelay(t.failures, this.min, Math.min(this.max, cap), this.random())
    }
    return backoffDelay(t.failures, this.min, this.max, this.random())
  }
}

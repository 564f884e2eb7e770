import { logger } from '@libp2p/logger'

const log = logger('paired:redialer')

export interface RedialerInit {
  dial: (peer: string, signal: AbortSignal) => Promise<void>
  isConnected: (peer: string) => boolean
  /** @default 500 */
  minBackoffMs?: number
  /** @default 60000 */
  maxBackoffMs?: number
  /** how often due dials are looked for (a wanted peer is dialed at once); @default 1000 */
  tickMs?: number
  /** @default 10000 */
  dialTimeoutMs?: number
  /** dials in flight at once; @default 4 */
  concurrency?: number
}

interface Target {
  failures: number
  dueAt: number
  inFlight: boolean
}

/** the delay before attempt `failures + 1`: exponential, capped, with ±20 % jitter. Pure. */
export function backoffDelay (failures: number, min: number, max: number, random: number): number {
  const base = Math.min(max, min * 2 ** Math.min(failures, 20))
  return Math.round(base * (0.8 + 0.4 * random))
}

/**
 * Keeps dialing the peers the daemon wants to be connected to (remembered peers, team
 * members, discovered peers) until they connect, backing off exponentially per peer.
 */
export class Redialer {
  private readonly targets = new Map<string, Target>()
  private timer?: ReturnType<typeof setInterval>
  private controller?: AbortController
  private readonly min: number
  private readonly max: number

  constructor (private readonly init: RedialerInit) {
    this.min = init.minBackoffMs ?? 500
    this.max = init.maxBackoffMs ?? 60_000
  }

  start (): void {
    if (this.timer != null) return
    this.controller = new AbortController()
    this.timer = setInterval(() => { this.tick() }, this.init.tickMs ?? 1000)
    this.timer.unref?.()
    this.tick()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
    this.controller?.abort()
    this.targets.clear()
  }

  /** keep this peer connected; `soon` dials at the next tick even if it was backing off */
  want (peer: string, options: { soon: boolean }): void {
    const t = this.targets.get(peer)
    if (t == null) {
      this.targets.set(peer, { failures: 0, dueAt: options.soon ? 0 : Date.now() + this.min, inFlight: false })
    } else if (!t.inFlight) {
      t.dueAt = Math.min(t.dueAt, Date.now() + (options.soon ? 0 : this.min))
    }
    if (options.soon) this.tickSoon()
  }

  private scheduled = false

  /** run a tick on the next turn of the event loop, once however often it is asked */
  private tickSoon (): void {
    if (this.scheduled || this.timer == null) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (this.timer != null) this.tick()
    })
  }

  connected (peer: string): void {
    const t = this.targets.get(peer)
    if (t != null) { t.failures = 0 }
  }

  forget (peer: string): void {
    this.targets.delete(peer)
  }

  private tick (): void {
    const now = Date.now()
    let inFlight = [...this.targets.values()].filter(t => t.inFlight).length
    for (const [peer, t] of this.targets) {
      if (inFlight >= (this.init.concurrency ?? 4)) break
      if (t.inFlight || t.dueAt > now) continue
      if (this.init.isConnected(peer)) {
        t.failures = 0
        t.dueAt = now + this.max
        continue
      }
      t.inFlight = true
      inFlight++
      const signal = AbortSignal.any([this.controller?.signal ?? new AbortController().signal, AbortSignal.timeout(this.init.dialTimeoutMs ?? 10_000)])
      this.init.dial(peer, signal).then(() => {
        t.failures = 0
        t.dueAt = Date.now() + this.max
      }, err => {
        t.failures++
        t.dueAt = Date.now() + backoffDelay(t.failures, this.min, this.max, Math.random())
        log('dial %s failed (%d): %s', peer, t.failures, (err as Error).message)
      }).finally(() => { t.inFlight = false })
    }
  }
}

/**
 * Which peers a session keeps connections to: every member in a team of up to
 * FULL_TEAM_MAX, and above it only its overlay neighbours (src/node/mesh.ts), so that 50
 * members hold ~12 connections each instead of 49. The redialer asks this before every
 * dial; connections a member opens to us, and those opened on demand (a probe, a task
 * query), are not refused, only not kept up by us.
 *
 * The neighbour set is a function of the roster, which changes rarely but is asked about
 * for every target on every redialer tick: it is recomputed at most once per
 * {@link OVERLAY_RECHECK_MS}, or at once after {@link Overlay.changed}, and when it moves
 * the redialer is told to look at the peers it had parked.
 */
import { FULL_TEAM_MAX, overlayNeighbours } from '../node/mesh.js'

/** the roster is looked at again after this long even if nobody said it changed (ms) */
export const OVERLAY_RECHECK_MS = 2_000
/** while started, a large team's daemon looks for connections to prune this often (ms) */
export const PRUNE_EVERY_MS = 10_000

export interface OverlayInit {
  /** this daemon's peer id (asked when first needed) */
  selfId: () => string
  /** the current members' peer ids (self among them or not) */
  members: () => string[]
  /** the neighbour set moved: peers not wanted before may be now */
  onChange: () => void
  /**
   * in a large team, close what is kept no more (src/daemon/pruner.ts), given the current
   * neighbours; asked at each recompute, so at most every {@link OVERLAY_RECHECK_MS}
   */
  prune?: (neighbours: string[]) => void
  /** @default Date.now */
  clock?: () => number
}

export class Overlay {
  private neighbours = new Set<string>()
  private all = true
  private key = ''
  private computedAt = -Infinity
  private readonly clock: () => number

  constructor (private readonly init: OverlayInit) {
    this.clock = init.clock ?? Date.now
  }

  private timer?: ReturnType<typeof setInterval>

  /** look again every {@link PRUNE_EVERY_MS}, whether or not the redialer asks (it asks only about unconnected peers) */
  start (): void {
    if (this.timer != null || this.init.prune == null) return
    this.timer = setInterval(() => { this.refresh() }, PRUNE_EVERY_MS)
    this.timer.unref?.()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** the roster changed (a member joined or left): recompute at the next question */
  changed (): void { this.computedAt = -Infinity }

  /** whether the session is to keep `peer` connected (a stranger only while the team is small) */
  wants (peer: string): boolean {
    this.refresh()
    return this.all || this.neighbours.has(peer)
  }

  /** the members this daemon keeps connected now (every other member in a small team) */
  current (): string[] {
    this.refresh()
    return [...this.neighbours]
  }

  private refresh (): void {
    const now = this.clock()
    if (now - this.computedAt < OVERLAY_RECHECK_MS) return
    this.computedAt = now
    const members = this.init.members()
    const next = overlayNeighbours(this.init.selfId(), members)
    const key = next.join(',')
    if (key === this.key) {
      if (!this.all) this.init.prune?.(next)
      return
    }
    const grew = [...next].some(p => !this.neighbours.has(p))
    this.key = key
    this.neighbours = new Set(next)
    this.all = new Set([...members, this.init.selfId()]).size <= FULL_TEAM_MAX
    if (grew) this.init.onChange()
    if (!this.all) this.init.prune?.(next)
  }
}

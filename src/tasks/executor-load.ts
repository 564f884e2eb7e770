/**
 * Executor load, as one coordinator sees it: the candidates it hands to `place()`, with each
 * executor's load corrected.
 *
 * A peer's heartbeat is up to a second old and counts this coordinator's own tasks too, so
 * taken as it is it lags and double-counts. This keeps the count of what this coordinator
 * placed on each executor (`inflight`, exact), the other coordinators' share of the load
 * (from the last heartbeat, or fresher from the executor's own word), a short back-off
 * after a decline, and what it placed on each lately (`recent`: every placement counts 1,
 * decaying with a time constant of `RECENT_DECAY_MS`), which the share rule of placement
 * weighs against each executor's share. No I/O and no timers (the time comes from the
 * coordinator's clock): the coordinator feeds it and asks it.
 */
import { DECLINE_BACKOFF_MS } from './constants.js'
import type { Slot } from './lease-watch.js'
import type { Candidate } from './placement.js'

/** an executor's own word on its other load beats heartbeats for this long */
const DIRECT_LOAD_FRESH_MS = 2_000
/** when every slot is busy, a remote executor is sent up to this many tasks per slot ahead of time (its queue: equal per slot, so shares follow slots) */
const PREFETCH_FRACTION = 1
/**
 * the time constant (ms) of `recent`: long enough that shares hold over a run of short
 * tasks even on a machine so busy that only tens of them end per second, short enough that
 * a lead from a few minutes ago is forgotten. The share rule lets a machine lead by a
 * quarter of its slots, so one that runs `slots / 4 / RECENT_DECAY_MS` tasks a second more
 * than its share (a faster machine, on long enough tasks) is not held back.
 */
export const RECENT_DECAY_MS = 30_000

export interface ExecutorLoadInit {
  /** every member that could run something, this daemon included, without `inflight` */
  candidates: () => Candidate[]
  /** the heartbeat a peer's capacity came from (a new value per heartbeat) */
  capacityStamp: (peer: string) => unknown
  /** wall time, ms; @default Date.now */
  now?: () => number
}

export class ExecutorLoad {
  private readonly inflight = new Map<string, number>()
  private readonly inflightAgent = new Map<string, number>()
  private readonly busyUntil = new Map<string, number>()
  /** per peer: its placements lately, as of `at` */
  private readonly placed = new Map<string, { n: number, at: number }>()
  /** per peer: the heartbeat last seen, and the load in it that was not this coordinator's */
  private readonly foreign = new Map<string, { stamp: unknown, load: number, direct?: number }>()

  private readonly now: () => number

  constructor (private readonly init: ExecutorLoadInit) {
    this.now = init.now ?? (() => Date.now())
  }

  /** this coordinator placed (`+1`) or took back (`-1`) a task of `agent` on `peer` */
  count (peer: string, agent: string, delta: number): void {
    this.inflight.set(peer, Math.max(0, (this.inflight.get(peer) ?? 0) + delta))
    const k = `${peer}\n${agent}`
    this.inflightAgent.set(k, Math.max(0, (this.inflightAgent.get(k) ?? 0) + delta))
    if (delta > 0) this.note(peer, delta)
  }

  /** tasks placed on `peer` lately, decayed to now */
  recent (peer: string): number {
    const p = this.placed.get(peer)
    return p === undefined ? 0 : p.n * Math.exp(-Math.max(0, this.now() - p.at) / RECENT_DECAY_MS)
  }

  private note (peer: string, delta: number): void {
    const n = Math.max(0, this.recent(peer) + delta)
    if (n === 0) this.placed.delete(peer)
    else this.placed.set(peer, { n, at: this.now() })
  }

  /** `slot` (of a task of `agent` on `peer`) no longer counts against its executor (once) */
  release (peer: string, agent: string, slot: Slot): void {
    if (slot.released === true) return
    slot.released = true
    this.count(peer, agent, -1)
  }

  /** an executor said how many tasks of other coordinators it holds */
  noteLoad (peer: string, others: number): void {
    this.foreign.set(peer, { stamp: this.init.capacityStamp(peer), load: others, direct: this.now() })
  }

  /** `peer` declined an offer: it counts as full for `DECLINE_BACKOFF_MS` */
  declined (peer: string): void {
    this.busyUntil.set(peer, this.now() + DECLINE_BACKOFF_MS)
    // the task did not go there after all
    this.note(peer, -1)
  }

  /**
   * The candidates now, with this coordinator's `inflight` (and, given `agent`, its
   * `agentInflight`), its `recent` placements, and each peer's load corrected. With
   * `prefetch`, a remote peer offers more than its slots (see `PREFETCH_FRACTION`).
   */
  candidates (agent?: string, prefetch = false): Candidate[] {
    const now = this.now()
    return this.init.candidates().map(c => {
      const busy = (this.busyUntil.get(c.peerId) ?? 0) > now
      const recent = this.recent(c.peerId)
      // this daemon's own executor counts are exact; ours among them (released only once the
      // result is recorded, so at most all of them) tell the share rule what is not others' work
      if (c.self) {
        const ours = Math.min(this.inflight.get(c.peerId) ?? 0, c.running + c.queued)
        return { ...c, inflight: ours, recent, ...(busy ? { running: c.slots } : {}) }
      }
      // a peer's heartbeat is up to a second old and counts this coordinator's tasks too: keep
      // only the other coordinators' share of it (as of when it arrived) and add ours, exact
      const inflight = this.inflight.get(c.peerId) ?? 0
      const stamp = this.init.capacityStamp(c.peerId)
      let seen = this.foreign.get(c.peerId)
      if (seen !== undefined && seen.direct !== undefined && now - seen.direct < DIRECT_LOAD_FRESH_MS) {
        seen.stamp = stamp // the executor told us itself, more recently than any heartbeat
      } else if (seen === undefined || seen.stamp !== stamp) {
        seen = { stamp, load: Math.max(0, c.running + c.queued - inflight) }
        this.foreign.set(c.peerId, seen)
      }
      // with `prefetch`, a peer gets a little more than its slots: the next task waits in its
      // queue and starts the moment a slot frees, instead of a round trip later (the executor
      // still runs at most `slots` at once, and says no beyond its queue); its share of the work
      // stays that of its slots
      const queueAhead = prefetch && c.slots > 0 ? Math.max(1, Math.ceil(c.slots * PREFETCH_FRACTION)) : 0
      return {
        ...c,
        ...(queueAhead > 0 ? { queueAhead } : {}),
        running: busy ? c.slots + queueAhead : seen.load + inflight,
        queued: 0,
        inflight,
        recent,
        ...(agent === undefined ? {} : { agentInflight: this.inflightAgent.get(`${c.peerId}\n${agent}`) ?? 0 })
      }
    })
  }
}

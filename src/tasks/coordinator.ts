/**
 * The coordinator: places the tasks this daemon coordinates (those it submitted, and those
 * it adopted from a coordinator that went away), watches their leases, and retries them.
 *
 * - **Placement**: pending tasks in priority-lane order go to the best candidates of
 *   `place()` with a free slot; a task nothing can take waits, with the reason kept for
 *   `paired task explain`. This coordinator counts what it has placed on each executor
 *   (`inflight`) because heartbeats are a second late.
 * - **Leases**: an executor renews its lease every third of it; a lease that lapses (plus
 *   grace), or an executor declared dead or gone, sends the task elsewhere: attempt + 1
 *   (or, with replicas, a replacement replica), avoiding that executor.
 * - **Failures** retry with exponential backoff and jitter, on another executor when there
 *   is one, until the retry budget is spent; then the task is marked failed.
 * - **Adoption**: when a coordinator is dead or gone, each survivor computes the rendezvous
 *   hash winner among the live members for each of its unfinished tasks; the winner writes
 *   `task:adopt` and coordinates from then on.
 *
 * Every decision is written as a task fact, so the replicated record always shows it.
 * The rules behind the decisions live beside it, free of I/O: `lease-watch.ts` (which slots hold
 * or lapse), `retry-policy.ts` (budget, backoff), `adoption.ts` (who inherits an orphan),
 * `executor-load.ts` (each executor's corrected load), `tracked.ts` (per-task counts) and
 * `offer.ts` (offers and answers). The state is kept in `task-book.ts` (tracked tasks, their
 * slots and outcomes) and `offer-loop.ts` (placement passes and offers); this file holds the
 * lifecycle, the tick, the messages and adoption, on the clock and links it is given
 * (`coordinator-init.ts`).
 */
import { logger } from '@libp2p/logger'
import { systemClock, type Clock, type Timer } from '../model/clock.js'
import { isTerminalState, type TaskRecord } from '../state/crdt/index.js'
import { taskDrafts } from '../state/ops/index.js'
import { adoptions } from './adoption.js'
import { COORDINATOR_TICK_MS } from './constants.js'
import type { CoordinatorInit } from './coordinator-init.js'
import { ExecutorLoad } from './executor-load.js'
import type { TaskMessage } from './messages.js'
import { OfferLoop } from './offer-loop.js'
import { place, type Placement } from './placement.js'
import { TaskBook } from './task-book.js'
import { placementRequest } from './tracked.js'

/** the rendezvous hash moved to `adoption.ts`; still exported here for existing importers */
export { heir } from './adoption.js'
export type { CoordinatorInit, CoordinatorLinks, LocalExecutor } from './coordinator-init.js'

const log = logger('paired:tasks:coordinator')
const ADOPT_EVERY_MS = 1_000
/** the tick of a coordinator with nothing to coordinate */
const IDLE_TICK_MS = 5_000

export class Coordinator {
  private readonly clock: Clock
  /** what this coordinator placed on each executor, and each executor's load as it sees it */
  private readonly load: ExecutorLoad
  private readonly book: TaskBook
  private readonly offers: OfferLoop
  /** unfinished tasks of other coordinators: task id → their coordinator */
  private readonly open = new Map<string, { peer: string, epoch: number }>()
  private timer?: Timer
  private scheduled = false
  private lastAdopt = 0
  private stopped = false

  constructor (private readonly init: CoordinatorInit) {
    const clock = this.clock = init.clock ?? systemClock
    this.load = new ExecutorLoad({ candidates: init.candidates, capacityStamp: init.capacityStamp, now: clock.now })
    this.book = new TaskBook({ init, clock, load: this.load, onBusy: () => { this.arm() } })
    this.offers = new OfferLoop({ init, clock, load: this.load, book: this.book, schedule: () => { this.schedule() } })
  }

  async start (): Promise<void> {
    // resume what this daemon coordinated before a restart; remember the others' open tasks
    for await (const record of this.init.openTasks()) this.observe(record)
    this.arm()
  }

  stop (): void {
    this.stopped = true
    this.timer?.clear()
  }

  /**
   * The tick runs every 250 ms while this daemon coordinates something, else every 5 s (to
   * look for orphans to adopt; a coordinator's death also triggers that at once), so an
   * idle daemon wakes rarely.
   */
  private arm (): void {
    if (this.stopped) return
    this.timer?.clear()
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      this.tick()
      this.arm()
    }, this.book.busy ? COORDINATOR_TICK_MS : IDLE_TICK_MS).unref()
  }

  /** tasks this daemon coordinates and has not finished */
  get activeCount (): number { return this.book.tracked.size }

  /** whether `peer` holds (or held) a slot of the current attempt of a task this daemon coordinates */
  isExecutorOf (taskId: string, peer: string): boolean {
    return this.book.tracked.get(taskId)?.slots.has(peer) === true
  }

  /** why a tracked task waits, and the last placement computed for it */
  explain (taskId: string): { waiting?: string, placement?: Placement } | undefined {
    const t = this.book.tracked.get(taskId)
    return t === undefined ? undefined : { ...(t.waiting === undefined ? {} : { waiting: t.waiting }), ...(t.placement === undefined ? {} : { placement: t.placement }) }
  }

  /** a fresh placement of `record` from this daemon's view (for explain) */
  placementFor (record: TaskRecord): Placement {
    return place(placementRequest(record, this.book.tracked.get(record.taskId)), this.load.candidates(), { random: this.init.random })
  }

  /** a new task this daemon submitted: place it now */
  submit (record: TaskRecord): void {
    if (this.book.tracked.has(record.taskId)) return
    this.book.track(record)
    this.schedule()
  }

  /** the task could not be recorded: forget it and stop what was started */
  forget (taskId: string): void {
    const t = this.book.tracked.get(taskId)
    if (t === undefined) return
    for (const peer of t.slots.keys()) this.offers.sendCancel(peer, taskId)
    this.book.untrack(t)
  }

  /** a task record changed in the store (a local write or a replicated fact) */
  observe (record: TaskRecord): void {
    const t = this.book.tracked.get(record.taskId)
    if (isTerminalState(record.state)) {
      this.open.delete(record.taskId)
      if (t !== undefined) {
        if (record.state === 'cancelled') for (const peer of t.slots.keys()) this.offers.sendCancel(peer, record.taskId)
        this.book.untrack(t)
      }
      return
    }
    const coordinator = record.coordinator.peer
    if (coordinator !== this.init.selfId) {
      this.open.set(record.taskId, record.coordinator)
      if (t !== undefined) this.book.untrack(t) // adopted by someone else (a higher epoch)
      return
    }
    this.open.delete(record.taskId)
    if (t === undefined) {
      this.book.track(record)
      this.schedule()
      return
    }
    t.record = record
    if (this.book.settle(t)) this.schedule()
  }

  /** a message from an executor about a task this daemon coordinates */
  onMessage (peer: string, msg: TaskMessage): void {
    switch (msg.t) {
      case 'started':
      case 'renew':
        this.book.leaseNews(peer, msg)
        return
      case 'finished':
        if (this.book.finished(peer, msg)) this.schedule()
        return
      case 'finishes': {
        let freed = false
        for (const a of msg.tasks) if (this.book.finished(peer, a)) freed = true
        if (msg.others !== undefined) this.load.noteLoad(peer, msg.others)
        if (freed) this.schedule()
        return
      }
      case 'done':
        // the same signed batch gossip brings: ingesting it settles the task through observe();
        // only the executor's own batch (its signature is checked on ingest)
        if ((msg.batch as { author?: unknown }).author !== peer) {
          log('done from %s carries a batch by someone else: ignored', peer)
          return
        }
        this.init.ingest(msg.batch).catch((err: Error) => { log('done batch from %s refused: %s', peer, err.message) })
    }
  }

  /** a peer became dead or left: move its work, and adopt its tasks if this daemon is the heir */
  onPeerGone (peer: string): void {
    this.book.peerGone(peer)
    this.lastAdopt = this.clock.now()
    this.adoptOrphans()
    this.schedule()
  }

  /** runs `place` for pending tasks soon (once per turn of the event loop) */
  schedule (): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.offers.placePending()
    })
  }

  private tick (): void {
    const now = this.clock.now()
    this.book.checkLeases(now)
    if (this.book.pending.size > 0) this.schedule()
    if (now - this.lastAdopt >= ADOPT_EVERY_MS) {
      this.lastAdopt = now
      this.adoptOrphans()
    }
  }

  /** adopts the unfinished tasks of gone coordinators that the rendezvous hash gives to this daemon */
  private adoptOrphans (): void {
    const adopt = adoptions(this.open, this.init)
    if (adopt.length === 0) return
    log('adopting %d tasks of gone coordinators', adopt.length)
    // the adopt facts come back through observe(), which starts tracking them
    for (const a of adopt) this.open.delete(a.taskId)
    void this.book.writeFacts(adopt.map(a => taskDrafts.adopt(a.taskId, a.epoch)))
  }
}

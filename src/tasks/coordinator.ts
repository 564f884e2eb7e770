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
 * `offer.ts` (offers and answers); this file wires them to the store, links and clock.
 */
import { logger } from '@libp2p/logger'
import type { PeerState } from '../presence/index.js'
import type { ReputationBook } from '../reputation/index.js'
import type { Signer } from '../team/index.js'
import { isTerminalState, resultKey, resultProblem, type TaskRecord } from '../state/crdt/index.js'
import { taskDrafts, type OpBatch, type OpDraft } from '../state/ops/index.js'
import { adoptions } from './adoption.js'
import { COORDINATOR_TICK_MS, OFFER_TIMEOUT_MS } from './constants.js'
import type { Executor } from './executor.js'
import { ExecutorLoad } from './executor-load.js'
import { heldLeases, lapseOf } from './lease-watch.js'
import type { TaskLinks } from './links.js'
import type { TaskMessage } from './messages.js'
import { answerOf, offerTask, type OfferAnswer } from './offer.js'
import { place, type Candidate, type Placement } from './placement.js'
import { LaneQueue } from './queue.js'
import { retryDelay, retryExhausted } from './retry-policy.js'
import { newTracked, placementRequest, placementShape, wanted, type Tracked } from './tracked.js'

/** the rendezvous hash moved to `adoption.ts`; still exported here for existing importers */
export { heir } from './adoption.js'

const log = logger('paired:tasks:coordinator')
/** a scan of the pending queue gives up after this many tasks in a row that cannot be placed */
const MAX_UNPLACEABLE_SCAN = 64
const ADOPT_EVERY_MS = 1_000
/** the tick of a coordinator with nothing to coordinate */
const IDLE_TICK_MS = 5_000

export interface CoordinatorInit {
  selfId: string
  /** signs the lease grant in each offer */
  signer: Signer
  leaseMs: number
  executor: Executor
  links: Pick<TaskLinks, 'id' | 'request' | 'send'>
  /** every member that could run something, this daemon included, without `inflight` */
  candidates: () => Candidate[]
  /** the heartbeat a peer's capacity came from (a new value per heartbeat) */
  capacityStamp: (peer: string) => unknown
  peerState: (peer: string) => PeerState | undefined
  /** live members (this daemon included), for adoption */
  liveMembers: () => string[]
  reputation: ReputationBook
  write: (drafts: OpDraft[]) => Promise<OpBatch[]>
  ingest: (batch: unknown) => Promise<void>
  /** unfinished tasks in the store (at start, and for adoption) */
  openTasks: () => AsyncIterable<TaskRecord>
  /** replicate work placed on an unproven or probation executor (BOINC's adaptive replication) */
  adaptive?: boolean
  random?: () => number
}

export class Coordinator {
  private readonly tracked = new Map<string, Tracked>()
  private readonly pending = new LaneQueue<Tracked>()
  /** what this coordinator placed on each executor, and each executor's load as it sees it */
  private readonly load: ExecutorLoad
  /** unfinished tasks of other coordinators: task id → their coordinator */
  private readonly open = new Map<string, { peer: string, epoch: number }>()
  private timer?: ReturnType<typeof setTimeout>
  private scheduled = false
  private lastAdopt = 0
  private stopped = false

  constructor (private readonly init: CoordinatorInit) {
    this.load = new ExecutorLoad(init)
  }

  async start (): Promise<void> {
    // resume what this daemon coordinated before a restart; remember the others' open tasks
    for await (const record of this.init.openTasks()) this.observe(record)
    this.arm()
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /**
   * The tick runs every 250 ms while this daemon coordinates something, else every 5 s (to
   * look for orphans to adopt; a coordinator's death also triggers that at once), so an
   * idle daemon wakes rarely.
   */
  private arm (): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    const busy = this.tracked.size > 0 || this.pending.size > 0
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.tick()
      this.arm()
    }, busy ? COORDINATOR_TICK_MS : IDLE_TICK_MS)
    this.timer.unref?.()
  }

  /** tasks this daemon coordinates and has not finished */
  get activeCount (): number { return this.tracked.size }

  /** whether `peer` holds (or held) a slot of the current attempt of a task this daemon coordinates */
  isExecutorOf (taskId: string, peer: string): boolean {
    return this.tracked.get(taskId)?.slots.has(peer) === true
  }

  /** why a tracked task waits, and the last placement computed for it */
  explain (taskId: string): { waiting?: string, placement?: Placement } | undefined {
    const t = this.tracked.get(taskId)
    return t === undefined ? undefined : { ...(t.waiting === undefined ? {} : { waiting: t.waiting }), ...(t.placement === undefined ? {} : { placement: t.placement }) }
  }

  /** a fresh placement of `record` from this daemon's view (for explain) */
  placementFor (record: TaskRecord): Placement {
    return place(placementRequest(record, this.tracked.get(record.taskId)), this.load.candidates(), { random: this.init.random })
  }

  /** a new task this daemon submitted: place it now */
  submit (record: TaskRecord): void {
    if (this.tracked.has(record.taskId)) return
    this.track(record)
    this.schedule()
  }

  /** the task could not be recorded: forget it and stop what was started */
  forget (taskId: string): void {
    const t = this.tracked.get(taskId)
    if (t === undefined) return
    for (const peer of t.slots.keys()) this.sendCancel(peer, taskId)
    this.untrack(t)
  }

  /** a task record changed in the store (a local write or a replicated fact) */
  observe (record: TaskRecord): void {
    const t = this.tracked.get(record.taskId)
    if (isTerminalState(record.state)) {
      this.open.delete(record.taskId)
      if (t !== undefined) {
        if (record.state === 'cancelled') for (const peer of t.slots.keys()) this.sendCancel(peer, record.taskId)
        this.untrack(t)
      }
      return
    }
    const coordinator = record.coordinator.peer
    if (coordinator !== this.init.selfId) {
      this.open.set(record.taskId, record.coordinator)
      if (t !== undefined) this.untrack(t) // adopted by someone else (a higher epoch)
      return
    }
    this.open.delete(record.taskId)
    if (t === undefined) {
      this.track(record)
      this.schedule()
      return
    }
    t.record = record
    this.settle(t)
  }

  /** a message from an executor about a task this daemon coordinates */
  onMessage (peer: string, msg: TaskMessage): void {
    switch (msg.t) {
      case 'started':
      case 'renew': {
        const slot = this.tracked.get(msg.taskId)?.slots.get(peer)
        if (slot === undefined || slot.attempt !== msg.attempt) return
        slot.accepted = true
        slot.expiresWall = Math.max(slot.expiresWall, msg.t === 'renew' ? msg.expiresWall : msg.startedWall + this.init.leaseMs)
        return
      }
      case 'finished': {
        const t = this.tracked.get(msg.taskId)
        const slot = t?.slots.get(peer)
        if (msg.others !== undefined) this.load.noteLoad(peer, msg.others)
        if (t === undefined || slot === undefined || slot.attempt !== msg.attempt) return
        this.load.release(peer, t.record.spec.agent, slot)
        this.schedule()
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
    for (const t of this.tracked.values()) {
      if (t.slots.has(peer)) this.lose(t, peer, 'its executor is gone')
    }
    this.lastAdopt = Date.now()
    this.adoptOrphans()
    this.schedule()
  }

  private track (record: TaskRecord): Tracked {
    const t = newTracked(record)
    // leases of the current attempt that still hold: their executors keep running it
    for (const lease of heldLeases(record, Date.now(), this.init)) {
      t.slots.set(lease.executor, { attempt: lease.attempt, accepted: true, expiresWall: lease.expiresWall })
      this.load.count(lease.executor, record.spec.agent, +1)
    }
    const wasIdle = this.tracked.size === 0
    this.tracked.set(record.taskId, t)
    this.enqueueIfNeeded(t)
    if (wasIdle) this.arm()
    return t
  }

  private untrack (t: Tracked): void {
    for (const [peer, slot] of t.slots) this.load.release(peer, t.record.spec.agent, slot)
    t.slots.clear()
    this.tracked.delete(t.taskId)
    if (t.inQueue) {
      this.pending.remove(x => x === t)
      t.inQueue = false
    }
  }

  private enqueueIfNeeded (t: Tracked): void {
    if (!t.inQueue && wanted(t) > 0) {
      t.inQueue = true
      this.pending.push(t)
    }
  }

  /** results that arrived for this task: free slots, retry failures, finish successes */
  private settle (t: Tracked): void {
    const { record } = t
    for (const [peer, slot] of [...t.slots]) {
      const result = record.results[resultKey(slot.attempt, peer)]
      if (result === undefined) {
        if (slot.attempt < record.attempt) { // someone moved the task on
          t.slots.delete(peer)
          this.load.release(peer, record.spec.agent, slot)
        }
        continue
      }
      t.slots.delete(peer)
      this.load.release(peer, record.spec.agent, slot)
      const problem = resultProblem(result, record)
      if (result.exitCode === 0 && problem === undefined) {
        t.reported.add(peer)
        continue
      }
      if (result.exitCode === 130 && record.cancelled) continue
      if (result.reason === 'invalid-input' && problem === undefined) {
        // the agent refused the input: every machine would refuse it, so no retry
        this.giveUp(t, `input refused on ${peer}: ${result.error ?? 'invalid input'}`)
        return
      }
      t.failures++
      t.avoid.add(peer)
      this.retry(t, problem === undefined ? `failed on ${peer}: ${result.error ?? `exit code ${result.exitCode}`}` : `the result of ${peer} does not count: ${problem}`, true)
    }
    if (record.replicas > 1 && record.state !== 'succeeded' && t.slots.size === 0 && t.reported.size >= record.replicas) {
      // every replica reported and no output has a majority: ask one more executor
      if (t.reported.size < record.replicas * 2) {
        t.extra = t.reported.size + 1 - record.replicas
        t.waiting = 'no majority yet: asking one more executor'
      } else {
        this.giveUp(t, 'no output reached a majority')
        return
      }
    }
    this.enqueueIfNeeded(t)
    this.schedule()
  }

  private retry (t: Tracked, why: string, backoff: boolean): void {
    const { record } = t
    const spent = retryExhausted(why, t.failures, t.lost, record.spec.retries)
    if (spent !== undefined) {
      this.giveUp(t, spent)
      return
    }
    if (backoff) t.notBefore = Date.now() + retryDelay(t.failures, this.init.random)
    t.waiting = why
    if (record.replicas <= 1) {
      // the next attempt: the record shows it pending again at once
      const attempt = record.attempt + 1
      t.record = { ...record, attempt }
      void this.writeFacts([taskDrafts.retry(t.taskId, attempt)])
    }
    this.enqueueIfNeeded(t)
  }

  private giveUp (t: Tracked, why: string): void {
    log('task %s failed: %s', t.taskId, why)
    t.waiting = why
    t.gaveUp = true
    void this.writeFacts([taskDrafts.fail(t.taskId)])
  }

  private lose (t: Tracked, peer: string, why: string): void {
    const slot = t.slots.get(peer)
    if (slot === undefined) return
    t.slots.delete(peer)
    this.load.release(peer, t.record.spec.agent, slot)
    t.lost++
    t.avoid.add(peer)
    this.retry(t, `${why} (${peer})`, false)
  }

  private async writeFacts (drafts: OpDraft[]): Promise<void> {
    try {
      await this.init.write(drafts)
    } catch (err) {
      log('could not record %s: %s', drafts.map(d => d.kind).join(', '), (err as Error).message)
    }
  }

  /** runs `place` for pending tasks soon (once per turn of the event loop) */
  schedule (): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      this.placePending()
    })
  }

  private placePending (): void {
    const now = Date.now()
    let misses = 0
    const retry: Tracked[] = []
    // tasks that ask for the same thing as one that found no place this pass find none either
    const noPlace = new Map<string, Placement>()
    while (misses < MAX_UNPLACEABLE_SCAN) {
      const t = this.pending.take()
      if (t === undefined) break
      t.inQueue = false
      if (!this.tracked.has(t.taskId) || wanted(t) === 0) continue
      if (t.notBefore > now) { retry.push(t); continue }
      const { spec } = t.record
      const shape = placementShape(t)
      const known = shape === undefined ? undefined : noPlace.get(shape)
      let placement = known ?? place(placementRequest(t.record, t), this.load.candidates(spec.agent), { random: this.init.random })
      if (known === undefined && placement.chosen.length === 0 && placement.full.length > 0) {
        // every slot is taken: queue it at a peer, to start the moment one of its slots frees
        const ahead = place(placementRequest(t.record, t), this.load.candidates(spec.agent, true), { random: this.init.random })
        if (ahead.chosen.length > 0) placement = ahead
      }
      t.placement = placement
      if (placement.chosen.length === 0) {
        if (shape !== undefined) noPlace.set(shape, placement)
        t.waiting = placement.waiting ?? 'no machine can take it now'
        misses++
        retry.push(t)
        continue
      }
      misses = 0
      t.waiting = undefined
      if (this.init.adaptive === true && t.record.replicas <= 1 && t.slots.size === 0 && !this.trusted(placement.chosen[0])) {
        // an executor that has not earned trust yet: a second machine checks its output
        t.record = { ...t.record, replicas: 2 }
        void this.writeFacts([taskDrafts.replicas(t.taskId, 2)])
      }
      for (const peer of placement.chosen) this.offer(t, peer)
      if (wanted(t) > 0) retry.push(t)
    }
    // back where they were, ahead of what this pass did not reach: first come, first served
    const back = retry.filter(t => !t.inQueue && wanted(t) > 0)
    for (const t of back) t.inQueue = true
    this.pending.pushFront(back)
  }

  private trusted (peer: string): boolean {
    if (peer === this.init.selfId) return true
    const { status } = this.init.reputation.view(peer)
    return status === 'trusted'
  }

  private offer (t: Tracked, peer: string): void {
    const { record } = t
    const attempt = record.attempt
    t.slots.set(peer, { attempt, accepted: false, expiresWall: Date.now() + OFFER_TIMEOUT_MS + this.init.leaseMs })
    this.load.count(peer, record.spec.agent, +1)
    const task = offerTask(record, this.init.leaseMs, this.init.signer, peer)
    if (peer === this.init.selfId) {
      this.answer(t, peer, attempt, this.init.executor.offer(task))
      return
    }
    const id = this.init.links.id()
    this.init.links.request(peer, { t: 'offer', id, task }, OFFER_TIMEOUT_MS).then(
      reply => { this.answer(t, peer, attempt, answerOf(reply)) },
      (err: Error) => { this.answer(t, peer, attempt, { accepted: false, reason: err.message }) }
    )
  }

  private answer (t: Tracked, peer: string, attempt: number, reply: OfferAnswer): void {
    if (reply.others !== undefined && peer !== this.init.selfId) this.load.noteLoad(peer, reply.others)
    const slot = t.slots.get(peer)
    if (slot === undefined || slot.attempt !== attempt) return
    if (reply.accepted) {
      slot.accepted = true
      slot.expiresWall = (reply.startedWall ?? Date.now()) + this.init.leaseMs
      return
    }
    t.slots.delete(peer)
    this.load.release(peer, t.record.spec.agent, slot)
    this.load.declined(peer)
    t.waiting = `declined by ${peer}: ${reply.reason ?? 'no reason'}`
    this.enqueueIfNeeded(t)
    this.schedule()
  }

  private sendCancel (peer: string, taskId: string): void {
    if (peer === this.init.selfId) this.init.executor.cancel(taskId)
    else this.init.links.send(peer, { t: 'cancel', taskId }).catch(() => {})
  }

  private tick (): void {
    const now = Date.now()
    for (const t of [...this.tracked.values()]) {
      for (const [peer, slot] of [...t.slots]) {
        const lapse = lapseOf(peer, slot, now, this.init)
        if (lapse === undefined) continue
        if (lapse.timedOut) this.init.reputation.outcome(peer, 'timeout')
        this.lose(t, peer, lapse.why)
      }
    }
    if (this.pending.size > 0) this.schedule()
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
    void this.writeFacts(adopt.map(a => taskDrafts.adopt(a.taskId, a.epoch)))
  }
}

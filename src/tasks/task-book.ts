/**
 * The coordinator's book of the tasks it coordinates: which executors hold a slot of each,
 * what their results and leases say, and what follows from them (free the slot, retry with
 * backoff, give up, ask one more replica, move a lapsed or lost attempt elsewhere). Every
 * decision is written as a task fact. The rules it applies are pure and live beside it
 * (`tracked.ts`, `lease-watch.ts`, `retry-policy.ts`); this file keeps the state.
 */
import { logger } from '@libp2p/logger'
import type { Clock } from '../model/clock.js'
import { resultKey, resultProblem, type TaskRecord } from '../state/crdt/index.js'
import { taskDrafts, type OpDraft } from '../state/ops/index.js'
import type { CoordinatorInit } from './coordinator-init.js'
import type { ExecutorLoad } from './executor-load.js'
import { heldLeases, lapseOf } from './lease-watch.js'
import type { TaskMessage } from './messages.js'
import { LaneQueue } from './queue.js'
import { retryDelay, retryExhausted } from './retry-policy.js'
import { newTracked, wanted, type Tracked } from './tracked.js'

const log = logger('paired:tasks:coordinator')

export interface TaskBookInit {
  init: CoordinatorInit
  clock: Clock
  load: ExecutorLoad
  /** the book went from no task to one (the coordinator ticks faster) */
  onBusy: () => void
}

export class TaskBook {
  readonly tracked = new Map<string, Tracked>()
  readonly pending = new LaneQueue<Tracked>()

  constructor (private readonly ctx: TaskBookInit) {}

  /** whether anything is tracked or waits to be placed */
  get busy (): boolean { return this.tracked.size > 0 || this.pending.size > 0 }

  track (record: TaskRecord): Tracked {
    const { init, clock, load } = this.ctx
    const t = newTracked(record)
    // leases of the current attempt that still hold: their executors keep running it
    for (const lease of heldLeases(record, clock.now(), init)) {
      t.slots.set(lease.executor, { attempt: lease.attempt, accepted: true, expiresWall: lease.expiresWall })
      load.count(lease.executor, record.spec.agent, +1)
    }
    const wasIdle = this.tracked.size === 0
    this.tracked.set(record.taskId, t)
    this.enqueueIfNeeded(t)
    if (wasIdle) this.ctx.onBusy()
    return t
  }

  untrack (t: Tracked): void {
    for (const [peer, slot] of t.slots) this.ctx.load.release(peer, t.record.spec.agent, slot)
    t.slots.clear()
    this.tracked.delete(t.taskId)
    if (t.inQueue) {
      this.pending.remove(x => x === t)
      t.inQueue = false
    }
  }

  enqueueIfNeeded (t: Tracked): void {
    if (!t.inQueue && wanted(t) > 0) {
      t.inQueue = true
      this.pending.push(t)
    }
  }

  /** results that arrived for this task: free slots, retry failures, finish successes; false when it gave up */
  settle (t: Tracked): boolean {
    const { load } = this.ctx
    const { record } = t
    for (const [peer, slot] of [...t.slots]) {
      const result = record.results[resultKey(slot.attempt, peer)]
      if (result === undefined) {
        if (slot.attempt < record.attempt) { // someone moved the task on
          t.slots.delete(peer)
          load.release(peer, record.spec.agent, slot)
        }
        continue
      }
      t.slots.delete(peer)
      load.release(peer, record.spec.agent, slot)
      const problem = resultProblem(result, record)
      if (result.exitCode === 0 && problem === undefined) {
        t.reported.add(peer)
        continue
      }
      if (result.exitCode === 130 && record.cancelled) continue
      if (result.reason === 'invalid-input' && problem === undefined) {
        // the agent refused the input: every machine would refuse it, so no retry
        this.giveUp(t, `input refused on ${peer}: ${result.error ?? 'invalid input'}`)
        return false
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
        return false
      }
    }
    this.enqueueIfNeeded(t)
    return true
  }

  /** an executor's lease news (`started`, `renew`) for a slot it holds */
  leaseNews (peer: string, msg: TaskMessage & { t: 'started' | 'renew' }): void {
    const slot = this.tracked.get(msg.taskId)?.slots.get(peer)
    if (slot === undefined || slot.attempt !== msg.attempt) return
    slot.accepted = true
    slot.expiresWall = Math.max(slot.expiresWall, msg.t === 'renew' ? msg.expiresWall : msg.startedWall + this.ctx.init.leaseMs)
  }

  /** an executor's agent finished an attempt: its slot no longer counts (the result follows); true if it was one */
  finished (peer: string, msg: { taskId: string, attempt: number, others?: number }): boolean {
    const t = this.tracked.get(msg.taskId)
    const slot = t?.slots.get(peer)
    if (msg.others !== undefined) this.ctx.load.noteLoad(peer, msg.others)
    if (t === undefined || slot === undefined || slot.attempt !== msg.attempt) return false
    this.ctx.load.release(peer, t.record.spec.agent, slot)
    return true
  }

  /** every slot whose lease lapsed, or whose executor is gone: the attempt goes elsewhere */
  checkLeases (now: number): void {
    const { init } = this.ctx
    for (const t of [...this.tracked.values()]) {
      for (const [peer, slot] of [...t.slots]) {
        const lapse = lapseOf(peer, slot, now, init)
        if (lapse === undefined) continue
        if (lapse.timedOut) init.reputation.outcome(peer, 'timeout')
        this.lose(t, peer, lapse.why)
      }
    }
  }

  /** `peer` is dead or left: every slot it holds goes elsewhere */
  peerGone (peer: string): void {
    for (const t of this.tracked.values()) {
      if (t.slots.has(peer)) this.lose(t, peer, 'its executor is gone')
    }
  }

  lose (t: Tracked, peer: string, why: string): void {
    const slot = t.slots.get(peer)
    if (slot === undefined) return
    t.slots.delete(peer)
    this.ctx.load.release(peer, t.record.spec.agent, slot)
    t.lost++
    t.avoid.add(peer)
    this.retry(t, `${why} (${peer})`, false)
  }

  private retry (t: Tracked, why: string, backoff: boolean): void {
    const { record } = t
    const spent = retryExhausted(why, t.failures, t.lost, record.spec.retries)
    if (spent !== undefined) {
      this.giveUp(t, spent)
      return
    }
    if (backoff) t.notBefore = this.ctx.clock.now() + retryDelay(t.failures, this.ctx.init.random)
    t.waiting = why
    if (record.replicas <= 1) {
      // the next attempt: the record shows it pending again at once
      const attempt = record.attempt + 1
      log('task %s: attempt %d, because %s', t.taskId, attempt, why)
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

  /** writes task facts; a write that fails is logged (the next tick or observe tries again) */
  async writeFacts (drafts: OpDraft[]): Promise<void> {
    try {
      await this.ctx.init.write(drafts)
    } catch (err) {
      log('could not record %s: %s', drafts.map(d => d.kind).join(', '), (err as Error).message)
    }
  }
}

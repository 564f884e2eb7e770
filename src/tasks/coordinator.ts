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
 */
import { createHash } from 'node:crypto'
import { logger } from '@libp2p/logger'
import type { PeerState } from '../presence/index.js'
import type { ReputationBook } from '../reputation/index.js'
import { isTerminalState, resultKey, type TaskRecord } from '../state/crdt/index.js'
import { taskDrafts, type OpBatch, type OpDraft, type TaskAdoptBody } from '../state/ops/index.js'
import {
  COORDINATOR_TICK_MS, DECLINE_BACKOFF_MS, DEFAULT_RETRIES, LEASE_GRACE_MS, MAX_LOST_EXECUTORS, OFFER_TIMEOUT_MS,
  RETRY_BASE_MS, RETRY_MAX_MS
} from './constants.js'
import type { Executor } from './executor.js'
import type { TaskLinks } from './links.js'
import type { OfferTask, TaskMessage } from './messages.js'
import { place, type Candidate, type Placement } from './placement.js'
import { LaneQueue } from './queue.js'

const log = logger('paired:tasks:coordinator')
/** a scan of the pending queue gives up after this many tasks in a row that cannot be placed */
const MAX_UNPLACEABLE_SCAN = 64
const ADOPT_EVERY_MS = 1_000
/** the tick of a coordinator with nothing to coordinate */
const IDLE_TICK_MS = 5_000
/** an executor's own word on its other load beats heartbeats for this long */
const DIRECT_LOAD_FRESH_MS = 2_000
/** when every slot is busy, a remote executor is sent up to this many tasks per slot ahead of time (its queue: equal per slot, so shares follow slots) */
const PREFETCH_FRACTION = 1

export interface CoordinatorInit {
  selfId: string
  leaseMs: number
  executor: Executor
  links: TaskLinks
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

interface Slot {
  attempt: number
  accepted: boolean
  expiresWall: number
  /** the executor said the agent finished: its slot is free (the result is on its way) */
  released?: boolean
}

interface Tracked {
  taskId: string
  record: TaskRecord
  priority: TaskRecord['spec']['priority']
  slots: Map<string, Slot>
  /** executors that failed this task or lost it */
  avoid: Set<string>
  /** executors that already produced a result in a replicated run */
  reported: Set<string>
  failures: number
  lost: number
  /** replicas beyond `replicas` asked for because no output had a majority */
  extra: number
  /** the retry budget is spent: place nothing more */
  gaveUp: boolean
  notBefore: number
  inQueue: boolean
  waiting?: string
  placement?: Placement
}

export class Coordinator {
  private readonly tracked = new Map<string, Tracked>()
  private readonly pending = new LaneQueue<Tracked>()
  private readonly inflight = new Map<string, number>()
  private readonly inflightAgent = new Map<string, number>()
  private readonly busyUntil = new Map<string, number>()
  /** per peer: the heartbeat last seen, and the load in it that was not this coordinator's */
  private readonly foreign = new Map<string, { stamp: unknown, load: number, direct?: number }>()
  /** unfinished tasks of other coordinators: task id → their coordinator */
  private readonly open = new Map<string, { peer: string, epoch: number }>()
  private timer?: ReturnType<typeof setTimeout>
  private scheduled = false
  private lastAdopt = 0
  private stopped = false

  constructor (private readonly init: CoordinatorInit) {}

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
    return place(this.request(record, this.tracked.get(record.taskId)), this.candidatesNow(), { random: this.init.random })
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
        if (msg.others !== undefined) this.noteLoad(peer, msg.others)
        if (t === undefined || slot === undefined || slot.attempt !== msg.attempt) return
        this.release(peer, t.record.spec.agent, slot)
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
    const t: Tracked = {
      taskId: record.taskId,
      record,
      priority: record.spec.priority,
      slots: new Map(),
      avoid: new Set(),
      reported: new Set(),
      failures: 0,
      lost: 0,
      extra: 0,
      gaveUp: false,
      notBefore: 0,
      inQueue: false
    }
    // leases of the current attempt that still hold: their executors keep running it
    const now = Date.now()
    for (const lease of Object.values(record.leases)) {
      if (lease.attempt !== record.attempt || lease.expiresWall + LEASE_GRACE_MS < now) continue
      if (record.results[resultKey(lease.attempt, lease.executor)] !== undefined) continue
      const state = this.init.peerState(lease.executor)
      if (lease.executor !== this.init.selfId && (state === 'dead' || state === 'left')) continue
      t.slots.set(lease.executor, { attempt: lease.attempt, accepted: true, expiresWall: lease.expiresWall })
      this.count(lease.executor, record.spec.agent, +1)
    }
    for (const r of Object.values(record.results)) {
      if (r.attempt === record.attempt && r.exitCode === 0) t.reported.add(r.executor)
      if (r.exitCode !== 0 && r.exitCode !== 130) t.failures++
    }
    const wasIdle = this.tracked.size === 0
    this.tracked.set(record.taskId, t)
    this.enqueueIfNeeded(t)
    if (wasIdle) this.arm()
    return t
  }

  private untrack (t: Tracked): void {
    for (const [peer, slot] of t.slots) this.release(peer, t.record.spec.agent, slot)
    t.slots.clear()
    this.tracked.delete(t.taskId)
    if (t.inQueue) {
      this.pending.remove(x => x === t)
      t.inQueue = false
    }
  }

  /** executors still wanted for the current attempt */
  private wanted (t: Tracked): number {
    if (t.gaveUp || isTerminalState(t.record.state)) return 0
    const replicas = t.record.replicas
    if (replicas <= 1) return t.slots.size === 0 ? 1 : 0
    return Math.max(0, replicas + t.extra - t.slots.size - t.reported.size)
  }

  private enqueueIfNeeded (t: Tracked): void {
    if (!t.inQueue && this.wanted(t) > 0) {
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
          this.release(peer, record.spec.agent, slot)
        }
        continue
      }
      t.slots.delete(peer)
      this.release(peer, record.spec.agent, slot)
      if (result.exitCode === 0) {
        t.reported.add(peer)
        continue
      }
      if (result.exitCode === 130 && record.cancelled) continue
      t.failures++
      t.avoid.add(peer)
      this.retry(t, `failed on ${peer}: ${result.error ?? `exit code ${result.exitCode}`}`, true)
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
    const budget = (record.spec.retries ?? DEFAULT_RETRIES) + 1
    if (t.failures >= budget) {
      this.giveUp(t, `${why}; retry budget of ${budget - 1} spent`)
      return
    }
    if (t.lost > MAX_LOST_EXECUTORS + budget) {
      this.giveUp(t, `${why}; lost ${t.lost} executors`)
      return
    }
    if (backoff) {
      const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * Math.pow(2, Math.max(0, t.failures - 1)))
      t.notBefore = Date.now() + base * (0.8 + 0.4 * (this.init.random ?? Math.random)())
    }
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
    this.release(peer, t.record.spec.agent, slot)
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

  /** a slot no longer counts against its executor (once) */
  private release (peer: string, agent: string, slot: Slot): void {
    if (slot.released === true) return
    slot.released = true
    this.count(peer, agent, -1)
  }

  private count (peer: string, agent: string, delta: number): void {
    this.inflight.set(peer, Math.max(0, (this.inflight.get(peer) ?? 0) + delta))
    const k = `${peer}\n${agent}`
    this.inflightAgent.set(k, Math.max(0, (this.inflightAgent.get(k) ?? 0) + delta))
  }

  private candidatesNow (agent?: string, prefetch = false): Candidate[] {
    const now = Date.now()
    return this.init.candidates().map(c => {
      const busy = (this.busyUntil.get(c.peerId) ?? 0) > now
      // this daemon's own executor counts are exact
      if (c.self) return { ...c, inflight: 0, ...(busy ? { running: c.slots } : {}) }
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
      // still runs at most `slots` at once, and says no beyond its queue)
      const slots = prefetch && c.slots > 0 ? c.slots + Math.max(1, Math.ceil(c.slots * PREFETCH_FRACTION)) : c.slots
      return {
        ...c,
        slots,
        running: busy ? slots : seen.load + inflight,
        queued: 0,
        inflight,
        ...(agent === undefined ? {} : { agentInflight: this.inflightAgent.get(`${c.peerId}\n${agent}`) ?? 0 })
      }
    })
  }

  private request (record: TaskRecord, t?: Tracked): Parameters<typeof place>[0] {
    const { spec } = record
    return {
      agent: spec.agent,
      ...(spec.labels === undefined ? {} : { labels: { ...spec.labels } }),
      ...(spec.needs === undefined ? {} : { needs: { ...spec.needs } }),
      avoid: t === undefined ? [] : [...t.avoid],
      exclude: t === undefined ? [] : [...t.slots.keys(), ...(record.replicas > 1 ? t.reported : [])],
      replicas: t === undefined ? Math.max(1, record.replicas) : Math.max(1, this.wanted(t))
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
      if (!this.tracked.has(t.taskId) || this.wanted(t) === 0) continue
      if (t.notBefore > now) { retry.push(t); continue }
      const { spec } = t.record
      const shape = t.avoid.size === 0 && t.slots.size === 0 && t.record.replicas <= 1
        ? `${spec.agent}\n${JSON.stringify(spec.labels ?? {})}\n${JSON.stringify(spec.needs ?? {})}`
        : undefined
      const known = shape === undefined ? undefined : noPlace.get(shape)
      let placement = known ?? place(this.request(t.record, t), this.candidatesNow(spec.agent), { random: this.init.random })
      if (known === undefined && placement.chosen.length === 0 && placement.full.length > 0) {
        // every slot is taken: queue it at a peer, to start the moment one of its slots frees
        const ahead = place(this.request(t.record, t), this.candidatesNow(spec.agent, true), { random: this.init.random })
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
      if (this.wanted(t) > 0) retry.push(t)
    }
    // back where they were, ahead of what this pass did not reach: first come, first served
    const back = retry.filter(t => !t.inQueue && this.wanted(t) > 0)
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
    this.count(peer, record.spec.agent, +1)
    const task: OfferTask = {
      taskId: record.taskId,
      attempt,
      agent: record.spec.agent,
      input: record.spec.input,
      priority: record.spec.priority,
      ...(record.spec.timeoutMs === undefined ? {} : { timeoutMs: record.spec.timeoutMs }),
      leaseMs: this.init.leaseMs,
      coordinator: this.init.selfId,
      submitter: record.spec.submitter
    }
    if (peer === this.init.selfId) {
      this.answer(t, peer, attempt, this.init.executor.offer(task))
      return
    }
    const id = this.init.links.id()
    this.init.links.request(peer, { t: 'offer', id, task }, OFFER_TIMEOUT_MS).then(
      reply => {
        this.answer(t, peer, attempt, {
          accepted: reply.accepted === true,
          ...(reply.reason === undefined ? {} : { reason: reply.reason }),
          ...(reply.startedWall === undefined ? {} : { startedWall: reply.startedWall }),
          ...(typeof reply.others === 'number' ? { others: reply.others } : {})
        })
      },
      (err: Error) => { this.answer(t, peer, attempt, { accepted: false, reason: err.message }) }
    )
  }

  /** an executor said how many tasks of other coordinators it holds */
  private noteLoad (peer: string, others: number): void {
    this.foreign.set(peer, { stamp: this.init.capacityStamp(peer), load: others, direct: Date.now() })
  }

  private answer (t: Tracked, peer: string, attempt: number, reply: { accepted: boolean, reason?: string, startedWall?: number, others?: number }): void {
    if (reply.others !== undefined && peer !== this.init.selfId) this.noteLoad(peer, reply.others)
    const slot = t.slots.get(peer)
    if (slot === undefined || slot.attempt !== attempt) return
    if (reply.accepted) {
      slot.accepted = true
      slot.expiresWall = (reply.startedWall ?? Date.now()) + this.init.leaseMs
      return
    }
    t.slots.delete(peer)
    this.release(peer, t.record.spec.agent, slot)
    this.busyUntil.set(peer, Date.now() + DECLINE_BACKOFF_MS)
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
        const state = peer === this.init.selfId ? 'alive' : this.init.peerState(peer)
        if (state === 'dead' || state === 'left') {
          this.lose(t, peer, 'its executor is gone')
        } else if (now > slot.expiresWall + LEASE_GRACE_MS) {
          if (slot.accepted) this.init.reputation.outcome(peer, 'timeout')
          this.lose(t, peer, slot.accepted ? 'its lease lapsed' : 'the offer was never answered')
        }
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
    if (this.open.size === 0) return
    let live: string[] | undefined
    const adopt: Array<OpDraft<TaskAdoptBody>> = []
    for (const [taskId, coordinator] of this.open) {
      const state = this.init.peerState(coordinator.peer)
      if (state !== 'dead' && state !== 'left') continue
      live ??= this.init.liveMembers().filter(p => p !== coordinator.peer)
      if (heir(taskId, live) === this.init.selfId) adopt.push(taskDrafts.adopt(taskId, coordinator.epoch + 1))
    }
    if (adopt.length === 0) return
    log('adopting %d tasks of gone coordinators', adopt.length)
    // the adopt facts come back through observe(), which starts tracking them
    for (const d of adopt) this.open.delete(d.body.taskId)
    void this.writeFacts(adopt)
  }
}

/** the rendezvous-hash winner of `taskId` among `peers` (highest sha256(taskId, peer)) */
export function heir (taskId: string, peers: readonly string[]): string | undefined {
  let best: string | undefined
  let bestHash = ''
  for (const peer of peers) {
    const h = createHash('sha256').update(`${taskId}\n${peer}`).digest('hex')
    if (best === undefined || h > bestHash) {
      best = peer
      bestHash = h
    }
  }
  return best
}

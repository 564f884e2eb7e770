/**
 * The executor: runs the attempts this daemon accepted, at most `slots` at once, the rest
 * queued by priority lane. For each it records a lease (renewed while it runs), runs the
 * agent, signs a receipt, writes the result durably and only then reports `done` with the
 * signed batch, so a result the coordinator hears of is never lost by a crash. Leases and
 * results go through `result-outbox.ts`, which writes what finished close together at once;
 * the `finished` news of one turn of the event loop goes to each coordinator in one message.
 */
import { systemClock, type Clock, type Timer } from '../model/clock.js'
import type { OpBatch, OpDraft, TaskLeaseBody } from '../state/ops/index.js'
import { taskDrafts } from '../state/ops/index.js'
import type { TaskPriority } from '../state/crdt/index.js'
import type { Signer } from '../team/index.js'
import type { Agent, AgentOutcome } from './agents/index.js'
import { notServed } from './agents/index.js'
import {
  MAX_LOGGED_TASKS, MAX_LOG_LINES, MAX_REPLICATED_OUTPUT_BYTES, QUEUE_PER_SLOT, RENEW_FRACTION, REPLICATE_LEASE_FRACTION
} from './constants.js'
import { MAX_FINISHES_PER_MESSAGE, type OfferTask, type TaskMessage } from './messages.js'
import { LaneQueue } from './queue.js'
import { hashJson } from './receipt.js'
import { ResultOutbox } from './result-outbox.js'

/** the agents this daemon serves, as the executor uses them (`AgentRegistry` in the daemon) */
export interface ExecutorAgents {
  get: (name: string) => Agent | undefined
  has: (name: string) => boolean
  names: () => string[]
}

/** how long `stop()` waits for the running agents to end */
const STOP_WAIT_MS = 3_000

export interface ExecutorInit {
  selfId: string
  teamId: string
  signer: Signer
  agents: ExecutorAgents
  slots: () => number
  /** why this machine takes no new work now (battery, hours), if it does not */
  paused: () => string | undefined
  /** durable, signed, replicated */
  write: (drafts: OpDraft[]) => Promise<OpBatch[]>
  /** send a message to a coordinator (this daemon's own coordinator included) */
  report: (coordinator: string, msg: TaskMessage) => void
  onLog?: (taskId: string, line: string) => void
  /** running or queued counts changed */
  onLoad?: () => void
  /** wall time and timers; @default systemClock */
  clock?: Clock
  /** runs `fn` once the current turn of the event loop is done. @default setImmediate */
  defer?: (fn: () => void) => void
}

interface Job {
  task: OfferTask
  priority: TaskPriority
  controller: AbortController
  startedWall?: number
  pid?: number
  expiresWall?: number
  lastReplicated?: number
}

const key = (taskId: string, attempt: number): string => `${taskId}#${attempt}`

export class Executor {
  private readonly queue = new LaneQueue<Job>()
  private readonly running = new Map<string, Job>()
  private readonly queued = new Map<string, Job>()
  private readonly perAgent = new Map<string, number>()
  private readonly logs = new Map<string, { lines: string[], truncated: boolean }>()
  private readonly clock: Clock
  private readonly outbox: ResultOutbox
  /** attempts whose agents ended this turn, by coordinator, for one `finishes` message each */
  private finishes = new Map<string, Array<{ taskId: string, attempt: number }>>()
  /** the job `offer()` is starting: its reply carries `startedWall`, so no `started` message */
  private offering?: Job
  private readonly defer: (fn: () => void) => void
  private renewTimer?: Timer
  /** `stop()` waits on this: called once nothing runs */
  private onIdle?: () => void
  private stopped = false

  constructor (private readonly init: ExecutorInit) {
    this.clock = init.clock ?? systemClock
    this.defer = init.defer ?? (fn => { setImmediate(fn) })
    this.outbox = new ResultOutbox({ selfId: init.selfId, signer: init.signer, write: init.write, report: init.report, defer: this.defer, beforeWrite: () => { this.sendFinishes() } })
  }

  get runningCount (): number { return this.running.size }
  get queuedCount (): number { return this.queued.size }
  agents (): string[] { return this.init.agents.names() }

  private renewEveryMs = 0

  start (leaseMs: number): void {
    this.renewEveryMs = Math.max(50, Math.floor(leaseMs * RENEW_FRACTION))
  }

  /** the renewal timer runs only while something holds a lease: an idle daemon is not woken for it */
  private armRenewal (): void {
    if (this.renewTimer === undefined && this.renewEveryMs > 0 && !this.stopped) {
      this.renewTimer = this.clock.setInterval(() => { this.renew() }, this.renewEveryMs).unref()
    }
  }

  /** stops taking work and kills what runs (its leases lapse; coordinators move it elsewhere) */
  async stop (): Promise<void> {
    this.stopped = true
    this.renewTimer?.clear()
    this.queue.remove(() => true)
    this.queued.clear()
    for (const job of this.running.values()) job.controller.abort(new Error('the daemon is stopping'))
    if (this.running.size === 0) return
    // until the last running agent ends, or STOP_WAIT_MS
    await new Promise<void>(resolve => {
      const timer = this.clock.setTimeout(() => { this.onIdle = undefined; resolve() }, STOP_WAIT_MS)
      this.onIdle = () => { timer.clear(); this.onIdle = undefined; resolve() }
    })
  }

  /** an offer: accepted (started or queued) or declined with a reason */
  offer (task: OfferTask): { accepted: boolean, reason?: string, startedWall?: number } {
    const k = key(task.taskId, task.attempt)
    const existing = this.running.get(k) ?? this.queued.get(k)
    if (existing !== undefined) return { accepted: true, ...(existing.startedWall === undefined ? {} : { startedWall: existing.startedWall }) }
    if (this.stopped) return { accepted: false, reason: 'the daemon is stopping' }
    if (!this.init.agents.has(task.agent)) return { accepted: false, reason: notServed(this.init.agents, task.agent).message }
    const paused = this.init.paused()
    if (paused !== undefined) return { accepted: false, reason: `not taking work: ${paused}` }
    const slots = this.init.slots()
    if (this.running.size + this.queued.size >= slots * (1 + QUEUE_PER_SLOT)) {
      return { accepted: false, reason: `busy: ${this.running.size}/${slots} slots running, ${this.queued.size} queued` }
    }
    const job: Job = { task, priority: task.priority, controller: new AbortController() }
    this.queued.set(k, job)
    this.queue.push(job)
    this.offering = job
    try {
      this.pump()
    } finally {
      this.offering = undefined
    }
    return { accepted: true, ...(job.startedWall === undefined ? {} : { startedWall: job.startedWall }) }
  }

  /** tasks of coordinators other than `coordinator` running or queued here now */
  othersFor (coordinator: string): number {
    let n = 0
    for (const job of this.running.values()) if (job.task.coordinator !== coordinator) n++
    for (const job of this.queued.values()) if (job.task.coordinator !== coordinator) n++
    return n
  }

  /**
   * cancels a queued or running attempt (all attempts of the task); with `from`, only the
   * attempts that peer coordinates (a cancel message), without, all (a replicated cancel)
   */
  cancel (taskId: string, from?: string): boolean {
    let found = false
    const mine = (j: Job): boolean => j.task.taskId === taskId && (from === undefined || j.task.coordinator === from)
    for (const job of this.queue.remove(mine)) {
      this.queued.delete(key(taskId, job.task.attempt))
      found = true
      this.finish(job, { exitCode: 130, output: '', outputHash: hashJson(''), reason: 'cancelled', error: 'cancelled', durationMs: 0 })
    }
    for (const job of this.running.values()) {
      if (!mine(job)) continue
      job.controller.abort(new Error('cancelled'))
      found = true
    }
    if (found) this.init.onLoad?.()
    return found
  }

  /** the pid of a running attempt of `taskId`, if it is a process */
  pidOf (taskId: string): number | undefined {
    for (const job of this.running.values()) if (job.task.taskId === taskId) return job.pid
    return undefined
  }

  logsOf (taskId: string): { lines: string[], truncated: boolean } | undefined {
    return this.logs.get(taskId)
  }

  private pump (): void {
    const slots = this.init.slots()
    while (this.running.size < slots) {
      const job = this.queue.take(j => {
        const cap = this.init.agents.get(j.task.agent)?.slots
        return cap === undefined || (this.perAgent.get(j.task.agent) ?? 0) < cap
      })
      if (job === undefined) break
      const k = key(job.task.taskId, job.task.attempt)
      this.queued.delete(k)
      this.running.set(k, job)
      this.armRenewal()
      this.perAgent.set(job.task.agent, (this.perAgent.get(job.task.agent) ?? 0) + 1)
      void this.run(job)
    }
    this.init.onLoad?.()
  }

  private async run (job: Job): Promise<void> {
    const { task } = job
    const agent = this.init.agents.get(task.agent)
    job.startedWall = this.clock.now()
    job.expiresWall = job.startedWall + task.leaseMs
    job.lastReplicated = job.startedWall
    if (job !== this.offering) this.init.report(task.coordinator, { t: 'started', taskId: task.taskId, attempt: task.attempt, startedWall: job.startedWall })
    // the lease replicates in the next write of the outbox (with the result, if that is done
    // by then); the run does not wait for it
    this.outbox.lease(key(task.taskId, task.attempt), taskDrafts.lease({ taskId: task.taskId, attempt: task.attempt, expiresWall: job.expiresWall, startedWall: job.startedWall }))
    let outcome: AgentOutcome
    if (agent === undefined) {
      outcome = { exitCode: 127, output: '', outputHash: hashJson(''), reason: 'spawn', error: notServed(this.init.agents, task.agent).message, durationMs: 0 }
    } else {
      outcome = await agent.run({
        input: task.input,
        signal: job.controller.signal,
        ...(task.timeoutMs === undefined ? {} : { timeoutMs: task.timeoutMs }),
        onLog: line => { this.log(task, line) },
        onStart: info => { job.pid = info.pid }
      })
    }
    this.finish(job, outcome)
  }

  private finish (job: Job, outcome: AgentOutcome): void {
    const { task } = job
    const k = key(task.taskId, task.attempt)
    const endedWall = this.clock.now()
    // the slot is free once the agent is done: writing its result needs no compute slot
    if (this.running.delete(k)) {
      const n = (this.perAgent.get(task.agent) ?? 1) - 1
      if (n <= 0) this.perAgent.delete(task.agent)
      else this.perAgent.set(task.agent, n)
      if (this.running.size === 0) this.onIdle?.()
    }
    if (!this.stopped) this.pump()
    if (task.coordinator !== this.init.selfId) this.noteFinished(task)
    const receipt = {
      v: 1 as const,
      teamId: this.init.teamId,
      taskId: task.taskId,
      attempt: task.attempt,
      agent: task.agent,
      inputHash: hashJson(task.input),
      outputHash: outcome.outputHash,
      exitCode: outcome.exitCode,
      executor: this.init.selfId,
      startedWall: job.startedWall ?? endedWall,
      endedWall
    }
    const bytes = outputBytes(outcome.output)
    const small = bytes <= MAX_REPLICATED_OUTPUT_BYTES
    const result = {
      taskId: task.taskId,
      attempt: task.attempt,
      exitCode: outcome.exitCode,
      outputHash: outcome.outputHash,
      ...(small ? { output: outcome.output } : {}),
      ...(outcome.error === undefined ? {} : { error: outcome.error.slice(0, 4096) }),
      ...(outcome.exitCode === 0 || outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(task.grant === undefined ? {} : { grant: task.grant })
    }
    this.outbox.result({ key: k, coordinator: task.coordinator, receipt, result, bytes: small ? bytes : 0, leaseMs: task.leaseMs })
  }

  /** the slot is free: the coordinator hears it with the others that ended this turn */
  private noteFinished (task: OfferTask): void {
    const wasEmpty = this.finishes.size === 0
    const list = this.finishes.get(task.coordinator)
    if (list === undefined) this.finishes.set(task.coordinator, [{ taskId: task.taskId, attempt: task.attempt }])
    else list.push({ taskId: task.taskId, attempt: task.attempt })
    if (wasEmpty) this.defer(() => { this.sendFinishes() })
  }

  private sendFinishes (): void {
    if (this.finishes.size === 0) return
    const all = this.finishes
    this.finishes = new Map()
    for (const [coordinator, tasks] of all) {
      const others = this.othersFor(coordinator)
      if (tasks.length === 1) {
        this.init.report(coordinator, { t: 'finished', ...tasks[0], others })
        continue
      }
      for (let i = 0; i < tasks.length; i += MAX_FINISHES_PER_MESSAGE) {
        this.init.report(coordinator, { t: 'finishes', tasks: tasks.slice(i, i + MAX_FINISHES_PER_MESSAGE), others })
      }
    }
  }

  private log (task: OfferTask, line: string): void {
    let entry = this.logs.get(task.taskId)
    if (entry === undefined) {
      if (this.logs.size >= MAX_LOGGED_TASKS) this.logs.delete(this.logs.keys().next().value as string)
      entry = { lines: [], truncated: false }
      this.logs.set(task.taskId, entry)
    }
    if (entry.lines.length >= MAX_LOG_LINES) {
      entry.lines.shift()
      entry.truncated = true
    }
    entry.lines.push(line.length > 4_096 ? `${line.slice(0, 4_093)}...` : line)
    this.init.onLog?.(task.taskId, line)
    if (task.coordinator !== this.init.selfId) this.init.report(task.coordinator, { t: 'log', taskId: task.taskId, lines: [line.length > 4_096 ? `${line.slice(0, 4_093)}...` : line] })
  }

  /** tells each coordinator its leases still hold; re-replicates leases now and then */
  private renew (): void {
    const now = this.clock.now()
    const drafts: Array<OpDraft<TaskLeaseBody>> = []
    for (const job of this.running.values()) {
      const { task } = job
      job.expiresWall = now + task.leaseMs
      this.init.report(task.coordinator, { t: 'renew', taskId: task.taskId, attempt: task.attempt, expiresWall: job.expiresWall })
      if (now - (job.lastReplicated ?? 0) >= task.leaseMs * REPLICATE_LEASE_FRACTION) {
        job.lastReplicated = now
        drafts.push(taskDrafts.lease({ taskId: task.taskId, attempt: task.attempt, expiresWall: job.expiresWall, ...(job.startedWall === undefined ? {} : { startedWall: job.startedWall }) }))
      }
    }
    for (const d of drafts) this.outbox.lease(key(d.body.taskId, d.body.attempt), d)
    // an attempt whose result is not durable yet is still held here: its coordinator waits for it
    let held = this.running.size
    for (const f of this.outbox.pending()) {
      const { taskId, attempt } = f.result
      this.init.report(f.coordinator, { t: 'renew', taskId, attempt, expiresWall: now + f.leaseMs })
      held++
    }
    if (held === 0) {
      this.renewTimer?.clear()
      this.renewTimer = undefined
    }
  }
}

function outputBytes (output: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(output) ?? '', 'utf8')
  } catch {
    return Infinity
  }
}

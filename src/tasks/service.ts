/**
 * The task service: what the daemon's API calls for `paired submit` and `paired task …`,
 * and the glue between the coordinator, the executor, the task links, the replicated
 * task records and reputation.
 */
import { logger } from '@libp2p/logger'
import type {
  Role, TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskResultDoc, TaskStateName, TaskSubmit, TaskSummaryDoc,
  TaskVerifyDoc
} from '../model/docs.js'
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../errors.js'
import type { PairedLibp2p } from '../node/create-node.js'
import type { Capacity, PeerState } from '../presence/index.js'
import { ReputationBook } from '../reputation/index.js'
import type { ReputationPolicy } from '../reputation/index.js'
import {
  TASK_PRIORITIES, committedResult, createTask, dissenters, isTerminalState, resultProblem, type TaskPriority, type TaskRecord,
  type TaskResult
} from '../state/crdt/index.js'
import { TASK_KINDS, taskDrafts, type Op, type OpBatch, type OpDraft, type TaskResultBody, type TaskSpecBody } from '../state/ops/index.js'
import type { PairedDb, TaskChange } from '../state/store/index.js'
import type { TeamState } from '../state/service.js'
import type { Signer } from '../team/index.js'
import { AgentNotServedError, AgentRegistry, notServed, type AgentsConfig } from './agents/index.js'
import { DEFAULT_RETRIES, MAX_LOGGED_TASKS, MAX_LOG_LINES } from './constants.js'
import { Coordinator } from './coordinator.js'
import { Executor } from './executor.js'
import { newTaskId } from './ids.js'
import { TaskLinks } from './links.js'
import type { TaskMessage } from './messages.js'
import { explainTask } from './explain.js'
import { verifyGrant } from './grant.js'
import { judgeTaskOps } from './judge.js'
import type { Candidate } from './placement.js'
import { verifyReceipt } from './receipt.js'

const log = logger('paired:tasks')
/** a label a daemon advertises while it takes no work, with the reason */
export const PAUSED_LABEL = 'paired.paused'

export interface TaskServiceInit {
  node: PairedLibp2p
  db: PairedDb
  teamId: string
  selfId: string
  signer: Signer
  state: TeamState
  slots: number
  labels: Record<string, string>
  agents: AgentsConfig
  leaseMs: number
  /** replicate work placed on executors that have not earned trust yet. @default false */
  adaptiveReplicas?: boolean
  maxPriority: Record<Role, TaskPriority>
  reputation: Partial<ReputationPolicy>
  /** why this daemon takes no work now, if it does not (battery, hours) */
  paused: () => string | undefined
  isVerified: (peer: string) => boolean
  /** current members' peer ids (this daemon included) */
  members: () => string[]
  roleOf: (peer: string) => Role | undefined
  /** a member's name (for `paired task explain`) */
  nameOf?: (peer: string) => string | undefined
  peerState: (peer: string) => PeerState | undefined
  capacityOf: (peer: string) => Capacity | undefined
  rttOf: (peer: string) => number | null
  emit: (type: string, data: unknown) => void
  wanted: () => boolean
  /** a line in the daemon's log (forgeries are reported there) */
  line?: (text: string) => void
}

export class TaskService implements TaskControl {
  readonly agents: AgentRegistry
  readonly reputation: ReputationBook
  readonly executor: Executor
  readonly coordinator: Coordinator
  private readonly links: TaskLinks
  /** logs of tasks this daemon coordinates that ran elsewhere */
  private readonly remoteLogs = new Map<string, { lines: string[], truncated: boolean }>()

  constructor (private readonly init: TaskServiceInit) {
    this.agents = new AgentRegistry(init.agents)
    this.reputation = new ReputationBook({
      db: init.db,
      teamId: init.teamId,
      policy: init.reputation,
      onStatus: (peer, from, to, view) => {
        if (to === 'quarantined' || to === 'banned') {
          log('peer %s %s (reputation %d)', peer, to, view.score)
          init.emit(`peer:${to}`, { peerId: peer, from, score: view.score })
        }
      }
    })
    this.links = new TaskLinks({
      node: init.node,
      isVerified: init.isVerified,
      onMessage: (peer, msg) => { this.onMessage(peer, msg) },
      onInvalid: peer => { this.reputation.behaviour(peer, 'protocol-violation') },
      onFlood: peer => { this.reputation.behaviour(peer, 'flood') }
    })
    this.executor = new Executor({
      selfId: init.selfId,
      teamId: init.teamId,
      signer: init.signer,
      agents: this.agents,
      slots: () => init.slots,
      paused: init.paused,
      write: async drafts => await init.state.write(drafts),
      report: (coordinator, msg) => { this.report(coordinator, msg) },
      onLog: (taskId, line) => { if (init.wanted()) init.emit('task:log', { taskId, line }) },
      // a slot freed here: this daemon's own pending tasks may take it at once
      onLoad: () => { this.coordinator?.schedule() }
    })
    this.coordinator = new Coordinator({
      selfId: init.selfId,
      signer: init.signer,
      leaseMs: init.leaseMs,
      executor: this.executor,
      links: this.links,
      candidates: () => this.candidates(),
      capacityStamp: peer => init.capacityOf(peer),
      peerState: init.peerState,
      liveMembers: () => init.members().filter(p => p === init.selfId || init.peerState(p) === 'alive' || init.peerState(p) === 'suspect'),
      reputation: this.reputation,
      write: async drafts => await init.state.write(drafts),
      ingest: async batch => { await init.state.ingest(batch) },
      openTasks: () => this.openTasks(),
      adaptive: init.adaptiveReplicas === true
    })
  }

  async start (): Promise<void> {
    await this.reputation.start()
    this.init.state.store.onTasks = (changes, ops) => { this.onTasks(changes, ops) }
    await this.links.start()
    this.executor.start(this.init.leaseMs)
    await this.coordinator.start()
  }

  async stop (): Promise<void> {
    this.coordinator.stop()
    await this.executor.stop()
    await this.links.stop()
    this.init.state.store.onTasks = undefined
    await this.reputation.stop()
  }

  /** what goes into this daemon's heartbeat */
  work (): { slots: number, running: number, queued: number, agents: string[], labels: Record<string, string> } {
    const paused = this.init.paused()
    return {
      slots: this.init.slots,
      running: this.executor.runningCount,
      queued: this.executor.queuedCount,
      agents: this.agents.names(),
      labels: paused === undefined ? this.init.labels : { ...this.init.labels, [PAUSED_LABEL]: paused }
    }
  }

  /** presence says a peer changed state */
  onPeerState (peer: string, state: PeerState): void {
    if (state === 'dead' || state === 'left') {
      this.links.dropPeer(peer)
      this.coordinator.onPeerGone(peer)
    }
  }

  private async * openTasks (): AsyncGenerator<TaskRecord> {
    for await (const record of this.init.state.store.tasks()) if (!isTerminalState(record.state)) yield record
  }

  // --- candidates for placement -------------------------------------------------------

  private candidates (): Candidate[] {
    const out: Candidate[] = []
    for (const peer of this.init.members()) {
      const self = peer === this.init.selfId
      const cap = this.init.capacityOf(peer)
      if (!self && cap === undefined) continue
      const state = self ? 'alive' : this.init.peerState(peer)
      if (state === undefined) continue
      const labels = self ? this.work().labels : cap?.labels ?? {}
      const paused = labels[PAUSED_LABEL]
      const rep = self ? { score: 1, status: 'trusted' as const } : this.reputation.view(peer)
      out.push({
        peerId: peer,
        self,
        state,
        agents: self ? this.agents.names() : cap?.agents ?? [],
        labels,
        cores: cap?.cores ?? 1,
        load1: cap?.load1 ?? 0,
        memFreeMb: cap?.memFreeMb ?? 0,
        slots: self ? this.init.slots : cap?.slots ?? 0,
        running: self ? this.executor.runningCount : cap?.running ?? 0,
        queued: self ? this.executor.queuedCount : cap?.queued ?? 0,
        inflight: 0,
        ...(self ? {} : {}),
        reputation: rep,
        rttMs: self ? 0 : this.init.rttOf(peer),
        ...(paused === undefined ? {} : { paused })
      })
    }
    return out
  }

  // --- messages ------------------------------------------------------------------------

  private report (coordinator: string, msg: TaskMessage): void {
    if (coordinator === this.init.selfId) {
      // our own coordinator sees results through the store; only lease news goes direct
      if (msg.t === 'started' || msg.t === 'renew') this.coordinator.onMessage(coordinator, msg)
      return
    }
    this.links.send(coordinator, msg).catch(() => { /* the result replicates anyway */ })
  }

  private onMessage (peer: string, msg: TaskMessage): void {
    switch (msg.t) {
      case 'offer': {
        let reply: { accepted: boolean, reason?: string, startedWall?: number }
        const role = this.init.roleOf(peer)
        if (msg.task.coordinator !== peer) {
          reply = { accepted: false, reason: 'an offer must come from its coordinator' }
        } else if (role === undefined || !this.mayUse(this.init.roleOf(msg.task.submitter ?? peer) ?? role, msg.task.priority)) {
          reply = { accepted: false, reason: `a ${this.init.roleOf(msg.task.submitter ?? peer) ?? 'non-member'} may not submit at ${msg.task.priority} priority` }
        } else if (msg.task.grant?.coordinator !== peer || !verifyGrant(msg.task.grant, { taskId: msg.task.taskId, attempt: msg.task.attempt, executor: this.init.selfId }).ok) {
          // its result would not count: do not run it
          reply = { accepted: false, reason: 'the offer carries no valid lease grant from its coordinator' }
        } else {
          reply = this.executor.offer(msg.task)
        }
        this.links.send(peer, { t: 'reply', id: msg.id, ...reply, others: this.executor.othersFor(peer) }).catch(() => {})
        return
      }
      case 'cancel':
        // only the coordinator of an attempt may stop it this way (anyone else: a cancel op)
        this.executor.cancel(msg.taskId, peer)
        return
      case 'logs': {
        const logs = this.localLogs(msg.taskId)
        this.links.send(peer, { t: 'reply', id: msg.id, lines: logs?.lines ?? [], truncated: logs?.truncated ?? false }).catch(() => {})
        return
      }
      case 'log': {
        // only for a task this daemon coordinates, from a machine running it
        if (!this.coordinator.isExecutorOf(msg.taskId, peer)) return
        let entry = this.remoteLogs.get(msg.taskId)
        if (entry === undefined) {
          if (this.remoteLogs.size >= MAX_LOGGED_TASKS) this.remoteLogs.delete(this.remoteLogs.keys().next().value as string)
          entry = { lines: [], truncated: false }
          this.remoteLogs.set(msg.taskId, entry)
        }
        for (const line of msg.lines) {
          entry.lines.push(line)
          if (this.init.wanted()) this.init.emit('task:log', { taskId: msg.taskId, line })
        }
        if (entry.lines.length > MAX_LOG_LINES) {
          entry.lines.splice(0, entry.lines.length - MAX_LOG_LINES)
          entry.truncated = true
        }
        return
      }
      default:
        this.coordinator.onMessage(peer, msg)
    }
  }

  private mayUse (role: Role, priority: TaskPriority): boolean {
    const max = this.init.maxPriority[role] ?? 'normal'
    return TASK_PRIORITIES.indexOf(priority) >= TASK_PRIORITIES.indexOf(max)
  }

  // --- the replicated records ------------------------------------------------------------

  private onTasks (changes: TaskChange[], ops: Op[]): void {
    const records = new Map(changes.map(c => [c.after.taskId, c.after]))
    // reputation: what each op says about its author (see judge.ts)
    const judged = new Set<string>()
    for (const op of ops) if (op.kind === 'task:result') judged.add(`${(op.body as TaskResultBody).taskId}\n${op.author}`)
    for (const verdict of judgeTaskOps(ops, records, this.init.selfId)) {
      if ('outcome' in verdict) {
        this.reputation.outcome(verdict.peer, verdict.outcome)
        continue
      }
      this.reputation.behaviour(verdict.peer, 'protocol-violation')
      this.init.line?.(`protocol violation by ${verdict.peer} on task ${verdict.taskId}: ${verdict.violation}`)
    }
    for (const { before, after } of changes) {
      this.coordinator.observe(after)
      if (after.cancelled && before?.cancelled !== true) this.executor.cancel(after.taskId)
      if (after.state === 'succeeded' && before?.state !== 'succeeded') {
        // dissenters whose result came before the vote was decided
        for (const peer of dissenters(after)) {
          if (peer !== this.init.selfId && !judged.has(`${after.taskId}\n${peer}`)) this.reputation.outcome(peer, 'outvoted')
        }
      }
      if (this.init.wanted() && (before === undefined || before.state !== after.state || before.executor !== after.executor || before.attempt !== after.attempt)) {
        this.init.emit('task:updated', { ...summary(after), startedWall: startedWall(after), result: resultDoc(committedResult(after)), waiting: this.coordinator.explain(after.taskId)?.waiting ?? null })
      }
    }
  }

  // --- TaskControl --------------------------------------------------------------------

  private draftOf (spec: TaskSubmit): { taskId: string, draft: OpDraft, body: TaskSpecBody } {
    const priority = spec.priority ?? 'normal'
    const role = this.init.roleOf(this.init.selfId) ?? 'member'
    if (!this.mayUse(role, priority)) {
      throw new PermissionDeniedError(`a ${role} may submit at most at ${this.init.maxPriority[role]} priority, not ${priority}`)
    }
    const body: TaskSpecBody = {
      agent: spec.agent,
      input: spec.input ?? null,
      priority,
      ...(spec.labels === undefined || Object.keys(spec.labels).length === 0 ? {} : { labels: spec.labels }),
      ...(spec.needs === undefined || Object.keys(spec.needs).length === 0 ? {} : { needs: spec.needs }),
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
      ...(spec.retries === undefined ? {} : { retries: spec.retries }),
      ...(spec.replicas === undefined || spec.replicas === 1 ? {} : { replicas: spec.replicas })
    }
    this.assertServed(spec.agent)
    const taskId = newTaskId()
    try {
      return { taskId, draft: taskDrafts.create(taskId, body), body }
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }

  /**
   * Refuses a task that no member can run, when every member's agents are known (an
   * offline member might serve it: then the task waits, and `explain` says why).
   */
  private assertServed (agent: string): void {
    if (this.agents.has(agent)) return
    const candidates = this.candidates()
    if (candidates.some(c => c.agents.includes(agent))) return
    if (candidates.length < this.init.members().length) return
    const served = [...new Set(candidates.flatMap(c => c.agents))].sort()
    const local = notServed(this.agents, agent).message
    throw new AgentNotServedError(candidates.length === 1 ? local : `no member serves agent "${agent}" (members serve: ${served.join(', ')}); here: ${local}`)
  }

  private provisional (taskId: string, body: TaskSpecBody): TaskRecord {
    return createTask(taskId, { ...body, submitter: this.init.selfId, createdHlc: { wall: Date.now(), logical: 0, node: this.init.selfId } })
  }

  async taskSubmit (spec: TaskSubmit): Promise<TaskDoc> {
    const { taskId, draft, body } = this.draftOf(spec)
    // offers go out while the record is being written: a start does not wait for the disk
    this.coordinator.submit(this.provisional(taskId, body))
    try {
      await this.init.state.write([draft])
    } catch (err) {
      this.coordinator.forget(taskId)
      throw err
    }
    return await this.taskGet(taskId)
  }

  async taskSubmitMany (specs: TaskSubmit[]): Promise<Array<{ taskId: string }>> {
    const drafts = specs.map(spec => this.draftOf(spec))
    for (const d of drafts) this.coordinator.submit(this.provisional(d.taskId, d.body))
    try {
      await this.init.state.write(drafts.map(d => d.draft))
    } catch (err) {
      for (const d of drafts) this.coordinator.forget(d.taskId)
      throw err
    }
    return drafts.map(d => ({ taskId: d.taskId }))
  }

  async taskList (filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]> {
    const out: TaskSummaryDoc[] = []
    for await (const record of this.init.state.store.tasks()) {
      if (filter.state !== undefined && record.state !== filter.state) continue
      out.push(summary(record))
    }
    out.sort((a, b) => b.createdWall - a.createdWall || (a.taskId < b.taskId ? -1 : 1))
    return out.slice(0, filter.limit ?? 1000)
  }

  private async record (taskId: string): Promise<TaskRecord> {
    const record = await this.init.state.store.task(taskId)
    if (record === undefined) throw new NotFoundError(`no task ${taskId}`)
    return record
  }

  async taskGet (taskId: string): Promise<TaskDoc> {
    return this.doc(await this.record(taskId))
  }

  private doc (record: TaskRecord): TaskDoc {
    const { spec } = record
    return {
      ...summary(record),
      input: spec.input,
      labels: { ...spec.labels },
      needs: { ...spec.needs },
      timeoutMs: spec.timeoutMs ?? null,
      retries: spec.retries ?? DEFAULT_RETRIES,
      replicas: record.replicas,
      coordinator: record.coordinator.peer,
      cancelled: record.cancelled,
      cancelRequests: [...record.cancelRequests],
      failRequests: [...record.failRequests],
      result: resultDoc(committedResult(record)),
      results: Object.values(record.results).map(r => resultDoc(r, resultProblem(r, record)) as TaskResultDoc),
      leases: Object.values(record.leases).map(l => ({ executor: l.executor, attempt: l.attempt, expiresWall: l.expiresWall, startedWall: l.startedWall ?? null })),
      startedWall: startedWall(record),
      waiting: record.state === 'pending' ? this.coordinator.explain(record.taskId)?.waiting ?? null : null
    }
  }

  async taskCancel (taskId: string): Promise<TaskDoc> {
    const record = await this.record(taskId)
    if (record.spec.submitter !== this.init.selfId) {
      throw new PermissionDeniedError(`only the machine that submitted task ${taskId} (${record.spec.submitter}) can cancel it`)
    }
    if (!isTerminalState(record.state)) await this.init.state.write([taskDrafts.cancel(taskId)])
    return await this.taskGet(taskId)
  }

  async taskExplain (taskId: string): Promise<TaskExplainDoc> {
    const record = await this.record(taskId)
    return explainTask({
      record,
      tracked: this.coordinator.explain(taskId),
      placementNow: () => this.coordinator.placementFor(record),
      selfId: this.init.selfId,
      nameOf: peer => this.init.nameOf?.(peer)
    })
  }

  private localLogs (taskId: string): { lines: string[], truncated: boolean } | undefined {
    return this.executor.logsOf(taskId) ?? this.remoteLogs.get(taskId)
  }

  async taskLogs (taskId: string): Promise<TaskLogsDoc> {
    const record = await this.record(taskId)
    const local = this.localLogs(taskId)
    if (local !== undefined) return { taskId, lines: [...local.lines], truncated: local.truncated, source: this.init.selfId }
    const executor = record.executor
    if (executor === undefined || executor === this.init.selfId) return { taskId, lines: [], truncated: false, source: null }
    try {
      const reply = await this.links.request(executor, { t: 'logs', id: this.links.id(), taskId }, 5_000)
      return { taskId, lines: reply.lines ?? [], truncated: reply.truncated === true, source: executor }
    } catch (err) {
      log('logs of %s from %s: %s', taskId, executor, (err as Error).message)
      return { taskId, lines: [], truncated: false, source: null }
    }
  }

  async taskVerify (taskId: string): Promise<TaskVerifyDoc> {
    const record = await this.record(taskId)
    const committed = committedResult(record)
    if (committed === undefined) return { taskId, ok: false, reason: `no committed result (task is ${record.state})`, executor: null, receipt: null }
    const check = verifyReceipt(committed.receipt, {
      teamId: this.init.teamId,
      taskId,
      attempt: committed.attempt,
      executor: committed.executor,
      input: record.spec.input,
      ...(committed.output === undefined ? {} : { output: committed.output })
    })
    if (check.ok && (committed.receipt as { outputHash?: unknown }).outputHash !== committed.outputHash) {
      return { taskId, ok: false, reason: 'the receipt does not name the committed output', executor: committed.executor, receipt: committed.receipt ?? null }
    }
    return { taskId, ok: check.ok, ...(check.ok ? {} : { reason: check.reason }), executor: committed.executor, receipt: committed.receipt ?? null }
  }

  /** is `kind` a task fact (for callers filtering ops) */
  static isTaskOp (op: Op): boolean { return TASK_KINDS.has(op.kind) }

  /** ingest a result batch directly (tests) */
  async ingest (batch: OpBatch): Promise<void> { await this.init.state.ingest(batch) }
}

function summary (record: TaskRecord): TaskSummaryDoc {
  return {
    taskId: record.taskId,
    agent: record.spec.agent,
    state: record.state,
    submitter: record.spec.submitter,
    executor: record.executor ?? null,
    priority: record.spec.priority,
    attempt: record.attempt,
    createdWall: record.spec.createdHlc.wall
  }
}

function startedWall (record: TaskRecord): number | null {
  const lease = record.lease
  return lease?.startedWall ?? null
}

function resultDoc (r: TaskResult | undefined, notCounted?: string): TaskResultDoc | null {
  if (r === undefined) return null
  return {
    executor: r.executor,
    attempt: r.attempt,
    exitCode: r.exitCode,
    outputHash: r.outputHash,
    ...(r.output === undefined ? {} : { output: r.output }),
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.receipt === undefined ? {} : { receipt: r.receipt }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(notCounted === undefined ? {} : { notCounted })
  }
}

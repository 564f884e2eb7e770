/**
 * The task service: what the daemon's API calls for `paired submit` and `paired task …`,
 * and the glue between the coordinator, the executor, the task links, the replicated
 * task records and reputation.
 *
 * Its rooms: `policy.ts` (who may submit at which priority, what an offer must carry),
 * `projection.ts` (a record → the API's documents), `dispatch.ts` (the task protocol's
 * messages), `watch.ts` (what changed records set off), `candidates.ts` (the placement's
 * view of the team). Its network edges (the task links, presence, membership) are
 * parameters, so a unit test builds it with fakes and a store in a temp dir.
 */
import { logger } from '@libp2p/logger'
import type {
  Role, TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskStateName, TaskSubmit, TaskSummaryDoc, TaskVerifyDoc
} from '../model/docs.js'
import { InvalidArgumentError, NotFoundError, PermissionDeniedError } from '../errors.js'
import type { PairedLibp2p } from '../node/create-node.js'
import type { Capacity, PeerState } from '../presence/index.js'
import { ReputationBook } from '../reputation/index.js'
import type { ReputationPolicy } from '../reputation/index.js'
import { createTask, isTerminalState, type TaskPriority, type TaskRecord } from '../state/crdt/index.js'
import { TASK_KINDS, taskDrafts, type Op, type OpBatch, type OpDraft, type TaskSpecBody } from '../state/ops/index.js'
import type { PairedDb } from '../state/store/index.js'
import type { TeamState } from '../state/service.js'
import type { Signer } from '../team/index.js'
import { AgentRegistry, type AgentsConfig } from './agents/index.js'
import { PAUSED_LABEL, candidatesOf } from './candidates.js'
import { Coordinator } from './coordinator.js'
import { TaskDispatch, type TaskWire, type WireHandlers } from './dispatch.js'
import { Executor } from './executor.js'
import { explainTask } from './explain.js'
import { newTaskId } from './ids.js'
import { TaskLinks } from './links.js'
import type { Candidate } from './placement.js'
import { submitRefusal, unservedError } from './policy.js'
import { normalizeSubmit } from '../model/task.js'
import { taskDoc, taskList, verifyDoc } from './projection.js'
import { RecordWatch } from './watch.js'

export type { TaskWire, WireHandlers } from './dispatch.js'

const log = logger('paired:tasks')
export { PAUSED_LABEL }

/** the replicated state as the task service uses it: `TeamState`, or a store in a temp dir in unit tests */
export type TaskState = Pick<TeamState, 'store' | 'write' | 'ingest'>

export interface TaskServiceInit {
  /** the node the task protocol runs on; not needed when `links` is given */
  node?: PairedLibp2p
  /** the task protocol's network edge. @default `TaskLinks` over `node` */
  links?: (handlers: WireHandlers) => TaskWire
  db: PairedDb
  teamId: string
  selfId: string
  signer: Signer
  state: TaskState
  slots: number
  labels: Record<string, string>
  agents: AgentsConfig
  leaseMs: number
  /** replicate work placed on executors that have not earned trust yet. @default false */
  adaptiveReplicas?: boolean
  maxPriority: Record<Role, TaskPriority>
  reputation: Partial<ReputationPolicy>
  /** physical clock in ms (a new task's provisional record, reputation). @default Date.now */
  now?: () => number
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

/** the task links over libp2p */
function libp2pLinks (init: TaskServiceInit, handlers: WireHandlers): TaskWire {
  if (init.node === undefined) throw new Error('TaskService needs a node or links')
  return new TaskLinks({ node: init.node, isVerified: init.isVerified, ...handlers })
}

export class TaskService implements TaskControl {
  readonly agents: AgentRegistry
  readonly reputation: ReputationBook
  readonly executor: Executor
  readonly coordinator: Coordinator
  private readonly links: TaskWire
  private readonly dispatch: TaskDispatch
  private readonly watch: RecordWatch
  private readonly now: () => number

  constructor (private readonly init: TaskServiceInit) {
    this.now = init.now ?? Date.now
    this.agents = new AgentRegistry(init.agents)
    this.reputation = new ReputationBook({
      db: init.db,
      teamId: init.teamId,
      policy: init.reputation,
      ...(init.now === undefined ? {} : { now: init.now }),
      onStatus: (peer, from, to, view) => {
        if (to === 'quarantined' || to === 'banned') {
          log('peer %s %s (reputation %d)', peer, to, view.score)
          init.emit(`peer:${to}`, { peerId: peer, from, score: view.score })
        }
      }
    })
    const handlers: WireHandlers = {
      onMessage: (peer, msg) => { this.dispatch.onMessage(peer, msg) },
      onInvalid: peer => { this.reputation.behaviour(peer, 'protocol-violation') },
      onFlood: peer => { this.reputation.behaviour(peer, 'flood') }
    }
    this.links = init.links?.(handlers) ?? libp2pLinks(init, handlers)
    this.executor = new Executor({
      selfId: init.selfId,
      teamId: init.teamId,
      signer: init.signer,
      agents: this.agents,
      slots: () => init.slots,
      paused: init.paused,
      write: async drafts => await init.state.write(drafts),
      report: (coordinator, msg) => { this.dispatch.report(coordinator, msg) },
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
    this.dispatch = new TaskDispatch({
      selfId: init.selfId,
      caps: init.maxPriority,
      roleOf: init.roleOf,
      wire: this.links,
      executor: this.executor,
      coordinator: this.coordinator,
      emit: init.emit,
      wanted: init.wanted
    })
    this.watch = new RecordWatch({
      selfId: init.selfId,
      reputation: this.reputation,
      coordinator: this.coordinator,
      executor: this.executor,
      emit: init.emit,
      wanted: init.wanted,
      ...(init.line === undefined ? {} : { line: init.line })
    })
  }

  async start (): Promise<void> {
    await this.reputation.start()
    this.init.state.store.onTasks = (changes, ops) => { this.watch.onTasks(changes, ops) }
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
    const { init } = this
    return candidatesOf({
      selfId: init.selfId,
      members: init.members(),
      self: this.work(),
      capacityOf: init.capacityOf,
      peerState: init.peerState,
      reputationOf: peer => this.reputation.view(peer),
      rttOf: init.rttOf
    })
  }

  // --- TaskControl --------------------------------------------------------------------

  private draftOf (spec: TaskSubmit): { taskId: string, draft: OpDraft, body: TaskSpecBody } {
    const body = normalizeSubmit(spec)
    const role = this.init.roleOf(this.init.selfId) ?? 'member'
    const refusal = submitRefusal(this.init.maxPriority, role, body.priority)
    if (refusal !== undefined) throw new PermissionDeniedError(refusal)
    const unserved = unservedError(spec.agent, this.agents, this.candidates(), this.init.members().length)
    if (unserved !== undefined) throw unserved
    const taskId = newTaskId()
    try {
      return { taskId, draft: taskDrafts.create(taskId, body), body }
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }

  /** the record the coordinator places while the real one is being written */
  private provisional (taskId: string, body: TaskSpecBody): TaskRecord {
    return createTask(taskId, { ...body, submitter: this.init.selfId, createdHlc: { wall: this.now(), logical: 0, node: this.init.selfId } })
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
    return await taskList(this.init.state.store.tasks(), filter)
  }

  private async record (taskId: string): Promise<TaskRecord> {
    const record = await this.init.state.store.task(taskId)
    if (record === undefined) throw new NotFoundError(`no task ${taskId}`)
    return record
  }

  async taskGet (taskId: string): Promise<TaskDoc> {
    const record = await this.record(taskId)
    return taskDoc(record, this.coordinator.explain(record.taskId)?.waiting)
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

  async taskLogs (taskId: string): Promise<TaskLogsDoc> {
    const record = await this.record(taskId)
    const local = this.dispatch.localLogs(taskId)
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
    return verifyDoc(await this.record(taskId), this.init.teamId)
  }

  /** is `kind` a task fact (for callers filtering ops) */
  static isTaskOp (op: Op): boolean { return TASK_KINDS.has(op.kind) }

  /** ingest a result batch directly (tests) */
  async ingest (batch: OpBatch): Promise<void> { await this.init.state.ingest(batch) }
}

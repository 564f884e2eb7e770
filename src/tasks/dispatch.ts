/**
 * The task protocol's messages as this daemon answers them: offers (checked by
 * `policy.ts`, then handed to the executor), cancels from a coordinator, log queries and
 * log lines, and the rest (lease news, finishes) to the coordinator. Also the way back:
 * the executor's reports to a coordinator. The network edge is `TaskWire` (`TaskLinks`
 * over libp2p, or a fake in unit tests).
 */
import type { Role } from '../model/docs.js'
import { MAX_LOGGED_TASKS, MAX_LOG_LINES } from './constants.js'
import type { Coordinator } from './coordinator.js'
import type { Executor } from './executor.js'
import type { LinksInit, TaskLinks } from './links.js'
import type { TaskMessage } from './messages.js'
import { offerRefusal, type PriorityCaps } from './policy.js'

/** the task protocol's network edge, as the service uses it */
export type TaskWire = Pick<TaskLinks, 'start' | 'stop' | 'send' | 'request' | 'id' | 'dropPeer'>

/** what the network edge calls back with */
export type WireHandlers = Pick<LinksInit, 'onMessage' | 'onInvalid' | 'onFlood'>

/** a task's log lines kept here */
export interface LogLines {
  lines: string[]
  truncated: boolean
}

export interface DispatchInit {
  selfId: string
  caps: PriorityCaps
  roleOf: (peer: string) => Role | undefined
  wire: Pick<TaskWire, 'send'>
  executor: Pick<Executor, 'offer' | 'othersFor' | 'cancel' | 'logsOf'>
  coordinator: Pick<Coordinator, 'onMessage' | 'isExecutorOf'>
  /** `task:log` events go here; `wanted()` false skips them */
  emit: (type: string, data: unknown) => void
  wanted: () => boolean
}

export class TaskDispatch {
  /** logs of tasks this daemon coordinates that ran elsewhere */
  private readonly remoteLogs = new Map<string, LogLines>()

  constructor (private readonly init: DispatchInit) {}

  /** a message from `peer` (a verified member: the links checked) */
  onMessage (peer: string, msg: TaskMessage): void {
    const { executor, coordinator, wire } = this.init
    switch (msg.t) {
      case 'offer': {
        const refusal = offerRefusal(msg.task, peer, this.init)
        const reply = refusal === undefined ? executor.offer(msg.task) : { accepted: false, reason: refusal }
        wire.send(peer, { t: 'reply', id: msg.id, ...reply, others: executor.othersFor(peer) }).catch(() => {})
        return
      }
      case 'offers': {
        // one pass of the coordinator's placement: one answer per attempt, in order
        const answers = msg.tasks.map(task => {
          const refusal = offerRefusal(task, peer, this.init)
          return refusal === undefined ? executor.offer(task) : { accepted: false, reason: refusal }
        })
        wire.send(peer, { t: 'reply', id: msg.id, answers, others: executor.othersFor(peer) }).catch(() => {})
        return
      }
      case 'cancel':
        // only the coordinator of an attempt may stop it this way (anyone else: a cancel op)
        executor.cancel(msg.taskId, peer)
        return
      case 'logs': {
        const logs = this.localLogs(msg.taskId)
        wire.send(peer, { t: 'reply', id: msg.id, lines: logs?.lines ?? [], truncated: logs?.truncated ?? false }).catch(() => {})
        return
      }
      case 'log':
        // only for a task this daemon coordinates, from a machine running it
        if (coordinator.isExecutorOf(msg.taskId, peer)) this.keepLines(msg.taskId, msg.lines)
        return
      default:
        coordinator.onMessage(peer, msg)
    }
  }

  /** the executor reports to the coordinator of an attempt */
  report (to: string, msg: TaskMessage): void {
    if (to === this.init.selfId) {
      // our own coordinator sees results through the store; only lease news goes direct
      if (msg.t === 'started' || msg.t === 'renew') this.init.coordinator.onMessage(to, msg)
      return
    }
    this.init.wire.send(to, msg).catch(() => { /* the result replicates anyway */ })
  }

  /** the log of a task run here, or of one this daemon coordinates that ran elsewhere */
  localLogs (taskId: string): LogLines | undefined {
    return this.init.executor.logsOf(taskId) ?? this.remoteLogs.get(taskId)
  }

  /** keeps the last `MAX_LOG_LINES` of at most `MAX_LOGGED_TASKS` tasks, oldest task dropped first */
  private keepLines (taskId: string, lines: string[]): void {
    let entry = this.remoteLogs.get(taskId)
    if (entry === undefined) {
      if (this.remoteLogs.size >= MAX_LOGGED_TASKS) this.remoteLogs.delete(this.remoteLogs.keys().next().value as string)
      entry = { lines: [], truncated: false }
      this.remoteLogs.set(taskId, entry)
    }
    for (const line of lines) {
      entry.lines.push(line)
      if (this.init.wanted()) this.init.emit('task:log', { taskId, line })
    }
    if (entry.lines.length > MAX_LOG_LINES) {
      entry.lines.splice(0, entry.lines.length - MAX_LOG_LINES)
      entry.truncated = true
    }
  }
}

/**
 * Messages of the task protocol (`/paired/task/1.0.0`). One long-lived stream per pair
 * of daemons carries them both ways, each a length-prefixed JSON frame:
 *
 * | from | message | meaning |
 * |---|---|---|
 * | coordinator | `offer { id, task }` | run this attempt; answered by `reply { id }` |
 * | coordinator | `cancel { taskId }` | stop it (kill the process group) |
 * | anyone | `logs { id, taskId }` | send the logs you hold; answered by `reply { id, lines }` |
 * | executor | `reply { id, accepted, reason?, startedWall?, others? }` | the answer to an offer |
 * | executor | `started { taskId, attempt, startedWall }` | a queued offer began running |
 * | executor | `renew { taskId, attempt, expiresWall }` | still running: extend the lease |
 * | executor | `log { taskId, lines }` | stderr lines of the agent |
 * | executor | `finished { taskId, attempt, others? }` | the agent is done: its slot is free (the result follows) |
 *
 * `others` is how many tasks of other coordinators the executor runs or queues right now,
 * so a coordinator knows the executor's load without waiting for a heartbeat.
 * | executor | `done { taskId, attempt, batch }` | finished: the signed op batch holding its result |
 *
 * Everything is also checked where it lands: a `done` batch is ingested like any gossip
 * (signature, author), so a message can only speed things up, never forge a fact.
 */
import { isObject } from '../model/guards.js'
import { TASK_PRIORITIES, type TaskPriority } from '../state/crdt/index.js'
import { AGENT_NAME_PATTERN, TASK_ID_PATTERN, type OpBatch } from '../state/ops/index.js'
import { grantShapeProblem, type LeaseGrant } from './grant.js'

export interface OfferTask {
  taskId: string
  attempt: number
  agent: string
  input: unknown
  priority: TaskPriority
  timeoutMs?: number
  leaseMs: number
  /** the peer to report to */
  coordinator: string
  /** whose task it is: their role caps its priority */
  submitter?: string
  /** the coordinator's grant of this attempt to the executor: its result carries it */
  grant?: LeaseGrant
}

export type TaskMessage =
  | { t: 'offer', id: number, task: OfferTask }
  | { t: 'cancel', taskId: string }
  | { t: 'logs', id: number, taskId: string }
  | { t: 'reply', id: number, accepted?: boolean, reason?: string, startedWall?: number, others?: number, lines?: string[], truncated?: boolean }
  | { t: 'started', taskId: string, attempt: number, startedWall: number }
  | { t: 'renew', taskId: string, attempt: number, expiresWall: number }
  | { t: 'log', taskId: string, lines: string[] }
  | { t: 'finished', taskId: string, attempt: number, others?: number }
  | { t: 'done', taskId: string, attempt: number, batch: OpBatch }

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
const isWall = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isTaskId = (v: unknown): v is string => typeof v === 'string' && TASK_ID_PATTERN.test(v)
/** a log line longer than this is refused: agents' lines are cut at 4 KiB */
const MAX_LOG_LINE_CHARS = 4_096
const isLines = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 1_000 && v.every(l => typeof l === 'string' && l.length <= MAX_LOG_LINE_CHARS)

function isOfferTask (v: unknown): v is OfferTask {
  return isObject(v) && isTaskId(v.taskId) && isCount(v.attempt) && typeof v.agent === 'string' &&
    AGENT_NAME_PATTERN.test(v.agent) && v.input !== undefined && TASK_PRIORITIES.includes(v.priority as TaskPriority) &&
    (v.timeoutMs === undefined || isCount(v.timeoutMs)) && isCount(v.leaseMs) && typeof v.coordinator === 'string' &&
    (v.submitter === undefined || typeof v.submitter === 'string') && (v.grant === undefined || grantShapeProblem(v.grant) === undefined)
}

/** the message, if `v` is a well-formed one */
export function parseTaskMessage (v: unknown): TaskMessage | undefined {
  if (!isObject(v) || typeof v.t !== 'string') return undefined
  switch (v.t) {
    case 'offer': return isId(v.id) && isOfferTask(v.task) ? v as unknown as TaskMessage : undefined
    case 'cancel': return isTaskId(v.taskId) ? v as unknown as TaskMessage : undefined
    case 'logs': return isId(v.id) && isTaskId(v.taskId) ? v as unknown as TaskMessage : undefined
    case 'reply': return isId(v.id) && (v.lines === undefined || isLines(v.lines)) ? v as unknown as TaskMessage : undefined
    case 'started': return isTaskId(v.taskId) && isCount(v.attempt) && isWall(v.startedWall) ? v as unknown as TaskMessage : undefined
    case 'renew': return isTaskId(v.taskId) && isCount(v.attempt) && isWall(v.expiresWall) ? v as unknown as TaskMessage : undefined
    case 'log': return isTaskId(v.taskId) && isLines(v.lines) ? v as unknown as TaskMessage : undefined
    case 'finished': return isTaskId(v.taskId) && isCount(v.attempt) ? v as unknown as TaskMessage : undefined
    case 'done': return isTaskId(v.taskId) && isCount(v.attempt) && isObject(v.batch) ? v as unknown as TaskMessage : undefined
    default: return undefined
  }
}

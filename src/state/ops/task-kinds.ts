/**
 * Task op kinds: each is one fact of a task's replicated record (see the task lattice in
 * `crdt/task-lattice.ts`). Who may write a fact is fixed by the op's author, so a fact
 * cannot be forged for someone else:
 *
 * | kind | body | author |
 * |---|---|---|
 * | `task:create` | `{ taskId, spec }` (spec without submitter and createdHlc) | the submitter |
 * | `task:lease` | `{ taskId, attempt, expiresWall, startedWall? }` | the executor |
 * | `task:result` | `{ taskId, attempt, exitCode, outputHash, output?, error?, reason?, receipt, grant }` | the executor (it counts only with the coordinator's grant and a receipt that verify) |
 * | `task:retry` | `{ taskId, attempt }` (move to that attempt) | the coordinator |
 * | `task:replicas` | `{ taskId, replicas }` (raise redundancy) | the coordinator |
 * | `task:adopt` | `{ taskId, epoch }` (the author coordinates from now on) | a survivor |
 * | `task:cancel` | `{ taskId }` | any member; only the submitter's cancels (see the task lattice) |
 * | `task:fail` | `{ taskId }` (retry budget spent, or input refused) | any member; only the submitter's or a coordinator's fails |
 */
import { TASK_PRIORITIES, type TaskPriority } from '../crdt/index.js'
import { MAX_OP_BYTES } from './constants.js'
import { InvalidOpError } from './errors.js'
import { hasExactKeys, isPlainObject } from '../../model/guards.js'
import { kvValueBytes, registerOpKind } from './kinds.js'
import type { OpDraft } from './types.js'

export const TASK_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** most replicas a task may ask for */
export const MAX_REPLICAS = 7
/** most retries a task may ask for */
export const MAX_RETRIES = 20
/** longest timeout a task may ask for: one day */
export const MAX_TASK_TIMEOUT_MS = 24 * 60 * 60 * 1000
const MAX_LABELS = 32

/** Why an attempt failed, as its agent typed it (the agent runner's reasons). */
export const TASK_FAILURE_REASONS = ['timeout', 'cancelled', 'output-too-large', 'exit', 'spawn', 'invalid-input'] as const
export type TaskFailureReason = typeof TASK_FAILURE_REASONS[number]

/** What a submitter decides about a task (the record adds submitter and createdHlc). */
export interface TaskSpecBody {
  agent: string
  input: unknown
  priority: TaskPriority
  labels?: Record<string, string>
  needs?: { cores?: number, memMb?: number }
  timeoutMs?: number
  retries?: number
  replicas?: number
}

export interface TaskCreateBody { taskId: string, spec: TaskSpecBody }
export interface TaskLeaseBody { taskId: string, attempt: number, expiresWall: number, startedWall?: number }
export interface TaskResultBody {
  taskId: string
  attempt: number
  exitCode: number
  outputHash: string
  output?: unknown
  error?: string
  /** why it failed, as the agent typed it (see `TASK_FAILURE_REASONS`) */
  reason?: TaskFailureReason
  receipt?: unknown
  /** the coordinator's lease grant (see `src/tasks/grant.ts`) */
  grant?: unknown
}
export interface TaskRetryBody { taskId: string, attempt: number }
export interface TaskReplicasBody { taskId: string, replicas: number }
export interface TaskAdoptBody { taskId: string, epoch: number }
export interface TaskIdBody { taskId: string }

export const TASK_KINDS: ReadonlySet<string> = new Set([
  'task:create', 'task:lease', 'task:result', 'task:retry', 'task:replicas', 'task:adopt', 'task:cancel', 'task:fail'
])

function fail (message: string): never {
  throw new InvalidOpError(message)
}

function assertTaskId (id: unknown): asserts id is string {
  if (typeof id !== 'string' || !TASK_ID_PATTERN.test(id)) fail('a task id is 1..64 characters of A-Z a-z 0-9 . _ -')
}

function assertCount (name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be a whole number in ${min}..${max}`)
  }
}

function assertObject (kind: string, body: unknown, required: readonly string[], optional: readonly string[] = []): asserts body is Record<string, unknown> {
  if (!isPlainObject(body) || !hasExactKeys(body, required, optional)) {
    const opt = optional.length > 0 ? ` (and optionally ${optional.join(', ')})` : ''
    fail(`a ${kind} body is exactly { ${required.join(', ')} }${opt}`)
  }
  assertTaskId(body.taskId)
}

/** Throws `InvalidOpError` unless `spec` is a valid task spec body. */
export function assertTaskSpec (spec: unknown): asserts spec is TaskSpecBody {
  if (!isPlainObject(spec) || !hasExactKeys(spec, ['agent', 'input', 'priority'], ['labels', 'needs', 'timeoutMs', 'retries', 'replicas'])) {
    fail('a task spec is { agent, input, priority } and optionally labels, needs, timeoutMs, retries, replicas')
  }
  if (typeof spec.agent !== 'string' || !AGENT_NAME_PATTERN.test(spec.agent)) {
    fail('an agent name is 1..64 characters of a-z 0-9 . _ - starting with a letter or digit')
  }
  if (!TASK_PRIORITIES.includes(spec.priority as TaskPriority)) fail(`a task priority is one of ${TASK_PRIORITIES.join(', ')}`)
  if (spec.input === undefined) fail('a task input cannot be undefined (use null)')
  kvValueBytes(spec.input)
  if (spec.labels !== undefined) {
    if (!isPlainObject(spec.labels)) fail('task labels are an object of strings')
    const entries = Object.entries(spec.labels)
    if (entries.length > MAX_LABELS) fail(`a task has at most ${MAX_LABELS} labels`)
    for (const [k, v] of entries) {
      if (typeof v !== 'string' || k.length === 0 || k.length > 64 || v.length > 256) fail(`task label ${k.slice(0, 64)} must be a string (keys 1..64, values ≤ 256 characters)`)
    }
  }
  if (spec.needs !== undefined) {
    if (!isPlainObject(spec.needs) || !hasExactKeys(spec.needs, [], ['cores', 'memMb'])) fail('task needs are { cores?, memMb? }')
    if (spec.needs.cores !== undefined) assertCount('needs.cores', spec.needs.cores, 0, 4096)
    if (spec.needs.memMb !== undefined) assertCount('needs.memMb', spec.needs.memMb, 0, 64 * 1024 * 1024)
  }
  if (spec.timeoutMs !== undefined) assertCount('timeoutMs', spec.timeoutMs, 1, MAX_TASK_TIMEOUT_MS)
  if (spec.retries !== undefined) assertCount('retries', spec.retries, 0, MAX_RETRIES)
  if (spec.replicas !== undefined) assertCount('replicas', spec.replicas, 1, MAX_REPLICAS)
}

function checkSize (opBytes: number): void {
  if (opBytes > MAX_OP_BYTES) fail(`a task op is at most ${MAX_OP_BYTES} bytes encoded`)
}

registerOpKind('task:create', {
  validateBody (body, opBytes) {
    checkSize(opBytes)
    assertObject('task:create', body, ['taskId', 'spec'])
    assertTaskSpec(body.spec)
  }
})

registerOpKind('task:lease', {
  validateBody (body) {
    assertObject('task:lease', body, ['taskId', 'attempt', 'expiresWall'], ['startedWall'])
    assertCount('attempt', body.attempt, 1, 1_000_000)
    assertCount('expiresWall', body.expiresWall, 0, Number.MAX_SAFE_INTEGER)
    if (body.startedWall !== undefined) assertCount('startedWall', body.startedWall, 0, Number.MAX_SAFE_INTEGER)
  }
})

registerOpKind('task:result', {
  validateBody (body, opBytes) {
    checkSize(opBytes)
    assertObject('task:result', body, ['taskId', 'attempt', 'exitCode', 'outputHash'], ['output', 'error', 'reason', 'receipt', 'grant'])
    assertCount('attempt', body.attempt, 1, 1_000_000)
    assertCount('exitCode', body.exitCode, 0, 255)
    if (typeof body.outputHash !== 'string' || !/^[0-9a-f]{64}$/.test(body.outputHash)) fail('outputHash is a sha256 in hex')
    if (body.error !== undefined && (typeof body.error !== 'string' || body.error.length > 4096)) fail('a task error is a string of at most 4096 characters')
    if (body.receipt !== undefined && !isPlainObject(body.receipt)) fail('a receipt is an object')
    if (body.grant !== undefined && !isPlainObject(body.grant)) fail('a grant is an object')
    if (body.reason !== undefined && (body.exitCode === 0 || !(TASK_FAILURE_REASONS as readonly unknown[]).includes(body.reason))) {
      fail(`a failure reason is one of ${TASK_FAILURE_REASONS.join(', ')}, on a failed result only`)
    }
  }
})

registerOpKind('task:retry', {
  validateBody (body) {
    assertObject('task:retry', body, ['taskId', 'attempt'])
    assertCount('attempt', body.attempt, 2, 1_000_000)
  }
})

registerOpKind('task:replicas', {
  validateBody (body) {
    assertObject('task:replicas', body, ['taskId', 'replicas'])
    assertCount('replicas', body.replicas, 1, MAX_REPLICAS)
  }
})

registerOpKind('task:adopt', {
  validateBody (body) {
    assertObject('task:adopt', body, ['taskId', 'epoch'])
    assertCount('epoch', body.epoch, 1, 1_000_000)
  }
})

for (const kind of ['task:cancel', 'task:fail']) {
  registerOpKind(kind, { validateBody (body) { assertObject(kind, body, ['taskId']) } })
}

/** Drafts of task facts for a local write; each checks its body like a replica would. */
export const taskDrafts = {
  create (taskId: string, spec: TaskSpecBody): OpDraft<TaskCreateBody> {
    const body = { taskId, spec }
    assertObject('task:create', body, ['taskId', 'spec'])
    assertTaskSpec(spec)
    return { kind: 'task:create', body }
  },
  lease (body: TaskLeaseBody): OpDraft<TaskLeaseBody> { return { kind: 'task:lease', body } },
  result (body: TaskResultBody): OpDraft<TaskResultBody> {
    return { kind: 'task:result', body: Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as unknown as TaskResultBody }
  },
  retry (taskId: string, attempt: number): OpDraft<TaskRetryBody> { return { kind: 'task:retry', body: { taskId, attempt } } },
  replicas (taskId: string, replicas: number): OpDraft<TaskReplicasBody> { return { kind: 'task:replicas', body: { taskId, replicas } } },
  adopt (taskId: string, epoch: number): OpDraft<TaskAdoptBody> { return { kind: 'task:adopt', body: { taskId, epoch } } },
  cancel (taskId: string): OpDraft<TaskIdBody> { return { kind: 'task:cancel', body: { taskId } } },
  fail (taskId: string): OpDraft<TaskIdBody> { return { kind: 'task:fail', body: { taskId } } }
}

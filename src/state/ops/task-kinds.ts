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
import {
  MAX_TASK_INPUT_BYTES, TaskAdoptBodySchema, TaskCreateBodySchema, TaskIdBodySchema, TaskLeaseBodySchema,
  TaskReplicasBodySchema, TaskResultBodySchema, TaskRetryBodySchema, taskInputBytes,
  type TaskAdoptBody, type TaskCreateBody, type TaskIdBody, type TaskLeaseBody, type TaskReplicasBody,
  type TaskResultBody, type TaskRetryBody, type TaskSpecBody
} from '../../model/task.js'
import { formatProblem, validator, type SchemaProblem, type TSchema } from '../../model/schema.js'
import { MAX_OP_BYTES } from './constants.js'
import { InvalidOpError } from './errors.js'
import { registerOpKind } from './kinds.js'
import type { OpDraft } from './types.js'

export {
  AGENT_NAME_PATTERN, MAX_TASK_TIMEOUT_MS, TASK_FAILURE_REASONS, TASK_ID_PATTERN,
  MAX_TASK_REPLICAS as MAX_REPLICAS, MAX_TASK_RETRIES as MAX_RETRIES
} from '../../model/task.js'
export type {
  TaskAdoptBody, TaskCreateBody, TaskFailureReason, TaskIdBody, TaskLeaseBody, TaskReplicasBody, TaskResultBody,
  TaskRetryBody, TaskSpecBody
} from '../../model/task.js'

export const TASK_KINDS: ReadonlySet<string> = new Set([
  'task:create', 'task:lease', 'task:result', 'task:retry', 'task:replicas', 'task:adopt', 'task:cancel', 'task:fail'
])

function fail (message: string): never {
  throw new InvalidOpError(message)
}

/** the body check of `kind`: its schema, compiled once; a problem is an `InvalidOpError` naming the field */
function bodyOf<S extends TSchema> (kind: string, schema: S): (body: unknown) => ReturnType<ReturnType<typeof validator<S>>['parse']> {
  const check = validator(schema)
  const toError = (problem: SchemaProblem): Error => new InvalidOpError(`a ${kind} body: ${formatProblem(problem)}`)
  return body => check.parse(body, toError)
}

const createBody = bodyOf('task:create', TaskCreateBodySchema)
const leaseBody = bodyOf('task:lease', TaskLeaseBodySchema)
const resultBody = bodyOf('task:result', TaskResultBodySchema)
const retryBody = bodyOf('task:retry', TaskRetryBodySchema)
const replicasBody = bodyOf('task:replicas', TaskReplicasBodySchema)
const adoptBody = bodyOf('task:adopt', TaskAdoptBodySchema)
const idBody = { 'task:cancel': bodyOf('task:cancel', TaskIdBodySchema), 'task:fail': bodyOf('task:fail', TaskIdBodySchema) }

/**
 * The input's rule (`taskInputBytes`): plain JSON of at most 1 MiB. `encoded` says the
 * whole op was canonically encoded in `opBytes` bytes (so the input is plain JSON, and
 * smaller than the op).
 */
function assertInput (input: unknown, encoded?: { opBytes: number }): void {
  if (input === undefined) fail('a task input cannot be undefined (use null)')
  if (encoded !== undefined && encoded.opBytes <= MAX_TASK_INPUT_BYTES) return
  let bytes: number
  try {
    bytes = taskInputBytes(input)
  } catch (err) {
    fail(`a task input must be plain JSON: ${(err as Error).message}`)
  }
  if (bytes > MAX_TASK_INPUT_BYTES) fail(`a task input is at most 1 MiB (${MAX_TASK_INPUT_BYTES} bytes) encoded; this one is ${bytes}`)
}

/** Throws `InvalidOpError` unless `spec` is a valid task spec body. */
export function assertTaskSpec (spec: unknown): asserts spec is TaskSpecBody {
  createBody({ taskId: 't', spec })
  assertInput((spec as TaskSpecBody).input)
}

function checkSize (opBytes: number): void {
  if (opBytes > MAX_OP_BYTES) fail(`a task op is at most ${MAX_OP_BYTES} bytes encoded`)
}

registerOpKind('task:create', {
  validateBody (body, opBytes) {
    checkSize(opBytes)
    assertInput(createBody(body).spec.input, { opBytes })
  }
})

registerOpKind('task:lease', { validateBody (body) { leaseBody(body) } })

registerOpKind('task:result', {
  validateBody (body, opBytes) {
    checkSize(opBytes)
    const result = resultBody(body)
    if (result.reason !== undefined && result.exitCode === 0) fail('a task:result body: reason is for a failed result only (exitCode 0)')
  }
})

registerOpKind('task:retry', { validateBody (body) { retryBody(body) } })
registerOpKind('task:replicas', { validateBody (body) { replicasBody(body) } })
registerOpKind('task:adopt', { validateBody (body) { adoptBody(body) } })
for (const kind of ['task:cancel', 'task:fail'] as const) {
  registerOpKind(kind, { validateBody (body) { idBody[kind](body) } })
}

/** Drafts of task facts for a local write; each checks its body like a replica would. */
export const taskDrafts = {
  create (taskId: string, spec: TaskSpecBody): OpDraft<TaskCreateBody> {
    const body = createBody({ taskId, spec })
    assertInput(spec.input)
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

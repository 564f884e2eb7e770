/**
 * The task, defined once: its priorities, states, limits and the spec a submitter decides.
 * The API validator, the op validator, the wire codecs, the lattice and the CLI import
 * these; nothing else spells them out.
 */
import Type from 'typebox'
import { canonicalJsonStrict } from './canonical.js'
import { isObject } from './guards.js'
import { validator, type Static } from './schema.js'

export const TASK_PRIORITIES = ['critical', 'high', 'normal', 'low'] as const
export type TaskPriority = typeof TASK_PRIORITIES[number]

export const TASK_STATES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type TaskState = typeof TASK_STATES[number]
/** states a task never leaves */
export const TERMINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled']

/** Why an attempt failed, as its agent typed it (the agent runner's reasons). */
export const TASK_FAILURE_REASONS = ['timeout', 'cancelled', 'output-too-large', 'exit', 'spawn', 'invalid-input'] as const
export type TaskFailureReason = typeof TASK_FAILURE_REASONS[number]

/** an agent name: lower-case letters, digits, `.`, `_`, `-`; 1 to 64 characters */
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** a task id: 1 to 64 of `A-Z a-z 0-9 . _ -` */
export const TASK_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** largest input: the UTF-8 bytes of its canonical JSON (see `taskInputBytes`) */
export const MAX_TASK_INPUT_BYTES = 1024 * 1024
/** longest timeout of one attempt: one day */
export const MAX_TASK_TIMEOUT_MS = 86_400_000
export const MAX_TASK_RETRIES = 20
export const MAX_TASK_REPLICAS = 7
export const MAX_TASK_LABELS = 32
export const MAX_TASK_LABEL_KEY_LENGTH = 64
export const MAX_TASK_LABEL_VALUE_LENGTH = 256
export const MAX_TASK_CORES = 4096
/** 64 TiB, in MB */
export const MAX_TASK_MEM_MB = 64 * 1024 * 1024
/** highest attempt, adoption epoch (the op validator's bound) */
export const MAX_TASK_ATTEMPT = 1_000_000
/** longest error text of a result */
export const MAX_TASK_ERROR_LENGTH = 4096

/**
 * A string of `min` to `max` UTF-16 code units. JSON Schema's `minLength`/`maxLength`
 * count code points; the replicated rule (older members included) counts code units, so
 * the length is a pattern without the `u` flag.
 */
function utf16Length (min: number, max: number): RegExp {
  return new RegExp(`^[\\s\\S]{${min},${max}}$`)
}

/** a whole number in `minimum..maximum` (safe integers only: the bounds are) */
function count (minimum: number, maximum: number): ReturnType<typeof Type.Integer> {
  return Type.Integer({ minimum, maximum })
}

export const TaskPrioritySchema = Type.Enum(TASK_PRIORITIES)
export const TaskStateSchema = Type.Enum(TASK_STATES)
export const TaskFailureReasonSchema = Type.Enum(TASK_FAILURE_REASONS)
export const TaskIdSchema = Type.String({ pattern: TASK_ID_PATTERN })
export const AgentNameSchema = Type.String({ pattern: AGENT_NAME_PATTERN })

export const TaskNeedsSchema = Type.Object({
  cores: Type.Optional(count(0, MAX_TASK_CORES)),
  memMb: Type.Optional(count(0, MAX_TASK_MEM_MB))
}, { additionalProperties: false })
export type TaskNeeds = Static<typeof TaskNeedsSchema>

/** at most 32 labels; keys 1 to 64, values at most 256 UTF-16 code units */
export const TaskLabelsSchema = Type.Record(
  Type.String(),
  Type.String({ pattern: utf16Length(0, MAX_TASK_LABEL_VALUE_LENGTH) }),
  { maxProperties: MAX_TASK_LABELS, propertyNames: { pattern: utf16Length(1, MAX_TASK_LABEL_KEY_LENGTH) } }
)

/** the fields of a spec other than agent, input and priority: each optional */
const OPTIONAL_SPEC_FIELDS = {
  labels: Type.Optional(TaskLabelsSchema),
  needs: Type.Optional(TaskNeedsSchema),
  /** per attempt, ms; the agent's own timeout when absent */
  timeoutMs: Type.Optional(count(1, MAX_TASK_TIMEOUT_MS)),
  /** further attempts after a failure; @default 2 */
  retries: Type.Optional(count(0, MAX_TASK_RETRIES)),
  /** distinct executors; the majority output commits; @default 1 */
  replicas: Type.Optional(count(1, MAX_TASK_REPLICAS))
}

/**
 * What a submitter decides about a task, as it is replicated (`task:create`) and offered:
 * every default applied. The input is any plain JSON of at most `MAX_TASK_INPUT_BYTES`
 * (`taskInputBytes`), checked apart: a schema does not measure encodings.
 */
export const TaskSpecBodySchema = Type.Object({
  agent: AgentNameSchema,
  input: Type.Unknown(),
  priority: TaskPrioritySchema,
  ...OPTIONAL_SPEC_FIELDS
}, { additionalProperties: false })
export type TaskSpecBody = Static<typeof TaskSpecBodySchema>
export const taskSpecBody = validator(TaskSpecBodySchema)

/**
 * What `paired submit` sends (`POST /api/v1/tasks/submit`): a spec whose input
 * (@default null) and priority (@default 'normal') may be left out. The API reads null
 * for any field but `input` as "not given" (`submitDefaults`).
 */
export const TaskSubmitSchema = Type.Object({
  agent: AgentNameSchema,
  /** any JSON; @default null */
  input: Type.Optional(Type.Unknown()),
  /** @default 'normal' */
  priority: Type.Optional(TaskPrioritySchema),
  ...OPTIONAL_SPEC_FIELDS
}, { additionalProperties: false })
export type TaskSubmit = Static<typeof TaskSubmitSchema>

/** the fields a submit may hold: the spec's */
export const TASK_SPEC_FIELDS = Object.keys(TaskSpecBodySchema.properties) as ReadonlyArray<keyof TaskSpecBody>

/**
 * A submit body with the API's defaults applied: null for a field other than `input` is
 * "not given" (so is null for `needs.cores` and `needs.memMb`), a missing input is null
 * and a missing priority `normal`. Anything else is left as it is, for the spec schema to
 * judge; a value that is not an object is returned unchanged.
 */
export function submitDefaults (body: unknown): unknown {
  if (!isObject(body)) return body
  const spec: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if (value === null && key !== 'input') continue
    if (key === 'needs' && isObject(value)) {
      spec.needs = Object.fromEntries(Object.entries(value).filter(([k, v]) => !(v === null && (k === 'cores' || k === 'memMb'))))
    } else {
      spec[key] = value
    }
  }
  if (spec.input === undefined) spec.input = null
  if (spec.priority === undefined) spec.priority = 'normal'
  return spec
}

/**
 * The spec a checked submit replicates as: defaults applied, and what equals a default
 * left out (empty labels and needs, one replica), so equal tasks encode equally.
 */
export function normalizeSubmit (submit: TaskSubmit): TaskSpecBody {
  return {
    agent: submit.agent,
    input: submit.input ?? null,
    priority: submit.priority ?? 'normal',
    ...(submit.labels === undefined || Object.keys(submit.labels).length === 0 ? {} : { labels: submit.labels }),
    ...(submit.needs === undefined || Object.keys(submit.needs).length === 0 ? {} : { needs: submit.needs }),
    ...(submit.timeoutMs === undefined ? {} : { timeoutMs: submit.timeoutMs }),
    ...(submit.retries === undefined ? {} : { retries: submit.retries }),
    ...(submit.replicas === undefined || submit.replicas === 1 ? {} : { replicas: submit.replicas })
  }
}

/**
 * The one byte rule of a task input: the UTF-8 bytes of its canonical JSON, encoded at
 * the depth it sits at in a `task:create` body (`body.spec.input`, two levels down, so an
 * input the API takes never nests too deeply for the op). Throws the encoder's
 * `CanonicalEncodingError` (a `TypeError`) unless the input is plain JSON.
 */
export function taskInputBytes (input: unknown): number {
  return Buffer.byteLength(canonicalJsonStrict([[input]]), 'utf8') - 4
}

/** A task op's taskId: every task op body has one. */
export const TaskIdBodySchema = Type.Object({ taskId: TaskIdSchema }, { additionalProperties: false })
export type TaskIdBody = Static<typeof TaskIdBodySchema>

export const TaskCreateBodySchema = Type.Object({ taskId: TaskIdSchema, spec: TaskSpecBodySchema }, { additionalProperties: false })
export type TaskCreateBody = Static<typeof TaskCreateBodySchema>

export const TaskLeaseBodySchema = Type.Object({
  taskId: TaskIdSchema,
  attempt: count(1, MAX_TASK_ATTEMPT),
  expiresWall: count(0, Number.MAX_SAFE_INTEGER),
  startedWall: Type.Optional(count(0, Number.MAX_SAFE_INTEGER))
}, { additionalProperties: false })
export type TaskLeaseBody = Static<typeof TaskLeaseBodySchema>

/**
 * A proof a result carries (the executor's receipt, the coordinator's lease grant): an
 * object here; its fields and signature are checked when the result is applied.
 */
export const TaskProofSchema = Type.Unsafe<unknown>(Type.Record(Type.String(), Type.Unknown()))

export const TaskResultBodySchema = Type.Object({
  taskId: TaskIdSchema,
  attempt: count(1, MAX_TASK_ATTEMPT),
  exitCode: count(0, 255),
  /** sha256 of the output's canonical JSON, in hex */
  outputHash: Type.String({ pattern: /^[0-9a-f]{64}$/ }),
  output: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String({ pattern: utf16Length(0, MAX_TASK_ERROR_LENGTH) })),
  /** why it failed, as the agent typed it: on a failed result only */
  reason: Type.Optional(TaskFailureReasonSchema),
  /** the executor's signed receipt (see `src/tasks/receipt.ts`) */
  receipt: Type.Optional(TaskProofSchema),
  /** the coordinator's lease grant (see `src/tasks/grant.ts`) */
  grant: Type.Optional(TaskProofSchema)
}, { additionalProperties: false })
export type TaskResultBody = Static<typeof TaskResultBodySchema>

export const TaskRetryBodySchema = Type.Object({ taskId: TaskIdSchema, attempt: count(2, MAX_TASK_ATTEMPT) }, { additionalProperties: false })
export type TaskRetryBody = Static<typeof TaskRetryBodySchema>

export const TaskReplicasBodySchema = Type.Object({ taskId: TaskIdSchema, replicas: count(1, MAX_TASK_REPLICAS) }, { additionalProperties: false })
export type TaskReplicasBody = Static<typeof TaskReplicasBodySchema>

export const TaskAdoptBodySchema = Type.Object({ taskId: TaskIdSchema, epoch: count(1, MAX_TASK_ATTEMPT) }, { additionalProperties: false })
export type TaskAdoptBody = Static<typeof TaskAdoptBodySchema>

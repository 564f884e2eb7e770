/**
 * The task, defined once: its priorities, states, limits and the spec a submitter decides.
 * The API validator, the op validator, the wire codecs, the lattice and the CLI import
 * these; nothing else spells them out.
 */
import Type from 'typebox'
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

/** largest input: the UTF-8 bytes of its JSON */
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

export const TaskPrioritySchema = Type.Union(TASK_PRIORITIES.map(p => Type.Literal(p)))
export const TaskStateSchema = Type.Union(TASK_STATES.map(s => Type.Literal(s)))
export const TaskIdSchema = Type.String({ pattern: TASK_ID_PATTERN.source })
export const AgentNameSchema = Type.String({ pattern: AGENT_NAME_PATTERN.source })

export const TaskNeedsSchema = Type.Object({
  cores: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TASK_CORES })),
  memMb: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TASK_MEM_MB }))
}, { additionalProperties: false })

export const TaskLabelsSchema = Type.Record(
  Type.String({ minLength: 1, maxLength: MAX_TASK_LABEL_KEY_LENGTH }),
  Type.String({ maxLength: MAX_TASK_LABEL_VALUE_LENGTH }),
  { maxProperties: MAX_TASK_LABELS }
)

/**
 * What a submitter decides about a task, as it is replicated (`task:create`) and offered:
 * every default applied. The input's size is checked apart (its encoded bytes).
 */
export const TaskSpecBodySchema = Type.Object({
  agent: AgentNameSchema,
  input: Type.Unknown(),
  priority: TaskPrioritySchema,
  labels: Type.Optional(TaskLabelsSchema),
  needs: Type.Optional(TaskNeedsSchema),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_TIMEOUT_MS })),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TASK_RETRIES })),
  replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_REPLICAS }))
}, { additionalProperties: false })
export type TaskSpecBody = Static<typeof TaskSpecBodySchema>
export const taskSpecBody = validator(TaskSpecBodySchema)

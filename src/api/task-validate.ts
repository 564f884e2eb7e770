/**
 * Validation of the task routes (`paired submit`, `paired tasks`, `paired task ...`):
 * the task's schemas and limits are the model's (`src/model/task.ts`, the op validator's
 * too); these functions phrase what they refuse, naming the bad field
 * (`tasks[3].needs.cores`) in an `InvalidArgumentError`, or throw `ValueTooLargeError` for
 * an input over 1 MiB. The CLI uses the same checks before it sends anything.
 */
import { InvalidArgumentError } from '../errors.js'
import { ValueTooLargeError } from './errors.js'
import type { TaskPriorityName, TaskStateName, TaskSubmit } from '../model/docs.js'
import { onlyFields } from './validate.js'
import { isObject } from '../model/guards.js'
import { formatProblem, validator } from '../model/schema.js'
import {
  AGENT_NAME_PATTERN, MAX_TASK_INPUT_BYTES, MAX_TASK_LABELS, MAX_TASK_LABEL_KEY_LENGTH, MAX_TASK_LABEL_VALUE_LENGTH,
  TASK_ID_PATTERN, TASK_PRIORITIES, TASK_SPEC_FIELDS, TASK_STATES, TERMINAL_TASK_STATES, TaskLabelsSchema,
  TaskNeedsSchema, TaskSpecBodySchema, submitDefaults, taskInputBytes, taskSpecBody
} from '../model/task.js'

export {
  AGENT_NAME_PATTERN, MAX_TASK_CORES, MAX_TASK_INPUT_BYTES, MAX_TASK_LABELS, MAX_TASK_LABEL_KEY_LENGTH,
  MAX_TASK_LABEL_VALUE_LENGTH, MAX_TASK_MEM_MB, MAX_TASK_REPLICAS, MAX_TASK_RETRIES, MAX_TASK_TIMEOUT_MS, TASK_ID_PATTERN
} from '../model/task.js'

export const TASK_PRIORITY_NAMES: readonly TaskPriorityName[] = TASK_PRIORITIES
export const TASK_STATE_NAMES: readonly TaskStateName[] = TASK_STATES
/** states a task never leaves */
export const TERMINAL_TASK_STATE_NAMES: readonly TaskStateName[] = TERMINAL_TASK_STATES

/** most tasks in one `tasks/submit-many` request */
export const MAX_TASK_BATCH = 1000
/** `GET tasks?limit=N` */
export const MAX_TASK_LIST_LIMIT = 10_000
export const DEFAULT_TASK_LIST_LIMIT = 1000
/** request body limit of `tasks/submit`: an input at the limit plus the rest of the spec */
export const TASK_SUBMIT_MAX_BODY_BYTES = MAX_TASK_INPUT_BYTES + 64 * 1024
/** request body limit of `tasks/submit-many` (as `kv/set-many`) */
export const TASK_SUBMIT_MANY_MAX_BODY_BYTES = 16 * 1024 * 1024

// The model's schemas decide; these functions only phrase what they refused, naming the
// field as the user wrote it (`tasks[3].needs.cores`).
const labelsCheck = validator(TaskLabelsSchema)
const needsCheck = validator(TaskNeedsSchema)

/** the bounds of a whole-number field of a schema */
function bounds (schema: unknown): { minimum: number, maximum: number } {
  return schema as { minimum: number, maximum: number }
}
const SPEC_COUNTS = (['timeoutMs', 'retries', 'replicas'] as const).map(f => [f, bounds(TaskSpecBodySchema.properties[f])] as const)
const NEEDS_COUNTS = (['cores', 'memMb'] as const).map(f => [f, bounds(TaskNeedsSchema.properties[f])] as const)

/** how a JSON value reads in an error: short, on one line */
function shown (value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

function wholeNumber (value: unknown, field: string, { minimum, maximum }: { minimum: number, maximum: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw new InvalidArgumentError(`${field} must be a whole number from ${minimum} to ${maximum} (got ${shown(value)})`)
  }
  return value
}

/** a task id, else `InvalidArgumentError` */
export function checkTaskId (value: unknown, field = 'task id'): string {
  if (typeof value !== 'string' || !TASK_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(`${field} must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got ${shown(value)})`)
  }
  return value
}

/** an agent name, else `InvalidArgumentError` */
export function checkAgent (value: unknown, field = 'agent'): string {
  if (value == null) throw new InvalidArgumentError(`${field} is required`)
  if (typeof value !== 'string' || !AGENT_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError(`${field} must be 1 to 64 characters of a-z 0-9 . _ -, starting with a letter or digit (got ${shown(value)})`)
  }
  return value
}

export function checkPriority (value: unknown, field = 'priority'): TaskPriorityName {
  if (typeof value !== 'string' || !(TASK_PRIORITY_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`${field} must be one of ${TASK_PRIORITY_NAMES.join(', ')} (got ${shown(value)})`)
  }
  return value as TaskPriorityName
}

export function checkTaskState (value: unknown, field = 'state'): TaskStateName {
  if (typeof value !== 'string' || !(TASK_STATE_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`${field} must be one of ${TASK_STATE_NAMES.join(', ')} (got ${shown(value)})`)
  }
  return value as TaskStateName
}

/**
 * any plain JSON value of at most 1 MiB, by the model's one rule (`taskInputBytes`: what
 * the op validator measures too); `ValueTooLargeError` past that
 */
export function checkTaskInput (value: unknown, field = 'input'): unknown {
  if (value === undefined) throw new InvalidArgumentError(`${field} must be a JSON value`)
  let bytes: number
  try {
    bytes = taskInputBytes(value)
  } catch (err) {
    throw new InvalidArgumentError(`${field} must be a JSON value: ${(err as Error).message}`)
  }
  if (bytes > MAX_TASK_INPUT_BYTES) throw new ValueTooLargeError(`${field} of ${bytes} bytes is over the 1 MiB limit`)
  return value
}

/** an object of at most 32 string labels: keys 1..64, values at most 256 characters */
export function checkLabels (value: unknown, field = 'labels'): Record<string, string> {
  if (labelsCheck.check(value)) return value
  if (!isObject(value)) throw new InvalidArgumentError(`${field} must be an object of strings, like {"os": "linux"}`)
  const entries = Object.entries(value)
  if (entries.length > MAX_TASK_LABELS) throw new InvalidArgumentError(`${field} may hold at most ${MAX_TASK_LABELS} labels (it holds ${entries.length})`)
  for (const [key, label] of entries) {
    if (key === '' || key.length > MAX_TASK_LABEL_KEY_LENGTH) {
      throw new InvalidArgumentError(`${field}: a label name must be 1 to ${MAX_TASK_LABEL_KEY_LENGTH} characters (got ${shown(key)})`)
    }
    if (typeof label !== 'string') throw new InvalidArgumentError(`${field}.${key} must be a string (got ${shown(label)})`)
    if (label.length > MAX_TASK_LABEL_VALUE_LENGTH) {
      throw new InvalidArgumentError(`${field}.${key} must be at most ${MAX_TASK_LABEL_VALUE_LENGTH} characters (it is ${label.length})`)
    }
  }
  throw new InvalidArgumentError(`${field}: ${formatProblem(labelsCheck.problem(value) ?? { field: '', message: 'are not valid labels' })}`)
}

/** `{cores?, memMb?}`, each a non-negative whole number */
export function checkNeeds (value: unknown, field = 'needs'): { cores?: number, memMb?: number } {
  if (needsCheck.check(value)) return value
  if (!isObject(value)) throw new InvalidArgumentError(`${field} must be an object {cores?, memMb?}`)
  for (const key of Object.keys(value)) {
    if (key !== 'cores' && key !== 'memMb') throw new InvalidArgumentError(`${field}: unknown field "${key}" (expected cores, memMb)`)
  }
  for (const [key, range] of NEEDS_COUNTS) {
    if (value[key] !== undefined) wholeNumber(value[key], `${field}.${key}`, range)
  }
  throw new InvalidArgumentError(`${field}: ${formatProblem(needsCheck.problem(value) ?? { field: '', message: 'are not valid needs' })}`)
}

/** the first thing wrong with a spec the schema refused, as one line naming the field */
function submitProblem (spec: Record<string, unknown>, field: string | undefined): Error {
  const name = (f: string): string => field == null ? f : `${field}.${f}`
  try {
    onlyFields(spec, TASK_SPEC_FIELDS)
  } catch (err) {
    if (field == null) return err as Error
    return new InvalidArgumentError(`${field}: ${(err as Error).message}`)
  }
  try {
    checkAgent(spec.agent, name('agent'))
    checkPriority(spec.priority, name('priority'))
    if (spec.labels !== undefined) checkLabels(spec.labels, name('labels'))
    if (spec.needs !== undefined) checkNeeds(spec.needs, name('needs'))
    for (const [key, range] of SPEC_COUNTS) {
      if (spec[key] !== undefined) wholeNumber(spec[key], name(key), range)
    }
  } catch (err) {
    return err as Error
  }
  const problem = taskSpecBody.problem(spec) ?? { field: '', message: 'is not a valid task spec' }
  return new InvalidArgumentError(`${field ?? 'task'}: ${formatProblem(problem)}`)
}

/**
 * One task spec, strictly, by the model's spec schema (the op validator's): unknown fields
 * refused, `priority` defaults to `normal` and `input` to null; the daemon applies the
 * other defaults. `field` prefixes the names in errors (`tasks[3]`). Optional fields
 * given as null count as absent, except `input` (`submitDefaults`).
 */
export function parseTaskSubmit (body: unknown, field?: string): TaskSubmit {
  if (!isObject(body)) throw new InvalidArgumentError(`${field ?? 'task'} must be an object {agent, input?, ...}`)
  const spec = submitDefaults(body) as Record<string, unknown>
  if (!taskSpecBody.check(spec)) throw submitProblem(spec, field)
  checkTaskInput(spec.input, field == null ? 'input' : `${field}.input`)
  return spec
}

/** `POST tasks/submit-many {tasks: [TaskSubmit]}`: 1 to 1,000 specs */
export function parseTaskSubmitMany (body: Record<string, unknown>): TaskSubmit[] {
  onlyFields(body, ['tasks'])
  const tasks = body.tasks
  if (tasks == null) throw new InvalidArgumentError('tasks is required')
  if (!Array.isArray(tasks)) throw new InvalidArgumentError('tasks must be an array of task specs')
  if (tasks.length === 0 || tasks.length > MAX_TASK_BATCH) {
    throw new InvalidArgumentError(`tasks must hold 1 to ${MAX_TASK_BATCH} task specs (it holds ${tasks.length})`)
  }
  return tasks.map((task: unknown, i) => parseTaskSubmit(task, `tasks[${i}]`))
}

/** the query parameters of a GET route: only `allowed`, each at most once */
function onlyParams (query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name)) {
      throw new InvalidArgumentError(`unknown query parameter "${name}"${allowed.length > 0 ? ` (expected ${allowed.join(', ')})` : ' (this route takes none)'}`)
    }
    if (query.getAll(name).length > 1) throw new InvalidArgumentError(`${name} must be given once`)
  }
}

/** `GET tasks?state=S&limit=N`: limit 1 to 10,000, default 1,000 */
export function parseTaskListQuery (query: URLSearchParams): { state?: TaskStateName, limit: number } {
  onlyParams(query, ['state', 'limit'])
  const filter: { state?: TaskStateName, limit: number } = { limit: DEFAULT_TASK_LIST_LIMIT }
  const state = query.get('state')
  if (state != null && state !== '') filter.state = checkTaskState(state)
  const limit = query.get('limit')
  if (limit != null && limit !== '') {
    if (!/^\d{1,6}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_TASK_LIST_LIMIT) {
      throw new InvalidArgumentError(`limit must be a whole number from 1 to ${MAX_TASK_LIST_LIMIT} (got ${shown(limit)})`)
    }
    filter.limit = Number(limit)
  }
  return filter
}

/** the GET routes of one task take no query parameters */
export function parseNoQuery (query: URLSearchParams): void {
  onlyParams(query, [])
}

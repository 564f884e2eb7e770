/**
 * Validation of the task routes (`paired submit`, `paired tasks`, `paired task ...`):
 * pure functions that name the bad field (`tasks[3].needs.cores`) in an
 * `InvalidArgumentError`, or throw `ValueTooLargeError` for an input over 1 MiB. The CLI
 * uses the same checks before it sends anything.
 */
import { InvalidArgumentError } from '../errors.js'
import { ValueTooLargeError } from './errors.js'
import type { TaskPriorityName, TaskStateName, TaskSubmit } from '../model/docs.js'
import { onlyFields } from './validate.js'
import { isObject } from '../model/guards.js'

export const TASK_PRIORITY_NAMES: readonly TaskPriorityName[] = ['critical', 'high', 'normal', 'low']
export const TASK_STATE_NAMES: readonly TaskStateName[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled']
/** states a task never leaves */
export const TERMINAL_TASK_STATE_NAMES: readonly TaskStateName[] = ['succeeded', 'failed', 'cancelled']

/** an agent name: lower-case letters, digits, `.`, `_`, `-`; 1 to 64 characters */
export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** a task id: 1 to 64 of `A-Z a-z 0-9 . _ -` */
export const TASK_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

/** largest input: the UTF-8 bytes of its `JSON.stringify` */
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
/** most tasks in one `tasks/submit-many` request */
export const MAX_TASK_BATCH = 1000
/** `GET tasks?limit=N` */
export const MAX_TASK_LIST_LIMIT = 10_000
export const DEFAULT_TASK_LIST_LIMIT = 1000
/** request body limit of `tasks/submit`: an input at the limit plus the rest of the spec */
export const TASK_SUBMIT_MAX_BODY_BYTES = MAX_TASK_INPUT_BYTES + 64 * 1024
/** request body limit of `tasks/submit-many` (as `kv/set-many`) */
export const TASK_SUBMIT_MANY_MAX_BODY_BYTES = 16 * 1024 * 1024

const SUBMIT_FIELDS = ['agent', 'input', 'priority', 'labels', 'needs', 'timeoutMs', 'retries', 'replicas'] as const

/** how a JSON value reads in an error: short, on one line */
function shown (value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

function wholeNumber (value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be a whole number from ${min} to ${max} (got ${shown(value)})`)
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

/** any JSON value of at most 1 MiB once serialized; `ValueTooLargeError` past that */
export function checkTaskInput (value: unknown, field = 'input'): unknown {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new InvalidArgumentError(`${field} must be a JSON value: ${(err as Error).message}`)
  }
  if (text === undefined) throw new InvalidArgumentError(`${field} must be a JSON value`)
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_TASK_INPUT_BYTES) throw new ValueTooLargeError(`${field} of ${bytes} bytes is over the 1 MiB limit`)
  return value
}

/** an object of at most 32 string labels: keys 1..64, values at most 256 characters */
export function checkLabels (value: unknown, field = 'labels'): Record<string, string> {
  if (!isObject(value)) throw new InvalidArgumentError(`${field} must be an object of strings, like {"os": "linux"}`)
  const entries = Object.entries(value)
  if (entries.length > MAX_TASK_LABELS) throw new InvalidArgumentError(`${field} may hold at most ${MAX_TASK_LABELS} labels (it holds ${entries.length})`)
  const labels: Record<string, string> = {}
  for (const [key, label] of entries) {
    if (key === '' || key.length > MAX_TASK_LABEL_KEY_LENGTH) {
      throw new InvalidArgumentError(`${field}: a label name must be 1 to ${MAX_TASK_LABEL_KEY_LENGTH} characters (got ${shown(key)})`)
    }
    if (typeof label !== 'string') throw new InvalidArgumentError(`${field}.${key} must be a string (got ${shown(label)})`)
    if (label.length > MAX_TASK_LABEL_VALUE_LENGTH) {
      throw new InvalidArgumentError(`${field}.${key} must be at most ${MAX_TASK_LABEL_VALUE_LENGTH} characters (it is ${label.length})`)
    }
    labels[key] = label
  }
  return labels
}

/** `{cores?, memMb?}`, each a non-negative whole number */
export function checkNeeds (value: unknown, field = 'needs'): { cores?: number, memMb?: number } {
  if (!isObject(value)) throw new InvalidArgumentError(`${field} must be an object {cores?, memMb?}`)
  for (const key of Object.keys(value)) {
    if (key !== 'cores' && key !== 'memMb') throw new InvalidArgumentError(`${field}: unknown field "${key}" (expected cores, memMb)`)
  }
  const needs: { cores?: number, memMb?: number } = {}
  if (value.cores != null) needs.cores = wholeNumber(value.cores, `${field}.cores`, 0, MAX_TASK_CORES)
  if (value.memMb != null) needs.memMb = wholeNumber(value.memMb, `${field}.memMb`, 0, MAX_TASK_MEM_MB)
  return needs
}

/**
 * One task spec, strictly: unknown fields refused, `priority` defaults to `normal` and
 * `input` to null; the daemon applies the other defaults. `field` prefixes the names in
 * errors (`tasks[3]`). Optional fields given as null count as absent, except `input`.
 */
export function parseTaskSubmit (body: unknown, field?: string): TaskSubmit {
  const name = (f: string): string => field == null ? f : `${field}.${f}`
  if (!isObject(body)) throw new InvalidArgumentError(`${field ?? 'task'} must be an object {agent, input?, ...}`)
  try {
    onlyFields(body, SUBMIT_FIELDS)
  } catch (err) {
    if (field == null) throw err
    throw new InvalidArgumentError(`${field}: ${(err as Error).message}`)
  }
  const spec: TaskSubmit = {
    agent: checkAgent(body.agent, name('agent')),
    input: body.input === undefined ? null : checkTaskInput(body.input, name('input')),
    priority: body.priority == null ? 'normal' : checkPriority(body.priority, name('priority'))
  }
  if (body.labels != null) spec.labels = checkLabels(body.labels, name('labels'))
  if (body.needs != null) spec.needs = checkNeeds(body.needs, name('needs'))
  if (body.timeoutMs != null) spec.timeoutMs = wholeNumber(body.timeoutMs, name('timeoutMs'), 1, MAX_TASK_TIMEOUT_MS)
  if (body.retries != null) spec.retries = wholeNumber(body.retries, name('retries'), 0, MAX_TASK_RETRIES)
  if (body.replicas != null) spec.replicas = wholeNumber(body.replicas, name('replicas'), 1, MAX_TASK_REPLICAS)
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

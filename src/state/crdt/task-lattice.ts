/**
 * A task's replicated record as a join-semilattice.
 *
 * The record is a product of monotone facts, each with its own join:
 *
 * | fact | join |
 * |---|---|
 * | `spec` | immutable; on a (buggy or forged) conflict the lower (`createdHlc`, canonical encoding) wins |
 * | `attempt` | max (also over the lease's and results' attempts) |
 * | `lease` | max by (attempt, expiresWall, executor): a renewal or a later attempt replaces it |
 * | `results` | union by key `${attempt}:${executor}`; one key reported twice keeps a success over a failure, then the later hlc |
 * | `cancelled` | or |
 * | `failed` | or (the coordinator gave up: retry budget spent) |
 *
 * `state`, `executor` and the committed result are functions of the joined facts, never
 * merged themselves:
 *
 * - **committed result** (`committedResult`): among results with `exitCode === 0`, the one
 *   with the lowest (attempt, executor), then hlc, then outputHash. Every replica that holds
 *   the same results picks the same one. A success that arrives late from an earlier
 *   attempt takes over from a later attempt's success: execution is at-least-once.
 * - **state**: `succeeded` if there is a committed result; else `cancelled` if cancelled;
 *   else `failed` if failed; else `running` if the lease is for the current attempt; else
 *   `pending`. So a cancel wins over pending, running and failed, but never over a success:
 *   work that produced an output is not undone by a cancel that raced it.
 *
 * The derived state only moves up the order
 * `pending@n < running@n < pending@n+1 < … < failed < cancelled < succeeded`
 * as facts are joined, whatever order they arrive in.
 */
import { InvalidArgumentError } from '../../errors.js'
import { canonicalEncode, compareCanonical, compareStrings } from './canonical.js'
import { TaskMismatchError } from './errors.js'
import { assertHlc, compareHlc, type Hlc } from './hlc.js'

export type TaskPriority = 'critical' | 'high' | 'normal' | 'low'
export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export const TASK_PRIORITIES: readonly TaskPriority[] = ['critical', 'high', 'normal', 'low']
export const TERMINAL_TASK_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled']

/** What to run; fixed when the task is created. `input` must be canonically encodable. */
export interface TaskSpec {
  readonly agent: string
  readonly input: unknown
  readonly priority: TaskPriority
  readonly submitter: string
  readonly createdHlc: Hlc
}

/** The executor holding the current attempt, until `expiresWall` (ms) unless renewed. */
export interface TaskLease {
  readonly executor: string
  readonly attempt: number
  readonly expiresWall: number
}

/** One executor's outcome of one attempt. `exitCode === 0` is a success. */
export interface TaskResult {
  readonly outputHash: string
  readonly exitCode: number
  readonly executor: string
  readonly attempt: number
  readonly hlc: Hlc
}

/** The replicated record of one task. Build with `createTask`, change with the helpers below. */
export interface TaskRecord {
  readonly taskId: string
  readonly spec: TaskSpec
  /** Derived from the facts; see the module comment. */
  readonly state: TaskState
  /** Current attempt, from 1. */
  readonly attempt: number
  /** Derived: the committed result's executor, else the current attempt's lease holder. */
  readonly executor?: string
  readonly lease?: TaskLease
  /** `${attempt}:${executor}` → result, keys sorted. */
  readonly results: Readonly<Record<string, TaskResult>>
  readonly cancelled: boolean
  /** The coordinator gave up (retry budget spent). */
  readonly failed: boolean
}

/** The key of a result in `TaskRecord.results`. */
export function resultKey (attempt: number, executor: string): string {
  return `${attempt}:${executor}`
}

/** Whether a state is final (no further execution). */
export function isTerminalState (state: TaskState): boolean {
  return TERMINAL_TASK_STATES.includes(state)
}

/**
 * A new task: attempt 1, pending. Throws `InvalidArgumentError` on an empty id or an unknown
 * priority, `InvalidHlcError` on a bad `createdHlc`, `CanonicalEncodingError` on an input
 * that cannot be encoded.
 */
export function createTask (taskId: string, spec: TaskSpec): TaskRecord {
  if (typeof taskId !== 'string' || taskId === '') throw new InvalidArgumentError('taskId must be a non-empty string')
  if (!TASK_PRIORITIES.includes(spec.priority)) {
    throw new InvalidArgumentError(`unknown task priority ${String(spec.priority)}`)
  }
  assertHlc(spec.createdHlc)
  canonicalEncode(spec)
  return normalize({ taskId, spec, attempt: 1, results: {}, cancelled: false, failed: false })
}

/** The join of two records of the same task. Commutative, associative, idempotent. */
export function mergeTask (a: TaskRecord, b: TaskRecord): TaskRecord {
  if (a.taskId !== b.taskId) throw new TaskMismatchError(`cannot merge task ${a.taskId} with task ${b.taskId}`)
  return normalize({
    taskId: a.taskId,
    spec: compareSpecs(a.spec, b.spec) <= 0 ? a.spec : b.spec,
    attempt: Math.max(a.attempt, b.attempt),
    lease: maxBy(a.lease, b.lease, compareLeases),
    results: mergeResults(a.results, b.results),
    cancelled: a.cancelled || b.cancelled,
    failed: a.failed || b.failed
  })
}

/** The one committed result, or `undefined` if no attempt has succeeded (yet). */
export function committedResult (task: Pick<TaskRecord, 'results'>): TaskResult | undefined {
  let best: TaskResult | undefined
  for (const result of Object.values(task.results)) {
    if (result.exitCode !== 0) continue
    if (best === undefined || compareCommit(result, best) < 0) best = result
  }
  return best
}

/** Records (or renews) a lease; a lease for an older attempt than the current one is ignored. */
export function taskLease (task: TaskRecord, lease: TaskLease): TaskRecord {
  return mergeTask(task, { ...task, lease })
}

/** Records one executor's result of one attempt. */
export function taskResult (task: TaskRecord, result: TaskResult): TaskRecord {
  assertHlc(result.hlc)
  const results = { ...task.results, [resultKey(result.attempt, result.executor)]: result }
  return mergeTask(task, { ...task, results })
}

/** Starts the next attempt (after a failure, a lapsed lease or a dead executor). */
export function taskRetry (task: TaskRecord): TaskRecord {
  return mergeTask(task, { ...task, attempt: task.attempt + 1 })
}

/** Cancels the task (a no-op once it has succeeded). */
export function taskCancel (task: TaskRecord): TaskRecord {
  return mergeTask(task, { ...task, cancelled: true })
}

/** Marks the task failed for good (retry budget spent). */
export function taskFail (task: TaskRecord): TaskRecord {
  return mergeTask(task, { ...task, failed: true })
}

type TaskFacts = Omit<TaskRecord, 'state' | 'executor'>

function normalize (facts: TaskFacts): TaskRecord {
  let attempt = Math.max(facts.attempt, facts.lease?.attempt ?? 0)
  for (const result of Object.values(facts.results)) attempt = Math.max(attempt, result.attempt)
  const committed = committedResult(facts)
  const current = facts.lease?.attempt === attempt ? facts.lease : undefined
  let state: TaskState = 'pending'
  if (committed !== undefined) state = 'succeeded'
  else if (facts.cancelled) state = 'cancelled'
  else if (facts.failed) state = 'failed'
  else if (current !== undefined) state = 'running'
  const executor = committed?.executor ?? current?.executor
  return {
    taskId: facts.taskId,
    spec: facts.spec,
    state,
    attempt,
    ...(executor === undefined ? {} : { executor }),
    ...(facts.lease === undefined ? {} : { lease: facts.lease }),
    results: facts.results,
    cancelled: facts.cancelled,
    failed: facts.failed
  }
}

function mergeResults (
  a: Readonly<Record<string, TaskResult>>, b: Readonly<Record<string, TaskResult>>
): Readonly<Record<string, TaskResult>> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareStrings)
  return Object.fromEntries(keys.map(key => [key, maxBy(
    Object.hasOwn(a, key) ? a[key] : undefined,
    Object.hasOwn(b, key) ? b[key] : undefined,
    compareReports
  ) as TaskResult]))
}

function maxBy<T> (a: T | undefined, b: T | undefined, compare: (x: T, y: T) => number): T | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compare(a, b) >= 0 ? a : b
}

function compareSpecs (a: TaskSpec, b: TaskSpec): number {
  if (a === b) return 0
  return compareHlc(a.createdHlc, b.createdHlc) || compareCanonical(a, b)
}

function compareLeases (a: TaskLease, b: TaskLease): number {
  return a.attempt - b.attempt || a.expiresWall - b.expiresWall || compareStrings(a.executor, b.executor)
}

/**
 * Two reports under one key: a success beats a failure (so a committed result never turns
 * back into a failure), then the later hlc wins, then content breaks exact ties.
 */
function compareReports (a: TaskResult, b: TaskResult): number {
  return Number(a.exitCode === 0) - Number(b.exitCode === 0) || compareHlc(a.hlc, b.hlc) ||
    compareStrings(a.outputHash, b.outputHash) || a.exitCode - b.exitCode ||
    compareStrings(a.executor, b.executor) || a.attempt - b.attempt
}

/** Commit order: lowest (attempt, executor), then hlc, then outputHash. */
function compareCommit (a: TaskResult, b: TaskResult): number {
  return a.attempt - b.attempt || compareStrings(a.executor, b.executor) || compareHlc(a.hlc, b.hlc) ||
    compareStrings(a.outputHash, b.outputHash)
}

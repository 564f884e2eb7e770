/**
 * A task's replicated record as a join-semilattice.
 *
 * The record is a product of monotone facts, each with its own join:
 *
 * | fact | join |
 * |---|---|
 * | `spec` | immutable; on a (buggy or forged) conflict the lower (`createdHlc`, canonical encoding) wins |
 * | `attempt` | max (also over the lease's and results' attempts) |
 * | `leases` | union by key `${attempt}:${executor}`, a renewal (later `expiresWall`) replaces the older one |
 * | `results` | union by key `${attempt}:${executor}`; one key reported twice keeps a success over a failure, then the later hlc |
 * | `adoptions` | union: `${epoch}:${peer}` of each adoption (sorted) |
 * | `replicaRequests` | per peer, max: the redundancy each peer asked for; `replicas` (derived) is the highest of `spec.replicas` and the submitter's and adopters' requests, so it can be raised, never lowered, and only by them |
 * | `coordinator` | max by (epoch, peer): a survivor that adopts the task raises the epoch |
 * | `cancelRequests` | union: the peers that asked to cancel (sorted) |
 * | `failRequests` | union: the peers that wrote a fail (sorted) |
 *
 * `state`, `executor` and the committed result are functions of the joined facts, never
 * merged themselves:
 *
 * - **counting results**: a result counts only if it passed its proof checks on apply (the
 *   executor's receipt and the coordinator's lease grant verify) and the grant is by the
 *   task's submitter (epoch 0) or by a member that adopted it at the grant's epoch (see
 *   `task-authority.ts`). Others are kept (and shown) but never commit and never vote.
 * - **committed result** (`committedResult`): with one replica, among counting results with
 *   `exitCode === 0`, the first by lease: the lowest attempt, then the lowest grant epoch,
 *   then the earliest hlc; executor and outputHash only break exact ties.
 *   With `replicas = n > 1`, an output hash must first win a majority: successes from
 *   at least ⌊n/2⌋ + 1 distinct executors; the committed result is then the first of those.
 *   Every replica that holds the same results picks the same one. A success that arrives
 *   late from an earlier attempt takes over from a later attempt's success: execution is
 *   at-least-once.
 * - **cancelled**: the submitter is among `cancelRequests`. Any member may write a cancel (it
 *   is its own signed fact), but only the submitter's stops the task, so a member cannot
 *   cancel the team's work; the submitter being fixed by the spec, this never flips back.
 * - **failed**: the submitter or an adopter is among `failRequests`: a fail by anyone else
 *   is kept but fails nothing.
 * - **state**: `succeeded` if there is a committed result; else `cancelled` if cancelled;
 *   else `failed` if failed; else `running` if some lease is for the current attempt; else
 *   `pending`. So a cancel wins over pending, running and failed, but never over a success:
 *   work that produced an output is not undone by a cancel that raced it.
 *
 * The derived state only moves up the order
 * `pending@n < running@n < pending@n+1 < … < failed < cancelled < succeeded`
 * as facts are joined, whatever order they arrive in, with two exceptions that still
 * converge: raising `replicas` after a lone success (coordinators raise it before any
 * offer), and an executor that equivocates (two different successful outputs for one
 * attempt), whose changed vote can undo a majority.
 */
import { InvalidArgumentError } from '../../errors.js'
import { canonicalEncode, compareCanonical, compareStrings } from '../../model/canonical.js'
import { TaskMismatchError } from './errors.js'
import { assertHlc, compareHlc, type Hlc } from './hlc.js'
import { adoptionKey, isTaskAuthority, resultProblem, type TaskAuthorityFacts, type TaskGrantRef } from './task-authority.js'
import { TASK_PRIORITIES, TERMINAL_TASK_STATES, type TaskSpecBody, type TaskState } from '../../model/task.js'

export { TASK_PRIORITIES, TERMINAL_TASK_STATES } from '../../model/task.js'
export type { TaskPriority, TaskState } from '../../model/task.js'

/**
 * What to run; fixed when the task is created: the submitter's spec (`TaskSpecBody`,
 * defined once in `src/model/task.ts`) with who submitted it and when. `input` must be
 * canonically encodable.
 */
export type TaskSpec = Readonly<TaskSpecBody & {
  submitter: string
  createdHlc: Hlc
}>

/** An executor holding an attempt, until `expiresWall` (ms) unless renewed. */
export interface TaskLease {
  readonly executor: string
  readonly attempt: number
  readonly expiresWall: number
  /** when the executor started it (wall ms) */
  readonly startedWall?: number
}

/** One executor's outcome of one attempt. `exitCode === 0` is a success. */
export interface TaskResult {
  readonly outputHash: string
  readonly exitCode: number
  readonly executor: string
  readonly attempt: number
  readonly hlc: Hlc
  /** the output itself (JSON), when it was small enough to replicate */
  readonly output?: unknown
  /** one line on failure */
  readonly error?: string
  /** the executor's signed receipt (see `src/tasks/receipt.ts`) */
  readonly receipt?: unknown
  /** why it failed, as the agent typed it (`invalid-input`, `timeout`, ...) */
  readonly reason?: string
  /** the coordinator's grant of this attempt, once its signature verified */
  readonly grant?: TaskGrantRef
  /** why it failed its proof checks on apply: it never counts */
  readonly rejected?: string
}

/** Who coordinates the task: its submitter (epoch 0) until a survivor adopts it. */
export interface TaskCoordinator {
  readonly peer: string
  readonly epoch: number
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
  /** Derived: the latest lease of the current attempt (by expiry, then executor), if any. */
  readonly lease?: TaskLease
  /** `${attempt}:${executor}` → lease, keys sorted. */
  readonly leases: Readonly<Record<string, TaskLease>>
  /** `${attempt}:${executor}` → result, keys sorted. */
  readonly results: Readonly<Record<string, TaskResult>>
  /** Derived: effective redundancy (≥ `spec.replicas`), raised by the submitter or an adopter. */
  readonly replicas: number
  /** peer → the redundancy it asked for, keys sorted; only the submitter's and adopters' count */
  readonly replicaRequests: Readonly<Record<string, number>>
  /** Derived: the coordinator fact, else the submitter at epoch 0. */
  readonly coordinator: TaskCoordinator
  /** `${epoch}:${peer}` of every adoption, sorted */
  readonly adoptions: readonly string[]
  /** peers that wrote a cancel, sorted; only the submitter's counts */
  readonly cancelRequests: readonly string[]
  /** Derived: the submitter asked to cancel. */
  readonly cancelled: boolean
  /** peers that wrote a fail, sorted; only the submitter's and adopters' count */
  readonly failRequests: readonly string[]
  /** Derived: the submitter or an adopter gave up (retry budget spent, or input refused). */
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
  return normalize({
    taskId, spec, attempt: 1, leases: {}, results: {}, replicaRequests: {},
    coordinator: { peer: spec.submitter, epoch: 0 }, adoptions: [], cancelRequests: [], failRequests: []
  })
}

/** The join of two records of the same task. Commutative, associative, idempotent. */
export function mergeTask (a: TaskRecord, b: TaskRecord): TaskRecord {
  if (a.taskId !== b.taskId) throw new TaskMismatchError(`cannot merge task ${a.taskId} with task ${b.taskId}`)
  return normalize({
    taskId: a.taskId,
    spec: compareSpecs(a.spec, b.spec) <= 0 ? a.spec : b.spec,
    attempt: Math.max(a.attempt, b.attempt),
    leases: mergeKeyed(a.leases, b.leases, compareLeases),
    results: mergeKeyed(a.results, b.results, compareReports),
    replicaRequests: mergeKeyed(a.replicaRequests, b.replicaRequests, (x, y) => x - y),
    coordinator: maxBy(a.coordinator, b.coordinator, compareCoordinators) as TaskCoordinator,
    adoptions: unionSorted(a.adoptions, b.adoptions),
    cancelRequests: unionSorted(a.cancelRequests, b.cancelRequests),
    failRequests: unionSorted(a.failRequests, b.failRequests)
  })
}

/** Successes needed to commit an output with `replicas` executors: a majority. */
export function quorum (replicas: number): number {
  return Math.floor(Math.max(1, replicas) / 2) + 1
}

/** What `committedResult` reads of a task; without `spec` and `adoptions` grants are not checked. */
export type CommitFacts = Pick<TaskRecord, 'results'> & { replicas?: number } & Partial<TaskAuthorityFacts>

function authorityOf (task: CommitFacts): TaskAuthorityFacts | undefined {
  return task.spec === undefined ? undefined : { spec: task.spec, adoptions: task.adoptions ?? [] }
}

/** Whether `result` counts toward `task`'s committed result (see the module comment). */
export function countsToward (task: CommitFacts, result: TaskResult): boolean {
  return resultProblem(result, authorityOf(task)) === undefined
}

/**
 * The one committed result, or `undefined` if no output has won (yet). With `replicas` > 1
 * an output hash needs successes from a majority of distinct executors. Only results that
 * count (see the module comment) vote or commit.
 */
export function committedResult (task: CommitFacts): TaskResult | undefined {
  const replicas = task.replicas ?? 1
  const need = replicas > 1 ? quorum(replicas) : 1
  const authority = authorityOf(task)
  const counting = Object.values(task.results).filter(r => r.exitCode === 0 && resultProblem(r, authority) === undefined)
  const votes = new Map<string, Set<string>>()
  for (const result of counting) {
    let voters = votes.get(result.outputHash)
    if (voters === undefined) votes.set(result.outputHash, voters = new Set())
    voters.add(result.executor)
  }
  let best: TaskResult | undefined
  for (const result of counting) {
    if ((votes.get(result.outputHash)?.size ?? 0) < need) continue
    if (best === undefined || compareCommit(result, best) < 0) best = result
  }
  return best
}

/** Executors whose successful output lost to the committed one (for reputation). */
export function dissenters (task: TaskRecord): string[] {
  const committed = committedResult(task)
  if (committed === undefined || task.replicas <= 1) return []
  const out = new Set<string>()
  for (const r of Object.values(task.results)) {
    if (r.exitCode === 0 && r.outputHash !== committed.outputHash && countsToward(task, r)) out.add(r.executor)
  }
  return [...out].sort(compareStrings)
}

/** The coordinator: whoever adopted the task last, else its submitter. */
export function taskCoordinator (task: TaskRecord): string {
  return task.coordinator.peer
}

/** Records (or renews) a lease; a lease for an older attempt than the current one does not count. */
export function taskLease (task: TaskRecord, lease: TaskLease): TaskRecord {
  return mergeTask(task, { ...task, leases: { [resultKey(lease.attempt, lease.executor)]: lease } })
}

/** Moves to attempt `attempt` (a no-op if the task is already there or past it). */
export function taskRetryTo (task: TaskRecord, attempt: number): TaskRecord {
  return mergeTask(task, { ...task, attempt })
}

/** `by` (the coordinator unless named) raises the redundancy to `replicas` executors; it counts if `by` submitted or adopted the task. */
export function taskReplicas (task: TaskRecord, replicas: number, by: string = task.coordinator.peer): TaskRecord {
  return mergeTask(task, { ...task, replicaRequests: { [by]: replicas } })
}

/** Hands coordination to `peer` at `epoch` (adoption by a survivor). */
export function taskAdopt (task: TaskRecord, coordinator: TaskCoordinator): TaskRecord {
  return mergeTask(task, { ...task, coordinator, adoptions: [adoptionKey(coordinator.epoch, coordinator.peer)] })
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

/** `by` asks to cancel the task: it is cancelled if `by` submitted it (a no-op once it has succeeded). */
export function taskCancel (task: TaskRecord, by: string): TaskRecord {
  if (typeof by !== 'string' || by === '') throw new InvalidArgumentError('a cancel needs the peer that asks for it')
  return mergeTask(task, { ...task, cancelRequests: [by] })
}

function unionSorted (a: readonly string[], b: readonly string[]): readonly string[] {
  if (a === b || b.length === 0) return a
  if (a.length === 0) return b
  return [...new Set([...a, ...b])].sort(compareStrings)
}

/** `by` gives the task up (retry budget spent): it fails if `by` submitted or adopted it. */
export function taskFail (task: TaskRecord, by: string): TaskRecord {
  if (typeof by !== 'string' || by === '') throw new InvalidArgumentError('a fail needs the peer that writes it')
  return mergeTask(task, { ...task, failRequests: [by] })
}

type TaskFacts = Omit<TaskRecord, 'state' | 'executor' | 'lease' | 'cancelled' | 'failed' | 'replicas'>

function normalize (facts: TaskFacts): TaskRecord {
  let attempt = facts.attempt
  for (const lease of Object.values(facts.leases)) attempt = Math.max(attempt, lease.attempt)
  for (const result of Object.values(facts.results)) attempt = Math.max(attempt, result.attempt)
  let replicas = facts.spec.replicas ?? 1
  for (const [peer, n] of Object.entries(facts.replicaRequests)) if (n > replicas && isTaskAuthority(facts, peer)) replicas = n
  const committed = committedResult({ results: facts.results, replicas, spec: facts.spec, adoptions: facts.adoptions })
  let current: TaskLease | undefined
  for (const lease of Object.values(facts.leases)) {
    if (lease.attempt === attempt && (current === undefined || compareLeases(lease, current) > 0)) current = lease
  }
  const cancelled = facts.spec.submitter !== '' && facts.cancelRequests.includes(facts.spec.submitter)
  const failed = facts.failRequests.some(peer => isTaskAuthority(facts, peer))
  let state: TaskState = 'pending'
  if (committed !== undefined) state = 'succeeded'
  else if (cancelled) state = 'cancelled'
  else if (failed) state = 'failed'
  else if (current !== undefined) state = 'running'
  const executor = committed?.executor ?? current?.executor
  return {
    taskId: facts.taskId,
    spec: facts.spec,
    state,
    attempt,
    ...(executor === undefined ? {} : { executor }),
    ...(current === undefined ? {} : { lease: current }),
    leases: facts.leases,
    results: facts.results,
    replicas,
    replicaRequests: facts.replicaRequests,
    coordinator: facts.coordinator,
    adoptions: facts.adoptions,
    cancelRequests: facts.cancelRequests,
    cancelled,
    failRequests: facts.failRequests,
    failed
  }
}

function mergeKeyed<T> (
  a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>, compare: (x: T, y: T) => number
): Readonly<Record<string, T>> {
  if (a === b) return a
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareStrings)
  return Object.fromEntries(keys.map(key => [key, maxBy(
    Object.hasOwn(a, key) ? a[key] : undefined,
    Object.hasOwn(b, key) ? b[key] : undefined,
    compare
  ) as T]))
}

function compareCoordinators (a: TaskCoordinator, b: TaskCoordinator): number {
  return a.epoch - b.epoch || compareStrings(a.peer, b.peer)
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
  return a.attempt - b.attempt || a.expiresWall - b.expiresWall || compareStrings(a.executor, b.executor) ||
    compareCanonical(a, b)
}

/**
 * Two reports under one key (one author's): one that passed its proof checks beats one that
 * did not, then a success beats a failure (so a committed result never turns back into a
 * failure), then the later hlc wins, then content breaks exact ties.
 */
function compareReports (a: TaskResult, b: TaskResult): number {
  return Number(a.rejected === undefined) - Number(b.rejected === undefined) ||
    Number(a.exitCode === 0) - Number(b.exitCode === 0) || compareHlc(a.hlc, b.hlc) ||
    compareStrings(a.outputHash, b.outputHash) || a.exitCode - b.exitCode ||
    compareStrings(a.executor, b.executor) || a.attempt - b.attempt || compareCanonical(a, b)
}

/** Commit order, first by lease: lowest attempt, then grant epoch, then the earliest hlc; executor and hash break exact ties. */
function compareCommit (a: TaskResult, b: TaskResult): number {
  return a.attempt - b.attempt || (a.grant?.epoch ?? 0) - (b.grant?.epoch ?? 0) || compareHlc(a.hlc, b.hlc) ||
    compareStrings(a.executor, b.executor) || compareStrings(a.outputHash, b.outputHash)
}

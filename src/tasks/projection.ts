/**
 * The API projection of the replicated task records: a record → `TaskSummaryDoc`,
 * `TaskDoc`, the `task:updated` event, `TaskVerifyDoc`. Pure: the service hands in what
 * only it knows (why a pending task waits, this team's id).
 */
import type { TaskDoc, TaskResultDoc, TaskStateName, TaskSummaryDoc, TaskVerifyDoc } from '../model/docs.js'
import { adopterOf, committedResult, resultProblem, type TaskRecord, type TaskResult } from '../state/crdt/index.js'
import { DEFAULT_RETRIES } from './constants.js'
import { verifyReceipt } from './receipt.js'

/** how many tasks `taskList` shows unless asked for another number */
export const DEFAULT_LIST_LIMIT = 1000

export function taskSummary (record: TaskRecord): TaskSummaryDoc {
  return {
    taskId: record.taskId,
    agent: record.spec.agent,
    state: record.state,
    submitter: record.spec.submitter,
    executor: record.executor ?? null,
    priority: record.spec.priority,
    attempt: record.attempt,
    createdWall: record.spec.createdHlc.wall
  }
}

/** when the current lease's run started, if its executor said */
export function startedWall (record: TaskRecord): number | null {
  const lease = record.lease
  return lease?.startedWall ?? null
}

/** a result as the API shows it; `notCounted` says why it does not count toward the vote */
export function resultDoc (r: TaskResult | undefined, notCounted?: string): TaskResultDoc | null {
  if (r === undefined) return null
  return {
    executor: r.executor,
    attempt: r.attempt,
    exitCode: r.exitCode,
    outputHash: r.outputHash,
    ...(r.output === undefined ? {} : { output: r.output }),
    ...(r.error === undefined ? {} : { error: r.error }),
    ...(r.receipt === undefined ? {} : { receipt: r.receipt }),
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(notCounted === undefined ? {} : { notCounted })
  }
}

/** an element of `TaskRecord.adoptions` (`epoch:peer`) as the API shows it */
function adoptionOf (key: string): { peerId: string, epoch: number } {
  return { peerId: adopterOf(key), epoch: Number(key.slice(0, key.indexOf(':'))) }
}

/** The full document of a task. `waiting`: why the coordinator has not placed it (shown while pending). */
export function taskDoc (record: TaskRecord, waiting: string | undefined): TaskDoc {
  const { spec } = record
  return {
    ...taskSummary(record),
    input: spec.input,
    labels: { ...spec.labels },
    needs: { ...spec.needs },
    timeoutMs: spec.timeoutMs ?? null,
    retries: spec.retries ?? DEFAULT_RETRIES,
    replicas: record.replicas,
    coordinator: record.coordinator.peer,
    adoptions: record.adoptions.map(adoptionOf).sort((a, b) => a.epoch - b.epoch),
    cancelled: record.cancelled,
    cancelRequests: [...record.cancelRequests],
    failRequests: [...record.failRequests],
    result: resultDoc(committedResult(record)),
    results: Object.values(record.results).map(r => resultDoc(r, resultProblem(r, record)) as TaskResultDoc),
    leases: Object.values(record.leases).map(l => ({ executor: l.executor, attempt: l.attempt, expiresWall: l.expiresWall, startedWall: l.startedWall ?? null })),
    startedWall: startedWall(record),
    waiting: record.state === 'pending' ? waiting ?? null : null
  }
}

/** The data of a `task:updated` event. */
export function taskUpdated (record: TaskRecord, waiting: string | undefined): TaskSummaryDoc & { startedWall: number | null, result: TaskResultDoc | null, waiting: string | null } {
  return { ...taskSummary(record), startedWall: startedWall(record), result: resultDoc(committedResult(record)), waiting: waiting ?? null }
}

/** whether `before` → `after` is news for `task:updated` watchers: a new task, or a new state, executor or attempt */
export function isNews (before: TaskRecord | undefined, after: TaskRecord): boolean {
  return before === undefined || before.state !== after.state || before.executor !== after.executor || before.attempt !== after.attempt
}

/** The summaries of `records` (of one state, if asked), newest first, at most `limit`. */
export async function taskList (records: AsyncIterable<TaskRecord>, filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]> {
  const out: TaskRecord[] = []
  for await (const record of records) {
    if (filter.state !== undefined && record.state !== filter.state) continue
    out.push(record)
  }
  // newest first by the creation clock: two tasks made in the same millisecond are ordered
  // by its logical counter, not by their ids
  out.sort((a, b) => b.spec.createdHlc.wall - a.spec.createdHlc.wall || b.spec.createdHlc.logical - a.spec.createdHlc.logical || (a.taskId < b.taskId ? -1 : 1))
  return out.slice(0, filter.limit ?? DEFAULT_LIST_LIMIT).map(taskSummary)
}

/**
 * Checks the committed result's receipt against the task (`paired task verify`): a
 * receipt of a batch by its inclusion proof and the batch's signature, the reason naming
 * its place in the batch when that fails.
 */
export function verifyDoc (record: TaskRecord, teamId: string): TaskVerifyDoc {
  const taskId = record.taskId
  const committed = committedResult(record)
  if (committed === undefined) return { taskId, ok: false, reason: `no committed result (task is ${record.state})`, executor: null, receipt: null }
  const check = verifyReceipt(committed.receipt, {
    teamId,
    taskId,
    attempt: committed.attempt,
    executor: committed.executor,
    input: record.spec.input,
    ...(committed.output === undefined ? {} : { output: committed.output })
  })
  if (check.ok && (committed.receipt as { outputHash?: unknown }).outputHash !== committed.outputHash) {
    return { taskId, ok: false, reason: 'the receipt does not name the committed output', executor: committed.executor, receipt: committed.receipt ?? null }
  }
  return { taskId, ok: check.ok, ...(check.ok ? {} : { reason: check.reason }), executor: committed.executor, receipt: committed.receipt ?? null }
}

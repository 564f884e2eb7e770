/**
 * Reputation from replicated task facts: what each applied op says about its author.
 * Pure; the task service feeds the book and logs the violations.
 *
 * - A **result** that counts is an outcome of its executor: `success` (or `outvoted` when a
 *   replicated task committed another output), `failure`, or `timeout` when the agent's own
 *   limit ran out. Nothing counts against the executor when the agent refused the input (the
 *   submitter's doing), the attempt was cancelled, or the timeout was the submitter's choice
 *   (`timeoutMs` in the spec).
 * - A result that failed its proof checks, a result granted by its own author who does
 *   not coordinate the task, and a `task:fail` or `task:cancel` by a member that neither
 *   submitted nor coordinates the task are **protocol violations**: forgeries.
 *
 * A result whose grant's signer is not (yet) known as the task's coordinator, but is not
 * its own author, is judged on nothing: the adoption fact may still be on its way.
 */
import { committedResult, isTaskAuthority, resultKey, resultProblem, type TaskRecord } from '../state/crdt/index.js'
import type { Op, TaskResultBody } from '../state/ops/index.js'
import { EXIT_CANCELLED, EXIT_TIMEOUT } from './agents/constants.js'

export type Verdict =
  | { peer: string, taskId: string, outcome: 'success' | 'failure' | 'timeout' | 'outvoted' }
  | { peer: string, taskId: string, violation: string }

/** ops only the submitter or a coordinator writes, and what a forger tried with each */
const ENDS: Readonly<Record<string, string>> = { 'task:fail': 'failed', 'task:cancel': 'cancelled', 'task:replicas': 'raised the redundancy of' }

/** why a failed attempt is not the executor's fault, or undefined when it is */
export function blameless (result: { exitCode: number, reason?: string }, spec: { timeoutMs?: number }): string | undefined {
  const reason = result.reason ?? (result.exitCode === EXIT_CANCELLED ? 'cancelled' : undefined)
  if (reason === 'invalid-input') return 'the agent refused the input'
  if (reason === 'cancelled') return 'the attempt was cancelled'
  const timedOut = reason === 'timeout' || (reason === undefined && result.exitCode === EXIT_TIMEOUT)
  if (timedOut && spec.timeoutMs !== undefined) return 'the submitter chose the timeout'
  return undefined
}

function judgeResult (op: Op, record: TaskRecord): Verdict | undefined {
  const body = op.body as TaskResultBody
  const taskId = record.taskId
  const stored = record.results[resultKey(body.attempt, op.author)]
  if (stored !== undefined && compareSame(stored, op)) {
    if (stored.rejected !== undefined) return { peer: op.author, taskId, violation: `result of attempt ${body.attempt} rejected: ${stored.rejected}` }
    const problem = resultProblem(stored, record)
    if (problem !== undefined) {
      if (stored.grant?.coordinator === op.author) return { peer: op.author, taskId, violation: `result of attempt ${body.attempt} not counted: ${problem}` }
      return undefined
    }
  }
  if (body.exitCode === 0) {
    const committed = committedResult(record)
    const lost = record.replicas > 1 && committed !== undefined && committed.outputHash !== body.outputHash
    return { peer: op.author, taskId, outcome: lost ? 'outvoted' : 'success' }
  }
  if (blameless(body, record.spec) !== undefined) return undefined
  const timedOut = body.reason === 'timeout' || (body.reason === undefined && body.exitCode === EXIT_TIMEOUT)
  return { peer: op.author, taskId, outcome: timedOut ? 'timeout' : 'failure' }
}

/** whether the stored result is the one `op` wrote (a later report of the same key may have replaced it) */
function compareSame (stored: TaskRecord['results'][string], op: Op): boolean {
  return stored.hlc.wall === op.hlc.wall && stored.hlc.logical === op.hlc.logical && stored.hlc.node === op.hlc.node
}

/**
 * What `ops` (just applied) say about their authors, given the records after them. Ops by
 * `selfId` and ops of tasks not in `records` (not created yet) are not judged.
 */
export function judgeTaskOps (ops: readonly Op[], records: ReadonlyMap<string, TaskRecord>, selfId: string): Verdict[] {
  const out: Verdict[] = []
  for (const op of ops) {
    if (op.author === selfId) continue
    const taskId = (op.body as { taskId?: unknown } | null)?.taskId
    if (typeof taskId !== 'string') continue
    const record = records.get(taskId)
    if (record === undefined) continue
    if (op.kind === 'task:result') {
      const verdict = judgeResult(op, record)
      if (verdict !== undefined) out.push(verdict)
    } else if (ENDS[op.kind] !== undefined && !isTaskAuthority(record, op.author)) {
      out.push({ peer: op.author, taskId, violation: `${ENDS[op.kind]} a task it neither submitted nor coordinates` })
    }
  }
  return out
}

/**
 * `task explain` lines about what does not count: results that fail their proof, and
 * fails, cancels or redundancy raises by members that may not ask them. (A counting
 * failure is told once, where the task ran, with its excuse: `explain.ts`.)
 */
export function explainAuthority (record: TaskRecord): string[] {
  const lines: string[] = []
  for (const r of Object.values(record.results)) {
    const problem = resultProblem(r, record)
    // a counting result, failed or not, is told where the task ran (`explain.ts`)
    if (problem !== undefined) lines.push(`attempt ${r.attempt} result by ${r.executor} does not count (a forgery?): ${problem}`)
  }
  for (const peer of record.failRequests) {
    if (!isTaskAuthority(record, peer)) lines.push(`a fail by ${peer} is ignored: it neither submitted nor coordinates the task (a forgery?)`)
  }
  for (const peer of record.cancelRequests) {
    if (!isTaskAuthority(record, peer)) lines.push(`a cancel by ${peer} is ignored: only the submitter cancels`)
  }
  for (const peer of Object.keys(record.replicaRequests)) {
    if (!isTaskAuthority(record, peer)) lines.push(`a redundancy of ${record.replicaRequests[peer]} asked by ${peer} is ignored: it neither submitted nor coordinates the task`)
  }
  return lines
}

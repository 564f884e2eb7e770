/**
 * The task view: per task id, the join of every task fact seen (the task lattice of
 * `crdt/task-lattice.ts`), kept in LevelDB one key per task. Pure helpers; the store does
 * the reading and writing.
 *
 * Facts can arrive before the task's `task:create` (they come from other authors, in any
 * order), so a stored record may have the placeholder spec `UNKNOWN_SPEC`: the lattice's
 * spec join keeps the lowest `createdHlc`, and the placeholder's is the highest possible,
 * so the real spec replaces it whenever it arrives. Such a record is not shown.
 */
import { createHash } from 'node:crypto'
import {
  canonicalEncode, createTask, mergeTask, taskAdopt, taskCancel, taskFail, taskLease, taskReplicas, taskResult,
  taskRetryTo, type TaskRecord, type TaskSpec
} from '../crdt/index.js'
import { adoptionKey } from '../crdt/index.js'
import { isPlainObject } from '../../model/guards.js'
import { TASK_KINDS } from '../ops/index.js'
import { resultProof } from './task-proof.js'
import type {
  Op, TaskAdoptBody, TaskCreateBody, TaskLeaseBody, TaskReplicasBody, TaskResultBody, TaskRetryBody
} from '../ops/index.js'

export const UNKNOWN_SPEC: TaskSpec = {
  agent: '', input: null, priority: 'low', submitter: '', createdHlc: { wall: Number.MAX_SAFE_INTEGER, logical: 0, node: '~' }
}

/**
 * A task record as stored. Records written before cancels were per peer (`cancelRequests`)
 * hold `cancelled: true` instead: that was the submitter's or someone's cancel, taken as the
 * submitter's, so those tasks stay cancelled. Records written before fails and adoptions
 * were per peer (`failRequests`, `adoptions`, `replicaRequests`) take their coordinator as
 * the one that failed, adopted or raised the redundancy, so they keep their state.
 */
export function storedTaskRecord (value: Record<string, unknown>): TaskRecord {
  let record = value as unknown as TaskRecord
  if (!Array.isArray(record.cancelRequests)) {
    record = { ...record, cancelRequests: record.cancelled && record.spec.submitter !== '' ? [record.spec.submitter] : [] }
  }
  if (!Array.isArray(record.adoptions)) {
    const { peer, epoch } = record.coordinator
    record = { ...record, adoptions: epoch > 0 ? [adoptionKey(epoch, peer)] : [] }
  }
  if (!Array.isArray(record.failRequests)) record = { ...record, failRequests: record.failed ? [record.coordinator.peer] : [] }
  if (record.replicaRequests === undefined) {
    record = { ...record, replicaRequests: record.replicas > (record.spec.replicas ?? 1) ? { [record.coordinator.peer]: record.replicas } : {} }
  }
  return record
}

/** Whether the record's `task:create` has been seen. */
export function isCreated (record: TaskRecord): boolean {
  return record.spec.submitter !== ''
}

/** The task an op is a fact of, or `undefined` for other kinds. */
export function taskIdOf (op: Op): string | undefined {
  if (!TASK_KINDS.has(op.kind) || !isPlainObject(op.body)) return undefined
  const id = op.body.taskId
  return typeof id === 'string' ? id : undefined
}

/** `record` (or a placeholder for `taskId`) joined with the fact `op` states. */
export function applyTaskOp (record: TaskRecord | undefined, op: Op): TaskRecord {
  const taskId = taskIdOf(op) as string
  const base = record ?? createTask(taskId, UNKNOWN_SPEC)
  switch (op.kind) {
    case 'task:create': {
      const { spec } = op.body as TaskCreateBody
      return mergeTask(base, createTask(taskId, { ...spec, submitter: op.author, createdHlc: op.hlc }))
    }
    case 'task:lease': {
      const b = op.body as TaskLeaseBody
      return taskLease(base, {
        executor: op.author, attempt: b.attempt, expiresWall: b.expiresWall,
        ...(b.startedWall === undefined ? {} : { startedWall: b.startedWall })
      })
    }
    case 'task:result': {
      const { taskId: _id, grant: _grant, ...b } = op.body as TaskResultBody
      return taskResult(base, { ...b, executor: op.author, hlc: op.hlc, ...resultProof(op) })
    }
    case 'task:retry': return taskRetryTo(base, (op.body as TaskRetryBody).attempt)
    case 'task:replicas': return taskReplicas(base, (op.body as TaskReplicasBody).replicas, op.author)
    case 'task:adopt': return taskAdopt(base, { peer: op.author, epoch: (op.body as TaskAdoptBody).epoch })
    case 'task:cancel': return taskCancel(base, op.author)
    case 'task:fail': return taskFail(base, op.author)
    default: return base
  }
}

/** The records `ops` change, given the current record of each task they touch. */
export function taskChanges (ops: Op[], current: ReadonlyMap<string, TaskRecord>): Map<string, TaskRecord> {
  const changes = new Map<string, TaskRecord>()
  for (const op of ops) {
    const id = taskIdOf(op)
    if (id === undefined) continue
    changes.set(id, applyTaskOp(changes.get(id) ?? current.get(id), op))
  }
  return changes
}

/** The digest of one task record in the state hash (disjoint from kv entries by its tag). */
export function taskDigest (taskId: string, record: TaskRecord): bigint {
  const h = createHash('sha256').update(canonicalEncode(['task', taskId, record])).digest('hex')
  return BigInt(`0x${h}`)
}

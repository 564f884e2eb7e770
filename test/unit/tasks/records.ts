/** Task records for the coordinator's pure rules, built with the CRDT's own helpers. */
import {
  createTask, taskLease, taskResult, type TaskLease, type TaskRecord, type TaskResult, type TaskSpec
} from '../../../src/state/crdt/index.js'

/** a pending task `t1` of agent `echo`, submitted by `sub`, with `over` in its spec */
export function task (over: Partial<TaskSpec> = {}): TaskRecord {
  return createTask('t1', { agent: 'echo', input: { n: 1 }, priority: 'normal', submitter: 'sub', createdHlc: { wall: 1, logical: 0, node: 'sub' }, ...over })
}

/** `record` with these leases */
export function leased (record: TaskRecord, ...leases: TaskLease[]): TaskRecord {
  return leases.reduce(taskLease, record)
}

/** `record` with one result per `[executor, attempt, exitCode]` */
export function reported (record: TaskRecord, ...results: Array<[string, number, number]>): TaskRecord {
  return results.reduce((r, [executor, attempt, exitCode]): TaskRecord => {
    const result: TaskResult = { executor, attempt, exitCode, outputHash: `out-${exitCode}`, hlc: { wall: 2, logical: 0, node: executor } }
    return taskResult(r, result)
  }, record)
}

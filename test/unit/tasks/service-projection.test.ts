/**
 * The API projection of task records (`tasks/projection.ts`): a record → TaskDoc (the
 * committed result, every result with why it does not count, waiting only while pending),
 * the `task:updated` event, the list, and `paired task verify`.
 */
import { describe, expect, it } from 'vitest'
import {
  createTask, taskAdopt, taskCancel, taskLease, taskReplicas, taskResult, type TaskRecord, type TaskResult
} from '../../../src/state/crdt/index.js'
import { DEFAULT_RETRIES } from '../../../src/tasks/constants.js'
import { isNews, taskDoc, taskList, taskSummary, taskUpdated, verifyDoc } from '../../../src/tasks/projection.js'
import { hashJson, signReceipt } from '../../../src/tasks/receipt.js'
import { TEAM, makeAuthor, type Author } from '../state/ops/helpers.js'

const SUB = 'peer-submitter'

function pending (over: Partial<TaskRecord['spec']> = {}, taskId = 't1'): TaskRecord {
  return createTask(taskId, { agent: 'echo', input: { n: 1 }, priority: 'normal', submitter: SUB, createdHlc: { wall: 100, logical: 0, node: SUB }, ...over })
}

function result (executor: string, over: Partial<TaskResult> = {}): TaskResult {
  return { executor, attempt: 1, exitCode: 0, outputHash: 'h-good', hlc: { wall: 200, logical: 0, node: executor }, ...over }
}

/** a result of `executor` with a receipt it signed for `record`'s attempt 1 */
function receipted (record: TaskRecord, executor: Author, output: unknown): TaskResult {
  const receipt = signReceipt({
    v: 1, teamId: TEAM, taskId: record.taskId, attempt: 1, agent: record.spec.agent, inputHash: hashJson(record.spec.input),
    outputHash: hashJson(output), exitCode: 0, executor: executor.peerId, startedWall: 150, endedWall: 160
  }, executor.signer)
  return result(executor.peerId, { outputHash: hashJson(output), output, receipt })
}

describe('projection: a record as a TaskDoc', () => {
  it('lists the adoptions by epoch, oldest first (epoch 10 after epoch 9)', () => {
    let r = pending()
    for (const [epoch, peer] of [[10, 'p10'], [9, 'p9'], [1, 'p1']] as const) r = taskAdopt(r, { peer, epoch })
    expect(taskDoc(r, undefined).adoptions).toEqual([{ peerId: 'p1', epoch: 1 }, { peerId: 'p9', epoch: 9 }, { peerId: 'p10', epoch: 10 }])
    expect(taskDoc(r, undefined).coordinator).toBe('p10')
  })

  it('a new task: its spec with defaults, no result, and why it waits', () => {
    const doc = taskDoc(pending({ labels: { os: 'linux' } }), 'no member serves agent "echo"')
    expect(doc).toEqual({
      taskId: 't1', agent: 'echo', state: 'pending', submitter: SUB, executor: null, priority: 'normal', attempt: 1, createdWall: 100,
      input: { n: 1 }, labels: { os: 'linux' }, needs: {}, timeoutMs: null, retries: DEFAULT_RETRIES, replicas: 1,
      coordinator: SUB, adoptions: [], cancelled: false, cancelRequests: [], failRequests: [],
      result: null, results: [], leases: [], startedWall: null, waiting: 'no member serves agent "echo"'
    })
  })

  it('waiting is shown only while the task is pending', () => {
    const running = taskLease(pending(), { executor: 'peer-x', attempt: 1, expiresWall: 10_000, startedWall: 150 })
    expect(running.state).toBe('running')
    const doc = taskDoc(running, 'stale reason')
    expect(doc.waiting).toBeNull()
    expect(doc).toMatchObject({ executor: 'peer-x', startedWall: 150, leases: [{ executor: 'peer-x', attempt: 1, expiresWall: 10_000, startedWall: 150 }] })
    expect(taskDoc(taskCancel(pending(), SUB), 'stale reason').waiting).toBeNull()
    expect(taskDoc(pending(), undefined).waiting).toBeNull()
  })

  it('the committed result, and every result with why it does not count', () => {
    let record = taskResult(pending(), result('peer-a', { output: 'ok' }))
    record = taskResult(record, result('peer-b', { rejected: 'the receipt does not verify' }))
    record = taskResult(record, result('peer-c', { grant: { coordinator: 'peer-z', epoch: 0 } }))
    const doc = taskDoc(record, undefined)
    expect(doc.state).toBe('succeeded')
    expect(doc.result).toEqual({ executor: 'peer-a', attempt: 1, exitCode: 0, outputHash: 'h-good', output: 'ok' })
    const byExecutor = Object.fromEntries(doc.results.map(r => [r.executor, r.notCounted]))
    expect(byExecutor).toEqual({
      'peer-a': undefined,
      'peer-b': 'the receipt does not verify',
      'peer-c': 'its grant is by peer-z at epoch 0, who does not coordinate the task'
    })
  })

  it('a failed result shows its error and reason; no committed result', () => {
    const record = taskResult(pending({ retries: 0 }), result('peer-a', { exitCode: 1, outputHash: 'h-bad', error: 'exit 1', reason: 'crashed' }))
    const doc = taskDoc(record, undefined)
    expect(doc.result).toBeNull()
    expect(doc.results).toEqual([{ executor: 'peer-a', attempt: 1, exitCode: 1, outputHash: 'h-bad', error: 'exit 1', reason: 'crashed' }])
  })

  it('replicas: one result of three does not commit', () => {
    const record = taskResult(taskReplicas(pending({ replicas: 3 }), 3, SUB), result('peer-a'))
    const doc = taskDoc(record, undefined)
    expect(doc.replicas).toBe(3)
    expect(doc.result).toBeNull()
    expect(doc.results).toHaveLength(1)
  })

  it('the document holds copies: changing it does not change the record', () => {
    const record = pending({ labels: { os: 'linux' } })
    const doc = taskDoc(record, undefined)
    doc.labels.os = 'mac'
    expect(record.spec.labels).toEqual({ os: 'linux' })
  })
})

describe('projection: events and lists', () => {
  it('task:updated carries the summary, start, committed result and waiting', () => {
    const record = taskResult(pending(), result('peer-a'))
    expect(taskUpdated(record, undefined)).toEqual({
      ...taskSummary(record), startedWall: null, result: { executor: 'peer-a', attempt: 1, exitCode: 0, outputHash: 'h-good' }, waiting: null
    })
  })

  it('news is a new task, or a new state, executor or attempt', () => {
    const record = pending()
    expect(isNews(undefined, record)).toBe(true)
    expect(isNews(record, record)).toBe(false)
    expect(isNews(record, taskLease(record, { executor: 'peer-x', attempt: 1, expiresWall: 10_000 }))).toBe(true)
    expect(isNews(record, { ...record, attempt: 2 })).toBe(true)
  })

  it('lists newest first (ties by id), of one state, at most limit', async () => {
    const records = [
      pending({ createdHlc: { wall: 100, logical: 0, node: SUB } }, 't-a'),
      pending({ createdHlc: { wall: 300, logical: 0, node: SUB } }, 't-b'),
      taskCancel(pending({ createdHlc: { wall: 200, logical: 0, node: SUB } }, 't-c'), SUB),
      pending({ createdHlc: { wall: 300, logical: 0, node: SUB } }, 't-0')
    ]
    const stream = async function * (): AsyncGenerator<TaskRecord> { yield * records }
    expect((await taskList(stream(), {})).map(s => s.taskId)).toEqual(['t-0', 't-b', 't-c', 't-a'])
    expect((await taskList(stream(), { state: 'pending', limit: 2 })).map(s => s.taskId)).toEqual(['t-0', 't-b'])
    expect((await taskList(stream(), { state: 'cancelled' })).map(s => s.taskId)).toEqual(['t-c'])
  })
})

describe('projection: verify', () => {
  it('no committed result: not ok, and says the state', () => {
    expect(verifyDoc(pending(), TEAM)).toEqual({ taskId: 't1', ok: false, reason: 'no committed result (task is pending)', executor: null, receipt: null })
  })

  it('a committed result with its executor\'s receipt verifies; of another team, or a receipt for another output, does not', async () => {
    const executor = await makeAuthor()
    const good = receipted(pending(), executor, { sum: 3 })
    const record = taskResult(pending(), good)
    expect(verifyDoc(record, TEAM)).toEqual({ taskId: 't1', ok: true, executor: executor.peerId, receipt: good.receipt })
    expect(verifyDoc(record, 'ff'.repeat(16)).ok).toBe(false)
    const swapped = taskResult(pending(), { ...good, output: { sum: 4 }, outputHash: hashJson({ sum: 4 }) })
    expect(verifyDoc(swapped, TEAM)).toMatchObject({ ok: false, executor: executor.peerId })
  })
})

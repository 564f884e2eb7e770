/**
 * Only the right author may end a task: forged results and fails in the task lattice. A
 * forger is 'm', a member that neither submitted nor coordinates the task; 'a' submitted
 * it (SPECS[0]); 'y' adopts it at epoch 1; 'x' is the executor the coordinator granted.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  committedResult, createTask, mergeTask, taskAdopt, taskCancel, taskFail, taskLease, taskReplicas, taskResult,
  type Hlc, type TaskRecord, type TaskResult
} from '../../../../src/state/crdt/index.js'
import { SPECS, TASK_ID } from './arbitraries.js'

const h = (wall: number, node: string): Hlc => ({ wall, logical: 0, node })
const created = createTask(TASK_ID, SPECS[0])
const running = taskLease(created, { executor: 'x', attempt: 1, expiresWall: 5_000 })
/** the granted executor's success */
const real: TaskResult = { executor: 'x', attempt: 1, exitCode: 0, outputHash: 'real', hlc: h(2_000, 'x'), grant: { coordinator: 'a', epoch: 0 } }

/** every order of applying `steps` to `start` ends in the same record */
function allOrders (start: TaskRecord, steps: Array<(t: TaskRecord) => TaskRecord>): TaskRecord {
  const results = fc.sample(fc.shuffledSubarray(steps.map((_, i) => i), { minLength: steps.length, maxLength: steps.length }), 30)
    .map(order => order.reduce((t, i) => steps[i](t), start))
  for (const r of results) expect(r).toStrictEqual(results[0])
  return results[0]
}

describe('forged results never commit', () => {
  it('a success granted by a member that does not coordinate the task is kept but never commits, in any order', () => {
    // the forger grants itself attempt 1, with an earlier hlc and a peer id that sorts first
    const forged: TaskResult = { executor: '0', attempt: 1, exitCode: 0, outputHash: 'forged', hlc: h(1_000, '0'), grant: { coordinator: '0', epoch: 0 } }
    const alone = taskResult(running, forged)
    expect(alone.state).toBe('running')
    expect(committedResult(alone)).toBeUndefined()
    const both = allOrders(running, [t => taskResult(t, forged), t => taskResult(t, real)])
    expect(both).toMatchObject({ state: 'succeeded', executor: 'x' })
    expect(committedResult(both)?.outputHash).toBe('real')
    expect(Object.keys(both.results)).toEqual(['1:0', '1:x'])
  })

  it('a success whose receipt or grant did not verify never commits, nor displaces the author\'s own valid report', () => {
    const rejected: TaskResult = { executor: 'm', attempt: 1, exitCode: 0, outputHash: 'forged', hlc: h(1_000, 'm'), rejected: 'no lease grant from the task\'s coordinator' }
    expect(taskResult(running, rejected).state).toBe('running')
    expect(committedResult(allOrders(running, [t => taskResult(t, rejected), t => taskResult(t, real)]))?.outputHash).toBe('real')
    // the executor's own later report that fails its checks does not undo its commit
    const later = { ...real, outputHash: 'other', hlc: h(3_000, 'x'), grant: undefined, rejected: 'its receipt does not verify' }
    const merged = allOrders(running, [t => taskResult(t, real), t => taskResult(t, later)])
    expect(merged.results['1:x']).toStrictEqual(real)
  })

  it('an adopter\'s grant counts once its adoption is known, whichever arrives first; a grant at another epoch does not', () => {
    const adopted: TaskResult = { ...real, executor: 'z', hlc: h(2_500, 'z'), grant: { coordinator: 'y', epoch: 1 } }
    const before = taskResult(running, adopted)
    expect(before.state).toBe('running')
    const after = allOrders(running, [t => taskResult(t, adopted), t => taskAdopt(t, { peer: 'y', epoch: 1 })])
    expect(after).toMatchObject({ state: 'succeeded', executor: 'z', adoptions: ['1:y'] })
    const wrongEpoch = { ...adopted, grant: { coordinator: 'y', epoch: 2 } }
    expect(taskResult(taskAdopt(running, { peer: 'y', epoch: 1 }), wrongEpoch).state).toBe('running')
  })

  it('the first valid result by lease commits, not the lowest peer id', () => {
    const first = { ...real, executor: 'z', hlc: h(1_500, 'z') }
    const second = { ...real, executor: 'b', outputHash: 'second', hlc: h(2_500, 'b') }
    expect(committedResult(allOrders(running, [t => taskResult(t, second), t => taskResult(t, first)]))?.executor).toBe('z')
    // an earlier attempt still comes first (a late success of attempt 1 beats attempt 2's)
    const retried = { ...second, attempt: 2, hlc: h(1_000, 'b') }
    expect(committedResult(allOrders(running, [t => taskResult(t, retried), t => taskResult(t, first)]))?.executor).toBe('z')
    // and a grant of an adopter (a later epoch) comes after the submitter's for one attempt
    const adopted = { ...real, executor: 'c', hlc: h(1_000, 'c'), grant: { coordinator: 'y', epoch: 1 } }
    const withAdoption = taskAdopt(running, { peer: 'y', epoch: 1 })
    expect(committedResult(allOrders(withAdoption, [t => taskResult(t, adopted), t => taskResult(t, first)]))?.executor).toBe('z')
  })
})

describe('only the submitter or a coordinator fails a task', () => {
  it('a bystander\'s fail is kept but fails nothing; the submitter\'s or an adopter\'s does, in any order', () => {
    const forged = taskFail(running, 'm')
    expect(forged).toMatchObject({ state: 'running', failed: false, failRequests: ['m'] })
    expect(taskFail(running, 'a')).toMatchObject({ state: 'failed', failed: true })
    const byAdopter = allOrders(running, [t => taskFail(t, 'y'), t => taskAdopt(t, { peer: 'y', epoch: 1 }), t => taskFail(t, 'm')])
    expect(byAdopter).toMatchObject({ state: 'failed', failed: true, failRequests: ['m', 'y'] })
    // a forged fail never beats a success, and a real result still commits after one
    expect(taskResult(forged, real)).toMatchObject({ state: 'succeeded', executor: 'x' })
    expect(() => taskFail(running, '')).toThrow(/needs the peer/)
  })

  it('a fail from before the record knew its spec counts once the spec arrives (the submitter\'s) or never (a bystander\'s)', () => {
    const placeholder = createTask(TASK_ID, { ...SPECS[0], submitter: '', createdHlc: { wall: Number.MAX_SAFE_INTEGER, logical: 0, node: '~' } })
    const early = taskFail(taskFail(placeholder, 'a'), 'm')
    expect(early.failed).toBe(false)
    expect(mergeTask(early, created)).toMatchObject({ state: 'failed', failRequests: ['a', 'm'] })
    expect(mergeTask(taskFail(placeholder, 'm'), created).failed).toBe(false)
    // cancels keep their rule: only the submitter's
    expect(taskCancel(running, 'y').cancelled).toBe(false)
  })
})

describe('only the submitter or a coordinator raises the redundancy', () => {
  it('a bystander\'s raise is kept but changes nothing; an adopter\'s counts once its adoption is known', () => {
    const forged = taskReplicas(running, 7, 'm')
    expect(forged).toMatchObject({ replicas: 1, replicaRequests: { m: 7 } })
    // so a forged raise cannot keep a lone success from committing
    expect(taskResult(forged, real)).toMatchObject({ state: 'succeeded', replicas: 1 })
    expect(taskReplicas(running, 3, 'a').replicas).toBe(3)
    const adopted = allOrders(running, [t => taskReplicas(t, 2, 'y'), t => taskAdopt(t, { peer: 'y', epoch: 1 })])
    expect(adopted.replicas).toBe(2)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  TaskMismatchError, committedResult, createTask, dissenters, isTerminalState, mergeTask, quorum, taskAdopt, taskCancel,
  taskCoordinator, taskFail, taskLease, taskReplicas, taskResult, taskRetry, taskRetryTo, type Hlc, type TaskRecord, type TaskResult
} from '../../../../src/state/crdt/index.js'
import { SPECS, TASK_ID, applyTaskOp, taskArb, taskOpArb } from './arbitraries.js'
import { assertAssociative, assertCommutative, assertIdempotent } from './laws.js'

const h = (wall: number, logical = 0, node = 'a'): Hlc => ({ wall, logical, node })
const ok = (executor: string, attempt: number, outputHash = 'out', wall = 2_000): TaskResult =>
  ({ executor, attempt, exitCode: 0, outputHash, hlc: h(wall, 0, executor) })
const bad = (executor: string, attempt: number): TaskResult =>
  ({ executor, attempt, exitCode: 1, outputHash: 'err', hlc: h(2_000, 0, executor) })

/** Position in pending@n < running@n < pending@n+1 < … < failed < cancelled < succeeded. */
function progress (t: TaskRecord): number {
  switch (t.state) {
    case 'succeeded': return 3e9
    case 'cancelled': return 2e9
    case 'failed': return 1e9
    default: return t.attempt * 2 + (t.state === 'running' ? 1 : 0)
  }
}

describe('mergeTask laws', () => {
  it('is commutative', () => { assertCommutative(taskArb, mergeTask) })
  it('is associative', () => { assertAssociative(taskArb, mergeTask) })
  it('is idempotent', () => { assertIdempotent(taskArb, mergeTask) })

  it('replicas that saw the same ops in any order agree, and the state never moves backwards', () => {
    fc.assert(fc.property(
      fc.array(taskOpArb, { maxLength: 12 }).chain(ops =>
        fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length, maxLength: ops.length }))),
      ([ops, shuffled]) => {
        // retries are relative to what a replica has seen, so replay them as absolute attempts
        const start = createTask(TASK_ID, SPECS[0])
        const whole = ops.reduce(applyTaskOp, start)
        const other = shuffled.reduce(applyTaskOp, start)
        expect(mergeTask(whole, other)).toStrictEqual(mergeTask(other, whole))
        let t = start
        const outputs = new Map<string, string>()
        for (const op of ops) {
          const next = applyTaskOp(t, op)
          // raising redundancy can un-commit a lone success (coordinators raise it before any
          // offer), and so can an executor that equivocates (two different successful outputs
          // for one attempt): the record still converges, but the state may step back
          // (forged or differently granted reports of one key are an author equivocating too)
          let equivocates = false
          if (op.kind === 'result') {
            const key = `${op.attempt}:${op.executor}`
            const said = `${op.exitCode === 0 ? op.outputHash : 'failed'} ${JSON.stringify(op.proof)}`
            equivocates = outputs.has(key) && outputs.get(key) !== said
            outputs.set(key, outputs.get(key) ?? said)
          }
          // (an adoption can raise it too: the adopter's earlier request starts to count)
          if (next.replicas === t.replicas && !equivocates) expect(progress(next)).toBeGreaterThanOrEqual(progress(t))
          expect(mergeTask(next, t)).toStrictEqual(next) // every step is an inflation
          t = next
        }
        if (!ops.some(op => op.kind === 'retry')) expect(other).toStrictEqual(whole)
      }
    ), { numRuns: 1000 })
  })

  it('committedResult is a deterministic function of the joined results', () => {
    fc.assert(fc.property(taskArb, taskArb, (a, b) => {
      const ab = mergeTask(a, b)
      expect(committedResult(ab)).toStrictEqual(committedResult(mergeTask(b, a)))
      expect(ab.state === 'succeeded').toBe(committedResult(ab) !== undefined)
      if (ab.state === 'succeeded') expect(ab.executor).toBe(committedResult(ab)?.executor)
      expect(ab.attempt).toBeGreaterThanOrEqual(Math.max(a.attempt, b.attempt))
    }), { numRuns: 1000 })
  })
})

describe('redundancy and adoption', () => {
  const created = createTask(TASK_ID, { ...SPECS[0], replicas: 3 })

  it('commits only an output that a majority of distinct executors agree on', () => {
    expect(created.replicas).toBe(3)
    expect(quorum(3)).toBe(2)
    let t = taskResult(created, ok('x', 1, 'good'))
    expect(t.state).toBe('pending')
    t = taskResult(t, ok('y', 1, 'evil'))
    expect(committedResult(t)).toBeUndefined()
    t = taskResult(t, ok('z', 1, 'good'))
    expect(t).toMatchObject({ state: 'succeeded', executor: 'x' })
    expect(committedResult(t)?.outputHash).toBe('good')
    expect(dissenters(t)).toStrictEqual(['y'])
    // one executor reporting twice is one vote
    const twice = taskResult(taskResult(created, ok('x', 1, 'good')), ok('x', 2, 'good'))
    expect(twice.state).not.toBe('succeeded')
  })

  it('replicas only go up; several leases of one attempt all count as running', () => {
    const t = taskReplicas(taskReplicas(createTask(TASK_ID, SPECS[0]), 3), 2)
    expect(t.replicas).toBe(3)
    const running = taskLease(taskLease(t, { executor: 'x', attempt: 1, expiresWall: 5_000 }), { executor: 'y', attempt: 1, expiresWall: 6_000 })
    expect(running.state).toBe('running')
    expect(Object.keys(running.leases)).toStrictEqual(['1:x', '1:y'])
    expect(running.lease?.executor).toBe('y')
  })

  it('the coordinator is the submitter until adopted; the highest epoch wins', () => {
    const t = createTask(TASK_ID, SPECS[0])
    expect(taskCoordinator(t)).toBe('a')
    const byY = taskAdopt(t, { peer: 'y', epoch: 1 })
    const byX = taskAdopt(t, { peer: 'x', epoch: 1 })
    expect(taskCoordinator(mergeTask(byX, byY))).toBe('y')
    expect(taskCoordinator(mergeTask(byY, taskAdopt(t, { peer: 'x', epoch: 2 })))).toBe('x')
    expect(taskRetryTo(t, 3).attempt).toBe(3)
    expect(taskRetryTo(taskRetryTo(t, 3), 2).attempt).toBe(3)
  })
})

describe('task lifecycle', () => {
  const created = createTask(TASK_ID, SPECS[0])

  it('pending → running → succeeded', () => {
    expect(created).toMatchObject({ state: 'pending', attempt: 1, cancelled: false, failed: false, results: {}, leases: {} })
    expect(created.executor).toBeUndefined()
    const running = taskLease(created, { executor: 'x', attempt: 1, expiresWall: 5_000 })
    expect(running).toMatchObject({ state: 'running', executor: 'x' })
    const done = taskResult(running, ok('x', 1))
    expect(done).toMatchObject({ state: 'succeeded', executor: 'x' })
    expect(committedResult(done)).toStrictEqual(ok('x', 1))
    expect(isTerminalState(done.state)).toBe(true)
    expect(isTerminalState(running.state)).toBe(false)
  })

  it('a failed attempt is retried: the next attempt is pending until leased, then the old lease no longer counts', () => {
    let t = taskLease(created, { executor: 'x', attempt: 1, expiresWall: 5_000 })
    t = taskResult(t, bad('x', 1))
    expect(t.state).toBe('running') // until the coordinator decides
    t = taskRetry(t)
    expect(t).toMatchObject({ state: 'pending', attempt: 2 })
    expect(t.executor).toBeUndefined()
    const stale = taskLease(t, { executor: 'x', attempt: 1, expiresWall: 9_000 }) // a late renewal of attempt 1
    expect(stale).toMatchObject({ state: 'pending', attempt: 2 })
    expect(stale.executor).toBeUndefined()
    t = taskLease(t, { executor: 'y', attempt: 2, expiresWall: 6_000 })
    expect(t).toMatchObject({ state: 'running', executor: 'y' })
    expect(taskLease(t, { executor: 'y', attempt: 2, expiresWall: 7_000 }).lease?.expiresWall).toBe(7_000) // renewal
    expect(taskFail(t, 'a')).toMatchObject({ state: 'failed', failed: true })
  })

  it('the submitter\'s cancel wins over running and failed, never over a success', () => {
    const submitter = created.spec.submitter
    const running = taskLease(created, { executor: 'x', attempt: 1, expiresWall: 5_000 })
    expect(taskCancel(running, submitter).state).toBe('cancelled')
    expect(taskCancel(taskFail(running, submitter), submitter).state).toBe('cancelled')
    const succeeded = taskResult(running, ok('x', 1))
    expect(taskCancel(succeeded, submitter).state).toBe('succeeded')
    // a success that raced the cancel still commits, whichever replica saw what first
    const cancelled = taskCancel(running, submitter)
    expect(mergeTask(cancelled, succeeded)).toMatchObject({ state: 'succeeded', cancelled: true })
    // a failure does not
    expect(taskResult(cancelled, bad('x', 1)).state).toBe('cancelled')
  })

  it('a cancel by anyone but the submitter is kept but stops nothing, even by the coordinator or an executor', () => {
    const running = taskLease(taskAdopt(created, { peer: 'y', epoch: 1 }), { executor: 'x', attempt: 1, expiresWall: 5_000 })
    const byOthers = taskCancel(taskCancel(running, 'x'), 'y')
    expect(byOthers).toMatchObject({ state: 'running', cancelled: false, cancelRequests: ['x', 'y'] })
    expect(taskCancel(byOthers, created.spec.submitter)).toMatchObject({ state: 'cancelled', cancelled: true })
    expect(() => taskCancel(running, '')).toThrow(/needs the peer/)
  })

  it('with several successes (at-least-once), the first by (attempt, grant epoch, hlc) is committed everywhere', () => {
    const lateFirstAttempt = taskResult(taskRetry(created), ok('z', 1, 'h-old'))
    const secondAttempt = taskResult(taskRetry(created), ok('y', 2, 'h-new', 1_500))
    expect(committedResult(secondAttempt)?.outputHash).toBe('h-new')
    const merged = mergeTask(secondAttempt, lateFirstAttempt)
    expect(committedResult(merged)).toStrictEqual(ok('z', 1, 'h-old'))
    expect(merged.executor).toBe('z')
    const sameAttempt = taskResult(taskResult(created, ok('y', 1, 'hy')), ok('x', 1, 'hx'))
    expect(committedResult(sameAttempt)?.executor).toBe('x')
  })

  it('one executor reporting twice for one attempt: a success sticks, else the later report wins', () => {
    const success = taskResult(created, { ...ok('x', 1), hlc: h(2_000) })
    const laterFailure = taskResult(created, { ...bad('x', 1), hlc: h(2_001) })
    expect(mergeTask(success, laterFailure)).toStrictEqual(mergeTask(laterFailure, success))
    expect(mergeTask(success, laterFailure)).toMatchObject({ state: 'succeeded', results: { '1:x': { exitCode: 0 } } })
    const failure = taskResult(created, { ...bad('x', 1), hlc: h(2_000) })
    const laterFailure2 = taskResult(created, { ...bad('x', 1), exitCode: 2, hlc: h(2_001) })
    expect(mergeTask(failure, laterFailure2).results['1:x']?.exitCode).toBe(2)
  })

  it('refuses to merge two different tasks and malformed specs', () => {
    expect(() => mergeTask(created, createTask('other', SPECS[0]))).toThrow(TaskMismatchError)
    expect(() => createTask('', SPECS[0])).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    expect(() => createTask('t', { ...SPECS[0], priority: 'urgent' as never }))
      .toThrow(expect.objectContaining({ name: 'InvalidArgumentError', message: expect.stringMatching(/priority/) as unknown }))
    expect(() => createTask('t', { ...SPECS[0], createdHlc: { wall: -1, logical: 0, node: 'a' } }))
      .toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    expect(() => createTask('t', { ...SPECS[0], input: () => 1 })).toThrow(expect.objectContaining({ name: 'CanonicalEncodingError' }))
  })

  it('keeps one spec deterministically if two replicas disagree about it', () => {
    const a = createTask(TASK_ID, SPECS[0])
    const b = createTask(TASK_ID, SPECS[1])
    expect(mergeTask(a, b).spec).toBe(mergeTask(b, a).spec)
  })
})

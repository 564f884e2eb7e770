import { describe, expect, it } from 'vitest'
import { InvalidOpError, taskDrafts, validateOp, type OpBatch, type OpSigner, type TaskResultBody } from '../../../../src/state/ops/index.js'
import type { TaskChange } from '../../../../src/state/store/index.js'
import { signGrant } from '../../../../src/tasks/grant.js'
import { hashJson, signReceipt } from '../../../../src/tasks/receipt.js'
import { T0, TEAM, clone, makeAuthors } from '../ops/helpers.js'
import { tempStore } from './helpers.js'

const [alice, bob, carol] = await makeAuthors(3)
const HASH = 'a'.repeat(64)

/** a success of `executor` for attempt 1, with its receipt and a grant signed by `coordinator` */
function proven (taskId: string, executor: OpSigner, coordinator: OpSigner, output: unknown, over: Partial<TaskResultBody> = {}): TaskResultBody {
  const outputHash = hashJson(output)
  const receipt = signReceipt({
    v: 1, teamId: TEAM, taskId, attempt: 1, agent: 'echo', inputHash: HASH, outputHash, exitCode: 0,
    executor: executor.peerId, startedWall: T0, endedWall: T0 + 1
  }, executor)
  const grant = signGrant({ taskId, attempt: 1, executor: executor.peerId }, 0, coordinator)
  return { taskId, attempt: 1, exitCode: 0, outputHash, output, receipt, grant, ...over }
}

describe('task ops', () => {
  const op = (kind: string, body: unknown): unknown => ({ author: alice.peerId, seq: 1, hlc: { wall: T0, logical: 0, node: alice.peerId }, kind, body })

  it.each([
    ['a create without spec', 'task:create', { taskId: 't1' }],
    ['a bad task id', 'task:create', { taskId: 'a b', spec: { agent: 'echo', input: null, priority: 'normal' } }],
    ['an unknown priority', 'task:create', { taskId: 't1', spec: { agent: 'echo', input: null, priority: 'urgent' } }],
    ['a bad agent name', 'task:create', { taskId: 't1', spec: { agent: 'Echo!', input: null, priority: 'normal' } }],
    ['too many replicas', 'task:create', { taskId: 't1', spec: { agent: 'echo', input: null, priority: 'normal', replicas: 99 } }],
    ['an unknown spec field', 'task:create', { taskId: 't1', spec: { agent: 'echo', input: null, priority: 'normal', shell: true } }],
    ['a lease at attempt 0', 'task:lease', { taskId: 't1', attempt: 0, expiresWall: 1 }],
    ['a result with a bad hash', 'task:result', { taskId: 't1', attempt: 1, exitCode: 0, outputHash: 'xyz' }],
    ['a success with a failure reason', 'task:result', { taskId: 't1', attempt: 1, exitCode: 0, outputHash: HASH, reason: 'invalid-input' }],
    ['an unknown failure reason', 'task:result', { taskId: 't1', attempt: 1, exitCode: 2, outputHash: HASH, reason: 'bad-luck' }],
    ['a grant that is not an object', 'task:result', { taskId: 't1', attempt: 1, exitCode: 0, outputHash: HASH, grant: 'trust me' }],
    ['a retry to attempt 1', 'task:retry', { taskId: 't1', attempt: 1 }],
    ['a cancel with extra fields', 'task:cancel', { taskId: 't1', why: 'x' }]
  ])('refuses %s', (_, kind, body) => {
    expect(() => validateOp(op(kind, body))).toThrow(InvalidOpError)
  })

  it('a local draft is checked like a replica would', () => {
    expect(() => taskDrafts.create('t1', { agent: 'echo', input: undefined, priority: 'normal' })).toThrow(InvalidOpError)
    expect(taskDrafts.create('t1', { agent: 'echo', input: 1, priority: 'low' }).kind).toBe('task:create')
  })
})

describe('the task view of the store', () => {
  it('joins facts by their authors: submitter, executor; the record replicates and hashes equally', async () => {
    let clock = T0
    const a = await tempStore({ signer: alice.signer, now: () => clock++ })
    const b = await tempStore({ signer: bob.signer, now: () => clock++ })
    const changes: TaskChange[] = []
    a.store.onTasks = c => { changes.push(...c) }

    const [create] = await a.store.write([taskDrafts.create('t1', { agent: 'echo', input: { x: 1 }, priority: 'high' })])
    expect(await a.store.task('t1')).toMatchObject({ state: 'pending', spec: { agent: 'echo', submitter: alice.peerId, priority: 'high' }, coordinator: { peer: alice.peerId, epoch: 0 } })
    expect(changes.at(-1)?.before).toBeUndefined()

    // bob runs it: his lease and result are his facts
    await b.store.ingest(clone(create))
    const [lease] = await b.store.write([taskDrafts.lease({ taskId: 't1', attempt: 1, expiresWall: T0 + 10_000, startedWall: T0 })])
    expect(await b.store.task('t1')).toMatchObject({ state: 'running', executor: bob.peerId })
    const [result] = await b.store.write([taskDrafts.result(proven('t1', bob.signer, alice.signer, { x: 1 }))])
    await a.store.ingest(clone(lease))
    expect(changes.at(-1)).toMatchObject({ before: { state: 'pending' }, after: { state: 'running' } })
    await a.store.ingest(clone(result))
    const done = await a.store.task('t1')
    expect(done).toMatchObject({ state: 'succeeded', executor: bob.peerId, results: { [`1:${bob.peerId}`]: { output: { x: 1 }, grant: { coordinator: alice.peerId, epoch: 0 } } } })
    expect(await a.store.task('t1')).toStrictEqual(await b.store.task('t1'))
    expect(await a.store.stateHash()).toBe(await b.store.stateHash())
    const listed = []
    for await (const t of a.store.tasks()) listed.push(t.taskId)
    expect(listed).toStrictEqual(['t1'])
  })

  it('facts that arrive before the task is created are kept, hidden until it is', async () => {
    let clock = T0
    const a = await tempStore({ signer: alice.signer, now: () => clock++ })
    const b = await tempStore({ signer: bob.signer, now: () => clock++ })
    const c = await tempStore({ signer: carol.signer, now: () => clock++ })
    const [create] = await a.store.write([taskDrafts.create('t2', { agent: 'sleep', input: { ms: 1 }, priority: 'normal' })])
    const [result] = await b.store.write([taskDrafts.result(proven('t2', bob.signer, alice.signer, null))])
    await c.store.ingest(clone(result))
    expect(await c.store.task('t2')).toBeUndefined()
    await c.store.ingest(clone(create))
    expect(await c.store.task('t2')).toMatchObject({ state: 'succeeded', spec: { agent: 'sleep', submitter: alice.peerId } })
    // the other order gives the same record and the same hash
    const d = await tempStore({ now: () => clock++ })
    await d.store.ingest(clone(create))
    await d.store.ingest(clone(result))
    expect(await d.store.task('t2')).toStrictEqual(await c.store.task('t2'))
    expect(await d.store.stateHash()).toBe(await c.store.stateHash())
    // and the hash survives a restart (a full rescan of the views)
    const before = await c.store.stateHash()
    const again = await c.restart()
    expect(await again.store.stateHash()).toBe(before)
  })

  it('an adoption changes the coordinator, a retry the attempt; only the submitter\'s cancel stops the task', async () => {
    let clock = T0
    const a = await tempStore({ signer: alice.signer, now: () => clock++ })
    const b = await tempStore({ signer: bob.signer, now: () => clock++ })
    const [create] = await a.store.write([taskDrafts.create('t3', { agent: 'echo', input: null, priority: 'normal' })])
    await b.store.ingest(clone(create))
    const batches: OpBatch[] = await b.store.write([taskDrafts.adopt('t3', 1), taskDrafts.retry('t3', 2)])
    expect(await b.store.task('t3')).toMatchObject({ attempt: 2, state: 'pending', coordinator: { peer: bob.peerId, epoch: 1 } })
    await a.store.ingest(clone(batches[0]))
    // bob coordinates now, but did not submit: his cancel is recorded and stops nothing
    const [bobCancel] = await b.store.write([taskDrafts.cancel('t3')])
    await a.store.ingest(clone(bobCancel))
    expect(await a.store.task('t3')).toMatchObject({ state: 'pending', cancelled: false, cancelRequests: [bob.peerId] })
    await a.store.write([taskDrafts.cancel('t3')])
    expect(await a.store.task('t3')).toMatchObject({ state: 'cancelled', attempt: 2, coordinator: { peer: bob.peerId } })
  })

  it('marks a forged result on apply, the same on every replica: it is kept, never committed', async () => {
    let clock = T0
    const a = await tempStore({ signer: alice.signer, now: () => clock++ })
    const c = await tempStore({ signer: carol.signer, now: () => clock++ })
    const [create] = await a.store.write([taskDrafts.create('t4', { agent: 'echo', input: 1, priority: 'normal' })])
    await c.store.ingest(clone(create))
    // carol's own receipt and a grant she signed herself; then one with no grant; then a receipt of another output
    const selfGranted = proven('t4', carol.signer, carol.signer, 'forged')
    const { grant: _g, ...noGrant } = proven('t4', carol.signer, alice.signer, 'forged')
    const [forged] = await c.store.write([taskDrafts.result(selfGranted)])
    await a.store.ingest(clone(forged))
    expect(await a.store.task('t4')).toMatchObject({ state: 'pending', results: { [`1:${carol.peerId}`]: { grant: { coordinator: carol.peerId, epoch: 0 } } } })
    const [bare] = await c.store.write([taskDrafts.result(noGrant)])
    await a.store.ingest(clone(bare))
    const t = await a.store.task('t4')
    expect(t?.state).toBe('pending')
    expect(t?.results[`1:${carol.peerId}`]).toMatchObject({ grant: { coordinator: carol.peerId } }) // a rejected report never displaces a proven one
    const other = proven('t4', bob.signer, alice.signer, 'real', { outputHash: HASH })
    const b = await tempStore({ signer: bob.signer, now: () => clock++ })
    await b.store.ingest(clone(create))
    const [mismatch] = await b.store.write([taskDrafts.result(other)])
    await a.store.ingest(clone(mismatch))
    expect((await a.store.task('t4'))?.results[`1:${bob.peerId}`]).toMatchObject({ rejected: 'its receipt names another output or exit code' })
    expect((await a.store.task('t4'))?.state).toBe('pending')
    await c.store.ingest(clone(mismatch))
    expect(await c.store.task('t4')).toStrictEqual(await a.store.task('t4'))
  })
})

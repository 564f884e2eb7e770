/**
 * The coordinator's state machine on a manual clock, with fake links, executor, presence
 * and store (see `coordinator-harness.ts`): offers refused, leases that lapse, executors
 * that die mid-run, duplicate results, cancels racing results, and adoption.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { createTask, taskAdopt, taskCancel, taskLease, taskResult, type TaskRecord } from '../../../src/state/crdt/index.js'
import { heir } from '../../../src/tasks/adoption.js'
import { verifyGrant } from '../../../src/tasks/grant.js'
import { COORDINATOR_TICK_MS, DECLINE_BACKOFF_MS, LEASE_GRACE_MS } from '../../../src/tasks/constants.js'
import { makePeers, type TestPeer } from '../team/helpers.js'
import { harness, kinds, LEASE_MS, type Harness } from './coordinator-harness.js'

let a: TestPeer
let b: TestPeer

beforeAll(async () => { [a, b] = await makePeers(2) })

/** a pending task `taskId` submitted (and so coordinated) by `submitter` */
function taskOf (submitter: string, taskId = 't1', over: { replicas?: number, retries?: number } = {}): TaskRecord {
  return createTask(taskId, { agent: 'echo', input: { n: 1 }, priority: 'normal', submitter, createdHlc: { wall: 1, logical: 0, node: submitter }, ...over })
}

/** `h` starts and submits a task of its own; resolves once the first offer is out */
async function submitted (h: Harness, record = taskOf(h.selfId)): Promise<TaskRecord> {
  await h.coordinator.start()
  h.records.set(record.taskId, record)
  h.coordinator.submit(record)
  await h.flush()
  return record
}

/** the one remote executor that is not `peer` */
const other = (peer: string): string => peer === 'e1' ? 'e2' : 'e1'

describe('offers batched per executor', () => {
  it('one pass offers an executor every attempt it places there in one message, each with a grant that verifies', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 8 } })
    await h.coordinator.start()
    for (const id of ['t1', 't2', 't3', 't4', 't5']) {
      const record = taskOf(h.selfId, id)
      h.records.set(id, record)
      h.coordinator.submit(record)
    }
    await h.flush()
    expect(h.batches).toStrictEqual([{ peer: 'e1', count: 5 }])
    for (const o of h.offers) expect(verifyGrant(o.task.grant, { taskId: o.task.taskId, attempt: 1, executor: 'e1' })).toStrictEqual({ ok: true })
    // each answer counts for its own attempt: the declined one goes back to the queue
    h.offers.forEach((o, i) => { o.reply(i === 2 ? { accepted: false, reason: 'busy' } : { accepted: true, startedWall: h.clock.now() }) })
    await h.flush()
    expect(h.coordinator.isExecutorOf('t1', 'e1')).toBe(true)
    expect(h.coordinator.isExecutorOf('t3', 'e1')).toBe(false)
    h.coordinator.stop()
  })

  it('a finishes message frees every slot it names at once', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1 } })
    await h.coordinator.start()
    for (const id of ['t1', 't2', 't3', 't4']) {
      const record = taskOf(h.selfId, id)
      h.records.set(id, record)
      h.coordinator.submit(record)
    }
    await h.flush()
    const first = h.offers.length
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThan(4)
    for (const o of h.offers) o.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    expect(h.offers).toHaveLength(first) // e1 is full
    h.coordinator.onMessage('e1', { t: 'finishes', tasks: h.offers.map(o => ({ taskId: o.task.taskId, attempt: 1 })), others: 0 })
    await h.flush()
    expect(h.offers.length).toBeGreaterThan(first)
    h.coordinator.stop()
  })
})

describe('an offer refused', () => {
  it('goes to the next candidate at once, as the same attempt, and is no failure', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    expect(h.offers).toHaveLength(1)
    const first = h.offers[0]
    first.reply({ accepted: false, reason: 'busy' })
    await h.flush()
    expect(h.offers.map(o => [o.peer, o.task.attempt])).toStrictEqual([[first.peer, 1], [other(first.peer), 1]])
    expect(h.written).toStrictEqual([])
    h.coordinator.stop()
  })

  it('with no other candidate, waits out the decline back-off on the clock, then offers again', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1 } })
    await submitted(h)
    h.offers[0].reply({ accepted: false, reason: 'busy' })
    await h.flush()
    expect(h.offers).toHaveLength(1)
    expect(h.coordinator.explain('t1')?.waiting).toBeDefined()
    h.clock.advance(DECLINE_BACKOFF_MS - COORDINATOR_TICK_MS) // a tick inside the back-off: still waiting
    await h.flush()
    expect(h.offers).toHaveLength(1)
    h.clock.advance(COORDINATOR_TICK_MS) // the back-off is over at this tick
    await h.flush()
    expect(h.offers.map(o => [o.peer, o.task.attempt])).toStrictEqual([['e1', 1], ['e1', 1]])
    expect(h.written).toStrictEqual([])
    h.coordinator.stop()
  })

  it('an offer that fails on the links (timeout, disconnect) counts as declined', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    h.offers[0].fail('no answer from e1 in 5000 ms')
    await h.flush()
    expect(h.offers.map(o => o.peer)).toStrictEqual([h.offers[0].peer, other(h.offers[0].peer)])
    h.coordinator.stop()
  })
})

describe('a lease', () => {
  it('that lapses (lease plus grace, no renewal) sends the attempt elsewhere as the next attempt, and counts a timeout', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    h.clock.advance(LEASE_MS + LEASE_GRACE_MS - COORDINATOR_TICK_MS) // still held (ticks on the way)
    await h.flush()
    expect(h.written).toStrictEqual([])
    expect(h.coordinator.isExecutorOf('t1', first.peer)).toBe(true)
    h.clock.advance(2 * COORDINATOR_TICK_MS) // past lease + grace
    await h.flush()
    expect(h.timeouts).toStrictEqual([first.peer])
    expect(kinds(h.written)).toStrictEqual(['task:retry 2'])
    expect(h.records.get('t1')?.attempt).toBe(2)
    expect(h.offers.map(o => [o.peer, o.task.attempt])).toStrictEqual([[first.peer, 1], [other(first.peer), 2]])
    expect(h.coordinator.explain('t1')?.waiting).toBeUndefined()
    h.coordinator.stop()
  })

  it('renewed every third of it holds for as long as the executor renews', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    for (let i = 0; i < 12; i++) {
      h.clock.advance(LEASE_MS / 3)
      h.coordinator.onMessage(first.peer, { t: 'renew', taskId: 't1', attempt: 1, expiresWall: h.clock.now() + LEASE_MS })
      await h.flush()
    }
    expect(h.written).toStrictEqual([])
    expect(h.timeouts).toStrictEqual([])
    expect(h.offers).toHaveLength(1)
    // a renewal of another attempt does not count
    h.coordinator.onMessage(first.peer, { t: 'renew', taskId: 't1', attempt: 2, expiresWall: h.clock.now() + 10 * LEASE_MS })
    h.clock.advance(LEASE_MS + LEASE_GRACE_MS + COORDINATOR_TICK_MS)
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:retry 2'])
    h.coordinator.stop()
  })

  it('an offer never answered lapses too, without a timeout against the executor', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    h.clock.advance(10 * LEASE_MS)
    await h.flush()
    expect(h.timeouts).toStrictEqual([])
    expect(kinds(h.written)[0]).toBe('task:retry 2')
    expect(h.offers[1]).toMatchObject({ peer: other(h.offers[0].peer), task: { attempt: 2 } })
    h.coordinator.stop()
  })
})

describe('a restart', () => {
  it('resumes its own open tasks: a lease that still holds keeps its executor, and lapses on the clock like any other', async () => {
    const start = 1_000_000 // the manual clock's
    const record = taskLease(taskOf(a.peerId), { executor: 'e1', attempt: 1, expiresWall: start + LEASE_MS })
    const resumed = harness({ signer: a.signer, executors: { e1: 1, e2: 1 }, open: [record] })
    await resumed.coordinator.start()
    await resumed.flush()
    expect(resumed.coordinator.activeCount).toBe(1)
    expect(resumed.coordinator.isExecutorOf('t1', 'e1')).toBe(true)
    expect(resumed.offers).toStrictEqual([])
    resumed.clock.advance(LEASE_MS + LEASE_GRACE_MS + COORDINATOR_TICK_MS)
    await resumed.flush()
    expect(resumed.timeouts).toStrictEqual(['e1'])
    expect(kinds(resumed.written)).toStrictEqual(['task:retry 2'])
    expect(resumed.offers.map(o => [o.peer, o.task.attempt])).toStrictEqual([['e2', 2]])
    resumed.coordinator.stop()
  })
})

describe('executor death mid-run', () => {
  it('presence says dead: the attempt is re-placed at once on another executor, not as a timeout', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    h.peerStates.set(first.peer, 'dead')
    h.coordinator.onPeerGone(first.peer)
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:retry 2'])
    expect(h.timeouts).toStrictEqual([])
    expect(h.offers.map(o => [o.peer, o.task.attempt])).toStrictEqual([[first.peer, 1], [other(first.peer), 2]])
    expect(h.coordinator.isExecutorOf('t1', first.peer)).toBe(false)
    h.coordinator.stop()
  })

  it('dead in the presence view is enough: the next tick moves the attempt, long before its lease ends', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    h.peerStates.set(first.peer, 'left')
    h.clock.advance(COORDINATOR_TICK_MS)
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:retry 2'])
    expect(h.offers[1]).toMatchObject({ peer: other(first.peer), task: { attempt: 2 } })
    h.coordinator.stop()
  })
})

describe('a duplicate finish', () => {
  it('the same failed result delivered twice retries once', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    h.result('t1', first.peer, 1, 1, { error: 'boom' })
    h.result('t1', first.peer, 1, 1, { error: 'boom' })
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:retry 2'])
    expect(h.records.get('t1')?.attempt).toBe(2)
    expect(h.coordinator.explain('t1')?.waiting).toMatch(/^failed on e\d: boom$/)
    h.coordinator.stop()
  })

  it('the same success delivered twice, and a late finished message, change nothing', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    h.coordinator.onMessage(first.peer, { t: 'finished', taskId: 't1', attempt: 1 })
    h.coordinator.onMessage(first.peer, { t: 'finished', taskId: 't1', attempt: 1 })
    expect(h.result('t1', first.peer, 1, 0).state).toBe('succeeded')
    h.result('t1', first.peer, 1, 0)
    h.coordinator.onMessage(first.peer, { t: 'finished', taskId: 't1', attempt: 1 })
    await h.flush()
    h.clock.advance(10 * LEASE_MS)
    await h.flush()
    expect(h.coordinator.activeCount).toBe(0)
    expect(h.written).toStrictEqual([])
    expect(h.offers).toHaveLength(1)
    expect(h.sent).toStrictEqual([])
  })
})

describe('a done message', () => {
  it('hands the executor\'s own signed batch to the store, and nothing signed by anyone else', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1 } })
    await submitted(h)
    const batch = { author: 'e1', fromSeq: 1, toSeq: 1, ops: [], sig: 'x' }
    h.coordinator.onMessage('e1', { t: 'done', taskId: 't1', attempt: 1, batch })
    h.coordinator.onMessage('e1', { t: 'done', taskId: 't1', attempt: 1, batch: { ...batch, author: 'e2' } })
    await h.flush()
    expect(h.ingested).toStrictEqual([batch])
    h.coordinator.stop()
  })
})

describe('a cancel racing a finish', () => {
  it('a success is never undone by a cancel: no cancel is sent, nothing is retried', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    // both facts arrive in one delivery, in either order
    const success = { executor: first.peer, attempt: 1, exitCode: 0, outputHash: 'out', hlc: { wall: 2, logical: 0, node: first.peer } }
    const after = h.change('t1', r => taskCancel(taskResult(r, success), h.selfId))
    expect(after.state).toBe('succeeded')
    expect(taskResult(taskCancel(taskOf(h.selfId), h.selfId), success).state).toBe('succeeded')
    await h.flush()
    expect(h.sent).toStrictEqual([])
    expect(h.written).toStrictEqual([])
    expect(h.coordinator.activeCount).toBe(0)
  })

  it('a cancel before the finish wins: the executor is told to stop, and its exit 130 is not retried', async () => {
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 } })
    await submitted(h)
    const first = h.offers[0]
    first.reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    expect(h.change('t1', r => taskCancel(r, h.selfId)).state).toBe('cancelled')
    await h.flush()
    expect(h.sent).toStrictEqual([{ peer: first.peer, msg: { t: 'cancel', taskId: 't1' } }])
    expect(h.coordinator.activeCount).toBe(0)
    expect(h.result('t1', first.peer, 1, 130, { reason: 'cancelled' }).state).toBe('cancelled')
    h.clock.advance(10 * LEASE_MS)
    await h.flush()
    expect(h.written).toStrictEqual([])
    expect(h.offers).toHaveLength(1)
  })

  it('a cancel of a task this daemon runs itself stops its own executor', async () => {
    const h = harness({ signer: a.signer, executors: {} })
    h.executors.set(a.peerId, 1)
    await submitted(h)
    expect(h.localOffers.map(o => [o.taskId, o.attempt])).toStrictEqual([['t1', 1]])
    h.change('t1', r => taskCancel(r, h.selfId))
    expect(h.localCancels).toStrictEqual(['t1'])
    expect(h.sent).toStrictEqual([])
  })
})

describe('adoption', () => {
  /** a task id whose rendezvous heir among `peers` is `want` */
  const idFor = (want: string, peers: string[]): string => {
    for (let i = 0; ; i++) if (heir(`task-${i}`, peers) === want) return `task-${i}`
  }

  it('when the submitter dies, exactly one survivor (the rendezvous heir) adopts at a higher epoch and coordinates', async () => {
    const members = [a.peerId, b.peerId]
    for (const want of [a.peerId, b.peerId]) {
      const record = taskOf('sub', idFor(want, members))
      const survivors = [a, b].map(p => harness({ signer: p.signer, executors: { e1: 1 }, states: { sub: 'alive', [a.peerId]: 'alive', [b.peerId]: 'alive' }, members, open: [record] }))
      for (const h of survivors) await h.coordinator.start()
      for (const h of survivors) {
        h.peerStates.set('sub', 'dead')
        h.coordinator.onPeerGone('sub')
      }
      await Promise.all(survivors.map(async h => { await h.flush() }))
      const adopters = survivors.filter(h => h.written.length > 0)
      expect(adopters.map(h => h.selfId)).toStrictEqual([want])
      const [h] = adopters
      expect(kinds(h.written)).toStrictEqual(['task:adopt 1'])
      expect(h.records.get(record.taskId)?.coordinator).toStrictEqual({ peer: want, epoch: 1 })
      expect(h.coordinator.activeCount).toBe(1)
      // its offers carry its grant at the adoption epoch
      expect(h.offers).toHaveLength(1)
      expect(h.offers[0].task).toMatchObject({ taskId: record.taskId, coordinator: want, grant: { coordinator: want, epoch: 1 } })
      for (const s of survivors) s.coordinator.stop()
    }
  })

  it('an idle survivor finds the orphan on its slow tick, without being told of the death', async () => {
    const members = [a.peerId, b.peerId]
    const record = taskOf('sub', idFor(a.peerId, members))
    const h = harness({ signer: a.signer, executors: { e1: 1 }, states: { sub: 'dead', [b.peerId]: 'alive' }, members, open: [record] })
    await h.coordinator.start()
    await h.flush()
    expect(h.written).toStrictEqual([])
    h.clock.advance(5_000)
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:adopt 1'])
    expect(h.coordinator.activeCount).toBe(1)
    h.coordinator.stop()
  })

  it('a coordinator that is alive keeps its tasks', async () => {
    const record = taskOf('sub', idFor(a.peerId, [a.peerId, b.peerId]))
    const h = harness({ signer: a.signer, executors: { e1: 1 }, states: { sub: 'suspect', [b.peerId]: 'alive' }, open: [record] })
    await h.coordinator.start()
    h.clock.advance(30_000)
    await h.flush()
    expect(h.written).toStrictEqual([])
    expect(h.offers).toStrictEqual([])
    h.coordinator.stop()
  })

  it('an adoption at a higher epoch by another member ends this one\'s coordination: only one coordinator acts', async () => {
    const members = [a.peerId, b.peerId]
    const record = taskOf('sub', idFor(a.peerId, members))
    const h = harness({ signer: a.signer, executors: { e1: 1, e2: 1 }, states: { sub: 'dead', [b.peerId]: 'alive' }, members, open: [record] })
    await h.coordinator.start()
    h.coordinator.onPeerGone('sub')
    await h.flush()
    expect(h.coordinator.activeCount).toBe(1)
    h.offers[0].reply({ accepted: true, startedWall: h.clock.now() })
    await h.flush()
    // b adopted too (at epoch 2: it saw a's adoption, then a looked gone to it)
    expect(h.change(record.taskId, r => taskAdopt(r, { peer: b.peerId, epoch: 2 })).coordinator.peer).toBe(b.peerId)
    expect(h.coordinator.activeCount).toBe(0)
    // the executor a placed it on stops answering: a does nothing about it now
    h.clock.advance(10 * LEASE_MS)
    await h.flush()
    expect(kinds(h.written)).toStrictEqual(['task:adopt 1'])
    expect(h.offers).toHaveLength(1)
    expect(h.timeouts).toStrictEqual([])
    h.coordinator.stop()
  })
})

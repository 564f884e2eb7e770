import { beforeAll, describe, expect, it } from 'vitest'
import { taskAdopt } from '../../../src/state/crdt/index.js'
import { verifyGrant } from '../../../src/tasks/grant.js'
import { parseTaskMessage, type TaskMessage } from '../../../src/tasks/messages.js'
import { answerOf, offerTask } from '../../../src/tasks/offer.js'
import { makePeer, type TestPeer } from '../team/helpers.js'
import { task } from './records.js'

let coord: TestPeer

beforeAll(async () => { coord = await makePeer() })

describe('offerTask', () => {
  it('offers the current attempt with the lease, the coordinator to report to, and its grant to that executor', () => {
    const offer = offerTask(task({ priority: 'high', timeoutMs: 9_000 }), 10_000, coord.signer, 'exec')
    const { grant, ...rest } = offer
    expect(rest).toStrictEqual({
      taskId: 't1', attempt: 1, agent: 'echo', input: { n: 1 }, priority: 'high', timeoutMs: 9_000, leaseMs: 10_000, coordinator: coord.peerId, submitter: 'sub'
    })
    expect(grant).toMatchObject({ coordinator: coord.peerId, epoch: 0 })
    expect(verifyGrant(grant, { taskId: 't1', attempt: 1, executor: 'exec' })).toStrictEqual({ ok: true })
    expect(verifyGrant(grant, { taskId: 't1', attempt: 1, executor: 'other' }).ok).toBe(false)
    expect('timeoutMs' in offerTask(task(), 10_000, coord.signer, 'exec')).toBe(false)
  })

  it('grants at the coordinator\'s adoption epoch once it adopted the task', () => {
    const adopted = taskAdopt(task(), { peer: coord.peerId, epoch: 3 })
    expect(offerTask(adopted, 10_000, coord.signer, 'exec').grant).toMatchObject({ coordinator: coord.peerId, epoch: 3 })
  })

  it('is a well-formed offer message; a malformed grant is not', () => {
    const msg = { t: 'offer', id: 1, task: offerTask(task(), 10_000, coord.signer, 'exec') }
    expect(parseTaskMessage(msg)).toStrictEqual(msg)
    expect(parseTaskMessage({ ...msg, task: { ...msg.task, grant: { coordinator: 'c', epoch: -1, sig: 'x' } } })).toBeUndefined()
  })
})

describe('answerOf', () => {
  const reply = (over: Partial<TaskMessage & { t: 'reply' }>): TaskMessage & { t: 'reply' } => ({ t: 'reply', id: 1, ...over })

  it('accepts only on accepted: true, and keeps only the fields present', () => {
    expect(answerOf(reply({ accepted: true, startedWall: 5, others: 2 }))).toStrictEqual({ accepted: true, startedWall: 5, others: 2 })
    expect(answerOf(reply({ reason: 'busy' }))).toStrictEqual({ accepted: false, reason: 'busy' })
    expect(answerOf(reply({ accepted: false, others: 0 }))).toStrictEqual({ accepted: false, others: 0 })
  })
})

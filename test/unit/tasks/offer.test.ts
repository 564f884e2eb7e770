import { describe, expect, it } from 'vitest'
import { parseTaskMessage, type TaskMessage } from '../../../src/tasks/messages.js'
import { answerOf, offerTask } from '../../../src/tasks/offer.js'
import { task } from './records.js'

describe('offerTask', () => {
  it('offers the current attempt with the lease and the coordinator to report to', () => {
    const offer = offerTask(task({ priority: 'high', timeoutMs: 9_000 }), 10_000, 'coord')
    expect(offer).toStrictEqual({
      taskId: 't1', attempt: 1, agent: 'echo', input: { n: 1 }, priority: 'high', timeoutMs: 9_000, leaseMs: 10_000, coordinator: 'coord', submitter: 'sub'
    })
    expect('timeoutMs' in offerTask(task(), 10_000, 'coord')).toBe(false)
  })

  it('is a well-formed offer message', () => {
    const msg = { t: 'offer', id: 1, task: offerTask(task(), 10_000, 'coord') }
    expect(parseTaskMessage(msg)).toStrictEqual(msg)
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

/**
 * The batched task messages on the wire: `offers` (and its reply's `answers`), `finishes`,
 * and a `done` that names no single task, within their limits.
 */
import { describe, expect, it } from 'vitest'
import { taskMessage } from '../../../src/protocol/schemas/task.js'
import { MAX_FINISHES_PER_MESSAGE, MAX_OFFERS_PER_MESSAGE } from '../../../src/tasks/messages.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const TASK = { taskId: 't-1', attempt: 1, agent: 'echo', input: null, priority: 'normal', leaseMs: 5000, coordinator: PEER, grant: { coordinator: PEER, epoch: 0, sig: 'A'.repeat(86) } }

describe('batched task messages', () => {
  it('takes offers, a reply with answers, finishes and a done with only its batch', () => {
    for (const m of [
      { t: 'offers', id: 1, tasks: [TASK, { ...TASK, taskId: 't-2' }] },
      { t: 'reply', id: 1, answers: [{ accepted: true, startedWall: 1 }, { accepted: false, reason: 'busy' }], others: 2 },
      { t: 'finishes', tasks: [{ taskId: 't-1', attempt: 1 }, { taskId: 't-2', attempt: 3 }], others: 0 },
      { t: 'done', batch: { author: PEER } },
      { t: 'done', taskId: 't-1', attempt: 1, batch: { author: PEER } }
    ]) expect(taskMessage.problem(m), JSON.stringify(m)).toBeNull()
  })

  it('refuses an empty or oversized batch and a malformed item, naming the field', () => {
    expect(taskMessage.problem({ t: 'offers', id: 1, tasks: [] })).toMatchObject({ field: 'tasks' })
    expect(taskMessage.problem({ t: 'offers', id: 1, tasks: Array.from({ length: MAX_OFFERS_PER_MESSAGE + 1 }, () => TASK) })).toMatchObject({ field: 'tasks' })
    expect(taskMessage.problem({ t: 'offers', id: 1, tasks: [TASK, { ...TASK, attempt: 0 }] })).toMatchObject({ field: 'tasks.1.attempt' })
    expect(taskMessage.problem({ t: 'reply', id: 1, answers: [{ accepted: 'yes' }] })).toMatchObject({ field: 'answers.0.accepted' })
    expect(taskMessage.problem({ t: 'finishes', tasks: Array.from({ length: MAX_FINISHES_PER_MESSAGE + 1 }, () => ({ taskId: 't', attempt: 1 })) })).toMatchObject({ field: 'tasks' })
    expect(taskMessage.problem({ t: 'finishes', tasks: [{ taskId: 't', attempt: 1, x: 1 }] })).toMatchObject({ field: 'tasks.0.x' })
  })
})

import { describe, expect, it } from 'vitest'
import { taskAdopt, taskCancel, taskFail, taskResult, type TaskRecord, type TaskResult } from '../../../src/state/crdt/index.js'
import type { Op } from '../../../src/state/ops/index.js'
import { blameless, explainAuthority, judgeTaskOps } from '../../../src/tasks/judge.js'
import { task } from './records.js'

const hlc = (node: string, wall = 5): Op['hlc'] => ({ wall, logical: 0, node })
const granted = { grant: { coordinator: 'sub', epoch: 0 } }

/** the op `author` wrote for `result`, and the record after it */
function reported (record: TaskRecord, result: Omit<TaskResult, 'hlc'>): { op: Op, after: TaskRecord } {
  const { executor, grant: _grant, rejected: _rejected, ...body } = result
  const op: Op = { author: executor, seq: 1, hlc: hlc(executor), kind: 'task:result', body: { taskId: record.taskId, ...body } }
  return { op, after: taskResult(record, { ...result, hlc: hlc(executor) }) }
}

function judge (op: Op, after: TaskRecord): ReturnType<typeof judgeTaskOps> {
  return judgeTaskOps([op], new Map([[after.taskId, after]]), 'me')
}

describe('judgeTaskOps: what a result says about its executor', () => {
  it('a counting success and a failure of its own are outcomes of the executor', () => {
    const ok = reported(task(), { executor: 'x', attempt: 1, exitCode: 0, outputHash: 'h', ...granted })
    expect(judge(ok.op, ok.after)).toStrictEqual([{ peer: 'x', taskId: 't1', outcome: 'success' }])
    const crash = reported(task(), { executor: 'x', attempt: 1, exitCode: 1, outputHash: 'h', reason: 'exit', ...granted })
    expect(judge(crash.op, crash.after)).toStrictEqual([{ peer: 'x', taskId: 't1', outcome: 'failure' }])
    const ownTimeout = reported(task(), { executor: 'x', attempt: 1, exitCode: 124, outputHash: 'h', reason: 'timeout', ...granted })
    expect(judge(ownTimeout.op, ownTimeout.after)).toStrictEqual([{ peer: 'x', taskId: 't1', outcome: 'timeout' }])
    // this daemon's own results are not judged by itself
    expect(judgeTaskOps([{ ...ok.op, author: 'me' }], new Map([['t1', ok.after]]), 'me')).toStrictEqual([])
  })

  it('refused input, a cancel and the submitter\'s own timeout are nobody\'s fault', () => {
    const refused = reported(task(), { executor: 'x', attempt: 1, exitCode: 2, outputHash: 'h', reason: 'invalid-input', error: 'bad', ...granted })
    expect(judge(refused.op, refused.after)).toStrictEqual([])
    const cancelled = reported(task(), { executor: 'x', attempt: 1, exitCode: 130, outputHash: 'h', ...granted })
    expect(judge(cancelled.op, cancelled.after)).toStrictEqual([])
    const chosen = reported(task({ timeoutMs: 100 }), { executor: 'x', attempt: 1, exitCode: 124, outputHash: 'h', reason: 'timeout', ...granted })
    expect(judge(chosen.op, chosen.after)).toStrictEqual([])
    expect(blameless({ exitCode: 2 }, {})).toBeUndefined() // exit 2 without the typed reason is the agent's own exit code
    expect(blameless({ exitCode: 124 }, { timeoutMs: 5 })).toBe('the submitter chose the timeout')
  })

  it('a rejected or self-granted result is a protocol violation; a grant by a not-yet-known adopter is judged on nothing', () => {
    const rejected = reported(task(), { executor: 'm', attempt: 1, exitCode: 0, outputHash: 'h', rejected: 'no receipt' })
    expect(judge(rejected.op, rejected.after)).toStrictEqual([{ peer: 'm', taskId: 't1', violation: 'result of attempt 1 rejected: no receipt' }])
    const self = reported(task(), { executor: 'm', attempt: 1, exitCode: 0, outputHash: 'h', grant: { coordinator: 'm', epoch: 0 } })
    expect(judge(self.op, self.after)).toMatchObject([{ peer: 'm', violation: expect.stringMatching(/not counted: its grant is by m/) as unknown }])
    const pending = reported(task(), { executor: 'z', attempt: 1, exitCode: 0, outputHash: 'h', grant: { coordinator: 'y', epoch: 1 } })
    expect(judge(pending.op, pending.after)).toStrictEqual([])
    const later = taskAdopt(pending.after, { peer: 'y', epoch: 1 })
    expect(judge(pending.op, later)).toStrictEqual([{ peer: 'z', taskId: 't1', outcome: 'success' }])
  })
})

describe('judgeTaskOps: fails and cancels', () => {
  const fail = (author: string): Op => ({ author, seq: 1, hlc: hlc(author), kind: 'task:fail', body: { taskId: 't1' } })
  const cancel = (author: string): Op => ({ author, seq: 1, hlc: hlc(author), kind: 'task:cancel', body: { taskId: 't1' } })

  it('by a member that neither submitted nor coordinates the task: a violation; by the submitter or an adopter: nothing', () => {
    const adopted = taskAdopt(task(), { peer: 'y', epoch: 1 })
    expect(judge(fail('m'), taskFail(adopted, 'm'))).toMatchObject([{ peer: 'm', violation: 'failed a task it neither submitted nor coordinates' }])
    expect(judge(cancel('m'), taskCancel(adopted, 'm'))).toMatchObject([{ peer: 'm', violation: 'cancelled a task it neither submitted nor coordinates' }])
    expect(judge(fail('y'), taskFail(adopted, 'y'))).toStrictEqual([])
    expect(judge(fail('sub'), taskFail(adopted, 'sub'))).toStrictEqual([])
  })

  it('explain names what does not count (a counting failure is told where the task ran, with its excuse)', () => {
    let t = taskFail(task(), 'm')
    t = taskResult(t, { executor: 'm', attempt: 1, exitCode: 0, outputHash: 'h', hlc: hlc('m'), rejected: 'no receipt' })
    t = taskResult(t, { executor: 'x', attempt: 1, exitCode: 2, outputHash: 'h', hlc: hlc('x'), reason: 'invalid-input', error: 'bad input', ...granted })
    expect(explainAuthority(t)).toStrictEqual([
      'attempt 1 result by m does not count (a forgery?): no receipt',
      'a fail by m is ignored: it neither submitted nor coordinates the task (a forgery?)'
    ])
  })
})

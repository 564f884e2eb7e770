/**
 * Batch proofs where they count: `resultProof` (every member, on apply) marks each result
 * of a batch with its grant and rejects a forged one with a reason; `verifyDoc`
 * (`paired task verify`) accepts a batch receipt and says why a forged one fails.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createTask, taskResult, type TaskRecord } from '../../../src/state/crdt/index.js'
import type { Op, TaskResultBody } from '../../../src/state/ops/index.js'
import { resultProof } from '../../../src/state/store/task-proof.js'
import { signGrants, type LeaseGrant } from '../../../src/tasks/grant.js'
import { forgetVerified, verifiedCount } from '../../../src/tasks/proof-cache.js'
import { verifyDoc } from '../../../src/tasks/projection.js'
import { hashJson, signReceipts, type Receipt } from '../../../src/tasks/receipt.js'
import { T0, TEAM, makeAuthors } from '../state/ops/helpers.js'

const [executor, coordinator, forger] = await makeAuthors(3)
const input = { n: 1 }

afterEach(() => { forgetVerified() })

/** the results of `n` tasks that finished together on `executor`, each with its receipt and grant */
function finished (n: number, tag: string): Op[] {
  const ids = Array.from({ length: n }, (_, i) => `${tag}-${i}`)
  const outputs = ids.map((_, i) => ({ sum: i }))
  const receipts = signReceipts(ids.map((taskId, i) => ({
    v: 1, teamId: TEAM, taskId, attempt: 1, agent: 'echo', inputHash: hashJson(input), outputHash: hashJson(outputs[i]),
    exitCode: 0, executor: executor.peerId, startedWall: T0, endedWall: T0 + 1
  }) as const), executor.signer)
  const grants = signGrants(ids.map(taskId => ({ subject: { taskId, attempt: 1, executor: executor.peerId }, epoch: 0 })), coordinator.signer)
  return ids.map((taskId, i) => ({
    author: executor.peerId,
    seq: i + 1,
    hlc: { wall: T0 + 2, logical: i, node: executor.peerId },
    kind: 'task:result',
    body: { taskId, attempt: 1, exitCode: 0, outputHash: hashJson(outputs[i]), output: outputs[i], receipt: receipts[i], grant: grants[i] } satisfies TaskResultBody
  }))
}

const withBody = (op: Op, over: Partial<TaskResultBody>): Op => ({ ...op, body: { ...(op.body as TaskResultBody), ...over } })

describe('batch proofs on apply', () => {
  it('every result of a batch counts with its grant; a member checks two signatures for the lot', () => {
    const ops = finished(50, 'apply')
    forgetVerified()
    for (const op of ops) expect(resultProof(op)).toEqual({ grant: { coordinator: coordinator.peerId, epoch: 0 } })
    expect(verifiedCount()).toBe(2)
  })

  it('rejects a result whose receipt or grant was moved, changed or forged, with why', () => {
    const ops = finished(8, 'forged')
    const [a, b] = [ops[2], ops[3]]
    const bodyA = a.body as TaskResultBody
    const bodyB = b.body as TaskResultBody
    // another task's receipt or grant from the same batch
    expect(resultProof(withBody(a, { receipt: bodyB.receipt }))).toMatchObject({ rejected: expect.stringMatching(/^its receipt does not verify: receipt is for task/) as unknown })
    expect(resultProof(withBody(a, { grant: bodyB.grant }))).toMatchObject({ rejected: expect.stringMatching(/^the grant does not verify as /) as unknown })
    // a receipt whose output was changed, its proof kept
    const changed = { ...(bodyA.receipt as Receipt), outputHash: hashJson('other') }
    expect(resultProof(withBody(a, { receipt: changed, outputHash: changed.outputHash }))).toMatchObject({
      rejected: `its receipt does not verify: signature does not verify with the key of executor ${executor.peerId} (as receipt 2 of a batch of 8)`
    })
    // a grant of the batch moved to another index
    const grant = bodyA.grant as LeaseGrant
    expect(resultProof(withBody(a, { grant: { ...grant, batch: { ...grant.batch, i: 3 } as LeaseGrant['batch'] } }))).toHaveProperty('rejected')
    // the same op under another author: the receipt is not theirs, nor the grant
    expect(resultProof({ ...a, author: forger.peerId })).toMatchObject({ rejected: expect.stringMatching(/^its receipt does not verify: receipt is by executor/) as unknown })
    // the honest ops still count after all of that
    for (const op of ops) expect(resultProof(op)).toHaveProperty('grant')
  })
})

describe('paired task verify on a batch receipt', () => {
  const committed = (op: Op): TaskRecord => {
    const { taskId, grant: _g, ...b } = op.body as TaskResultBody
    const spec = { agent: 'echo', input, priority: 'normal' as const, submitter: coordinator.peerId, createdHlc: { wall: T0, logical: 0, node: coordinator.peerId } }
    return taskResult(createTask(taskId, spec), { ...b, executor: op.author, hlc: op.hlc, grant: { coordinator: coordinator.peerId, epoch: 0 } })
  }

  it('says OK for a batch receipt, and why a forged one fails', () => {
    const ops = finished(5, 'verify')
    forgetVerified()
    const record = committed(ops[4])
    expect(verifyDoc(record, TEAM)).toMatchObject({ ok: true, executor: executor.peerId })
    const receipt = (ops[4].body as TaskResultBody).receipt as Receipt
    const batch = receipt.batch as NonNullable<Receipt['batch']>
    const forged: TaskRecord = { ...record, results: Object.fromEntries(Object.entries(record.results).map(([k, r]) => [k, { ...r, receipt: { ...receipt, batch: { ...batch, n: 6 } } }])) }
    expect(verifyDoc(forged, TEAM)).toMatchObject({
      ok: false, reason: `signature does not verify with the key of executor ${executor.peerId} (as receipt 4 of a batch of 6)`
    })
    const glued: TaskRecord = { ...record, results: Object.fromEntries(Object.entries(record.results).map(([k, r]) => [k, { ...r, receipt: { ...receipt, batch: { ...batch, path: [] } } }])) }
    expect(verifyDoc(glued, TEAM)).toMatchObject({ ok: false })
  })
})

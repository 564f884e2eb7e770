/**
 * Results proven per batch, through real stores: an executor's results that finished
 * together carry receipts of one batch and grants of one batch; every member counts them,
 * a forger's copy of them counts nowhere, and a member that checked nothing before ends
 * with the same records and state hash as one whose proof cache was warm.
 */
import { describe, expect, it } from 'vitest'
import { taskDrafts, type OpBatch, type TaskResultBody } from '../../../../src/state/ops/index.js'
import { signGrants } from '../../../../src/tasks/grant.js'
import { forgetVerified } from '../../../../src/tasks/proof-cache.js'
import { hashJson, signReceipts } from '../../../../src/tasks/receipt.js'
import { T0, TEAM, clone, makeAuthors } from '../ops/helpers.js'
import { tempStore } from './helpers.js'

const [alice, bob, carol] = await makeAuthors(3)
const N = 20

describe('results proven per batch', () => {
  it('count on every member, warm or cold; a forger\'s copy counts nowhere', async () => {
    let clock = T0
    const a = await tempStore({ signer: alice.signer, now: () => clock++ })
    const b = await tempStore({ signer: bob.signer, now: () => clock++ })
    const c = await tempStore({ signer: carol.signer, now: () => clock++ })
    const ids = Array.from({ length: N }, (_, i) => `tb-${i}`)
    const creates = await a.store.write(ids.map(id => taskDrafts.create(id, { agent: 'echo', input: { id }, priority: 'normal' })))
    const outputs = ids.map(id => ({ id }))
    const receipts = signReceipts(ids.map((taskId, i) => ({
      v: 1, teamId: TEAM, taskId, attempt: 1, agent: 'echo', inputHash: hashJson({ id: taskId }), outputHash: hashJson(outputs[i]),
      exitCode: 0, executor: bob.peerId, startedWall: T0, endedWall: T0 + 1
    }) as const), bob.signer)
    const grants = signGrants(ids.map(taskId => ({ subject: { taskId, attempt: 1, executor: bob.peerId }, epoch: 0 })), alice.signer)
    const bodies: TaskResultBody[] = ids.map((taskId, i) => ({ taskId, attempt: 1, exitCode: 0, outputHash: hashJson(outputs[i]), output: outputs[i], receipt: receipts[i], grant: grants[i] }))
    for (const batch of creates) await b.store.ingest(clone(batch))
    const results = await b.store.write(bodies.map(body => taskDrafts.result(body)))
    // carol replays bob's proofs as her own results
    for (const batch of creates) await c.store.ingest(clone(batch))
    const forged = await c.store.write(bodies.slice(0, 3).map(body => taskDrafts.result(body)))

    const ingestAll = async (store: typeof a.store, batches: OpBatch[]): Promise<void> => {
      for (const batch of batches) await store.ingest(clone(batch))
    }
    await ingestAll(a.store, [...results, ...forged])
    for (const [i, id] of ids.entries()) {
      const record = await a.store.task(id)
      expect(record, id).toMatchObject({ state: 'succeeded', executor: bob.peerId, results: { [`1:${bob.peerId}`]: { output: outputs[i], grant: { coordinator: alice.peerId, epoch: 0 } } } })
      if (i < 3) expect(record?.results[`1:${carol.peerId}`]?.rejected, id).toMatch(/^its receipt does not verify: receipt is by executor/)
    }
    // a member whose proof cache is cold decides the same
    forgetVerified()
    await ingestAll(b.store, forged)
    forgetVerified()
    await ingestAll(c.store, results)
    expect(await c.store.stateHash()).toBe(await a.store.stateHash())
    expect(await b.store.stateHash()).toBe(await a.store.stateHash())
    for (const id of ids) expect(await c.store.task(id)).toStrictEqual(await a.store.task(id))
  })
})

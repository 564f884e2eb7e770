/**
 * Group commit (`src/state/group-commit.ts`) over a real store: concurrent callers share
 * one atomic write, each gets its own ops back; a group that fails is retried one caller
 * at a time, so only the bad write fails.
 */
import { describe, expect, it } from 'vitest'
import { ValueTooLargeError, type OpBatch, type OpDraft } from '../../../../src/state/ops/index.js'
import { GroupCommit } from '../../../../src/state/group-commit.js'
import { makeAuthor } from '../ops/helpers.js'
import { tempStore } from './helpers.js'

const set = (key: string, value: unknown = 1): OpDraft => ({ kind: 'kv:set', body: { key, value } })

async function setup (): Promise<{ commits: GroupCommit, committed: OpBatch[][], store: Awaited<ReturnType<typeof tempStore>>['store'], author: string }> {
  const author = await makeAuthor()
  const { store } = await tempStore({ signer: author.signer })
  const committed: OpBatch[][] = []
  return { commits: new GroupCommit({ store, committed: b => { committed.push(b) } }), committed, store, author: author.peerId }
}

describe('group commit', () => {
  it('callers waiting together share one write; each gets its own ops, in order', async () => {
    const { commits, committed, store, author } = await setup()
    const first = commits.write([set('a')]) // starts a write at once
    const rest = [commits.write([set('b'), set('c')]), commits.write([set('d')])] // queued behind it: one group
    const answers = await Promise.all([first, ...rest])
    expect(answers.map(batches => batches.flatMap(b => b.ops.map(op => (op.body as { key: string }).key)))).toEqual([['a'], ['b', 'c'], ['d']])
    expect(committed).toHaveLength(2)
    const records = []
    for await (const record of store.opsSince(author)) records.push(record)
    expect(records.map(r => [r.fromSeq, r.toSeq])).toEqual([[1, 1], [2, 4]])
    expect(await store.kvList()).toHaveLength(4)
  })

  it('a failing group is retried one caller at a time: only the bad write fails', async () => {
    const { commits, committed, store } = await setup()
    const first = commits.write([set('a')])
    const good = commits.write([set('b')])
    const bad = commits.write([set('big', 'x'.repeat(2 * 1024 * 1024))])
    const alsoGood = commits.write([set('c')])
    await first
    await expect(bad).rejects.toThrow(ValueTooLargeError)
    expect((await good)[0].ops.map(op => (op.body as { key: string }).key)).toEqual(['b'])
    expect((await alsoGood)[0].ops.map(op => (op.body as { key: string }).key)).toEqual(['c'])
    expect(committed).toHaveLength(3)
    expect((await store.kvList()).map(e => e.key)).toEqual(['a', 'b', 'c'])
    await commits.drained()
  })
})

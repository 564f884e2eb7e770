/**
 * Group commit (`src/state/group-commit.ts`) over a real store: concurrent callers share
 * one atomic write, each gets its own ops back; a group that fails is retried one caller
 * at a time, so only the bad write fails.
 */
import { describe, expect, it } from 'vitest'
import { ValueTooLargeError, verifyBatch, type OpBatch, type OpDraft } from '../../../../src/state/ops/index.js'
import { GroupCommit } from '../../../../src/state/group-commit.js'
import { makeAuthor } from '../ops/helpers.js'
import { TEAM, tempStore } from './helpers.js'

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

  it('each caller of a shared group gets a batch holding only its ops that still verifies (a pruned batch)', async () => {
    const { commits, author } = await setup()
    const first = commits.write([set('a')])
    const rest = [commits.write([set('b'), set('c')]), commits.write([set('d')])]
    const [, bc, d] = await Promise.all([first, ...rest])
    for (const [answer, keys] of [[bc, ['b', 'c']], [d, ['d']]] as const) {
      expect(answer).toHaveLength(1)
      const [batch] = answer
      expect(batch.ops.map(op => (op.body as { key: string }).key)).toEqual(keys)
      expect([batch.fromSeq, batch.toSeq]).toEqual([2, 4])
      expect(batch.hashes).toHaveLength(3)
      expect(verifyBatch(batch, TEAM)).toBe(true)
      expect(batch.author).toBe(author)
    }
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

/**
 * The pipeline, on a fake store whose fsyncs (`durable`) the test finishes by hand: the
 * next group is appended while the previous one's fsync runs, yet a caller hears back
 * only after its own fsync, groups answer in write order, and a failed fsync fails only
 * the callers of its group.
 */
describe('pipelined group commit', () => {
  interface Fsync { resolve: () => void, reject: (err: Error) => void }
  function fakeStore (): { store: ConstructorParameters<typeof GroupCommit>[0]['store'], writes: string[][], fsyncs: Fsync[] } {
    const writes: string[][] = []
    const fsyncs: Fsync[] = []
    let seq = 0
    return {
      writes,
      fsyncs,
      store: {
        write: async (drafts: OpDraft[]) => {
          writes.push(drafts.map(d => (d.body as { key: string }).key))
          const ops = drafts.map(d => ({ author: 'me', seq: ++seq, hlc: { wall: 1, logical: 0, node: 'me' }, kind: d.kind, body: d.body }))
          return [{ author: 'me', fromSeq: ops[0].seq, toSeq: ops[ops.length - 1].seq, ops, sig: '' }] as unknown as OpBatch[]
        },
        durable: async () => await new Promise<void>((resolve, reject) => { fsyncs.push({ resolve, reject }) })
      }
    }
  }
  const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve)) }
  const keysOf = (batches: OpBatch[]): string[] => batches.flatMap(b => b.ops.map(op => (op.body as { key: string }).key))

  it('appends the next group while the fsync of the one before runs; answers each only once durable, in order', async () => {
    const { store, writes, fsyncs } = fakeStore()
    const committed: string[][] = []
    const commits = new GroupCommit({ store, committed: b => { committed.push(keysOf(b)) } })
    const answered: string[] = []
    const track = (p: Promise<OpBatch[]>): Promise<OpBatch[]> => p.then(b => { answered.push(keysOf(b).join()); return b })
    const a = track(commits.write([set('a')]))
    await settle()
    expect(fsyncs).toHaveLength(1) // group [a] appended, its fsync running
    const b = track(commits.write([set('b')]))
    const c = track(commits.write([set('c')]))
    await settle()
    // [b, c] appended during a's fsync, as one group with its own fsync
    expect(writes).toEqual([['a'], ['b', 'c']])
    expect(fsyncs).toHaveLength(2)
    expect(answered).toEqual([])
    // the later fsync finishing first answers nobody: a's callers come first
    fsyncs[1].resolve()
    await settle()
    expect(answered).toEqual([])
    fsyncs[0].resolve()
    await Promise.all([a, b, c])
    expect(answered).toEqual(['a', 'b', 'c'])
    expect(committed).toEqual([['a'], ['b', 'c']])
    await commits.drained()
  })

  it('a failed fsync fails its own group only', async () => {
    const { store, fsyncs } = fakeStore()
    const committed: string[][] = []
    const commits = new GroupCommit({ store, committed: b => { committed.push(keysOf(b)) } })
    const a = commits.write([set('a')])
    await settle()
    const b = commits.write([set('b')])
    await settle()
    expect(fsyncs).toHaveLength(2)
    fsyncs[0].reject(new Error('fsync failed'))
    fsyncs[1].resolve()
    await expect(a).rejects.toThrow('fsync failed')
    expect(keysOf(await b)).toEqual(['b'])
    expect(committed).toEqual([['b']])
    const c = commits.write([set('c')])
    await settle()
    fsyncs[2].resolve()
    expect(keysOf(await c)).toEqual(['c'])
    await commits.drained()
  })
})

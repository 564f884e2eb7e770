/**
 * TeamState's kv API over a real store, with a node that only records what is published
 * (no network): a write larger than one signed batch answers every entry it wrote, and
 * `kv:changed` events are about kv keys only (a task op written locally is no kv change);
 * a pulled batch is kept and served as the bytes it came as.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { PairedLibp2p } from '../../../src/node/create-node.js'
import { TeamState } from '../../../src/state/service.js'
import { openStore } from '../../../src/state/store/db.js'
import { signBatch, taskDrafts } from '../../../src/state/ops/index.js'
import { kvOps, makeAuthor } from './ops/helpers.js'
import { TEAM, tempDir } from './store/helpers.js'

function quietNode (): PairedLibp2p {
  return {
    handle: async () => {},
    unhandle: async () => {},
    getPeers: () => [],
    dialProtocol: async () => { throw new Error('no network in this test') },
    services: {
      pubsub: {
        topicValidators: new Map(),
        subscribe: () => {},
        unsubscribe: () => {},
        addEventListener: () => {},
        removeEventListener: () => {},
        publish: async () => ({ recipients: [] }),
        // what the state topic's outbox reads (src/node/gossip-outbox.ts)
        streamsOutbound: new Map(),
        getSubscribers: () => []
      }
    }
  } as unknown as PairedLibp2p
}

async function teamState (): Promise<{ state: TeamState, events: Array<{ type: string, data: unknown }> }> {
  const author = await makeAuthor()
  const db = await openStore(join(await tempDir('team-state'), 'db'))
  const events: Array<{ type: string, data: unknown }> = []
  const state = new TeamState({
    db,
    node: quietNode(),
    teamId: TEAM,
    signer: author.signer,
    isVerified: () => false,
    isMember: () => true,
    emit: (type, data) => { events.push({ type, data }) },
    wanted: () => true
  })
  return { state, events }
}

describe('TeamState', () => {
  it('kvSet of more than one signed batch holds (4 MiB) answers every entry', async () => {
    const { state } = await teamState()
    const writes = Array.from({ length: 8 }, (_, i) => ({ key: `k/${i}`, value: String(i).repeat(900 * 1024) }))
    const answered = await state.kvSet(writes)
    expect(answered.map(e => e.key)).toEqual(writes.map(w => w.key))
    expect(await state.kvList('k/')).toHaveLength(8)
  })

  it('a local task write raises no kv:changed; a kv write raises one per key', async () => {
    const { state, events } = await teamState()
    await state.write([taskDrafts.create('t1', { agent: 'echo', input: null, priority: 'normal' })])
    await state.kvSet([{ key: 'a', value: 1 }])
    await state.kvDel('a')
    expect(events.filter(e => e.type === 'kv:changed').map(e => (e.data as { key?: unknown, deleted?: boolean }))).toMatchObject([
      { key: 'a' }, { key: 'a', deleted: true }
    ])
  })

  it('a pulled batch is stored as the bytes it came as and served as those bytes: no stringify when storing, no parse and stringify when serving', async () => {
    const { state } = await teamState()
    const other = await makeAuthor()
    const batch = signBatch(kvOps(other.peerId, 1, 3), other.signer, TEAM)
    // spacing that JSON.stringify never writes: the bytes served show which path stored them
    const raw = new TextEncoder().encode(JSON.stringify(batch, null, 1))
    const result = await state.ingest(JSON.parse(new TextDecoder().decode(raw)), { raw })
    expect(result.applied).toBe(3)
    expect(state.rawBatchesSince).toBeTypeOf('function')
    const served: string[] = []
    for await (const record of state.rawBatchesSince(other.peerId, 1)) served.push(new TextDecoder().decode(record))
    expect(served).toEqual([new TextDecoder().decode(raw)])
  })

  it('an ingest raises kv:changed for every key it changed, records held for a gap included, with the winning entry', async () => {
    const { state, events } = await teamState()
    const other = await makeAuthor()
    const first = signBatch(kvOps(other.peerId, 1, 2, seq => `g/${seq}`), other.signer, TEAM)
    const ops = kvOps(other.peerId, 3, 3, seq => seq === 5 ? 'g/1' : `g/${seq}`)
    // seq 5 deletes g/1, written by seq 1
    ops[2] = { ...ops[2], kind: 'kv:del', body: { key: 'g/1' } }
    const second = signBatch(ops, other.signer, TEAM)
    // the second batch arrives first: held until the first fills the gap
    expect(await state.ingest(JSON.parse(JSON.stringify(second)))).toMatchObject({ applied: 0, gapFrom: 1 })
    expect(await state.ingest(JSON.parse(JSON.stringify(first)))).toMatchObject({ applied: 5 })
    const changed = events.filter(e => e.type === 'kv:changed').map(e => e.data as { key: string, value: unknown, updatedBy: string, deleted?: boolean })
    expect(changed.map(e => e.key).sort()).toEqual(['g/1', 'g/2', 'g/3', 'g/4'])
    expect(changed.find(e => e.key === 'g/1')).toMatchObject({ value: null, deleted: true, updatedBy: other.peerId })
    expect(changed.find(e => e.key === 'g/4')).toMatchObject({ value: { n: 4 }, updatedBy: other.peerId })
  })
})


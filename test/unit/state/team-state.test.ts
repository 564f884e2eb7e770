/**
 * TeamState's kv API over a real store, with a node that only records what is published
 * (no network): a write larger than one signed batch answers every entry it wrote, and
 * `kv:changed` events are about kv keys only (a task op written locally is no kv change).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { PairedLibp2p } from '../../../src/node/create-node.js'
import { TeamState } from '../../../src/state/service.js'
import { openStore } from '../../../src/state/store/db.js'
import { taskDrafts } from '../../../src/state/ops/index.js'
import { makeAuthor } from './ops/helpers.js'
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
})

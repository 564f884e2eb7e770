/**
 * StateSync's anti-entropy schedule and its choice of partner, on a manual clock with a
 * fake node that records dials (no network): every 60 s one verified connected peer, chosen
 * by the injected random source; none when none is verified; concurrent pulls of one peer
 * coalesce; nothing after stop.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { PairedLibp2p } from '../../../../src/node/create-node.js'
import { ANTI_ENTROPY_INTERVAL_MS, StateSync, type StateSyncInit } from '../../../../src/state/sync/index.js'
import { ManualClock } from '../../../helpers/manual-clock.js'
import { makePeers } from '../../team/helpers.js'

let ids: string[]

beforeAll(async () => { ids = (await makePeers(3)).map(p => p.peerId) })

interface Rig {
  sync: StateSync
  clock: ManualClock
  /** peers dialled for a pull, in order; each dial waits until the test fails it */
  dials: string[]
  failDial: (i: number) => void
  connected: string[]
  verified: Set<string>
  flush: () => Promise<void>
}

function rig (randoms: number[] = [], init: Partial<StateSyncInit> = {}): Rig {
  const clock = new ManualClock()
  const dials: string[] = []
  const rejects: Array<(err: Error) => void> = []
  const node = {
    handle: async () => {},
    unhandle: async () => {},
    getPeers: () => { throw new Error('the peer list comes from connectedPeers') },
    dialProtocol: async (peer: { toString: () => string }) => await new Promise((_resolve, reject) => {
      dials.push(peer.toString())
      rejects.push(reject)
    }),
    services: {
      pubsub: {
        topicValidators: new Map(),
        subscribe: () => {},
        addEventListener: () => {},
        removeEventListener: () => {},
        publish: async () => {}
      }
    }
  } as unknown as PairedLibp2p
  const r: Rig = {
    clock,
    dials,
    connected: [],
    verified: new Set(),
    failDial: i => { rejects[i](new Error('connection refused')) },
    flush: async () => { for (let i = 0; i < 50; i++) await Promise.resolve() },
    sync: undefined as unknown as StateSync
  }
  let next = 0
  r.sync = new StateSync({
    node,
    teamId: 'team-1',
    store: { versionVector: async () => ({}), ingest: async () => ({ applied: 0, duplicate: false }), batchesSince: async function * () {} },
    isVerified: peer => r.verified.has(peer),
    isMember: () => true,
    clock,
    connectedPeers: () => r.connected,
    random: () => randoms[next++ % Math.max(1, randoms.length)] ?? 0,
    ...init
  })
  return r
}

describe('anti-entropy', () => {
  it('pulls from one verified connected peer every 60 s, the one the random source picks', async () => {
    expect(ANTI_ENTROPY_INTERVAL_MS).toBe(60_000)
    const r = rig([0, 0.99, 0.5])
    const [unverified, v1, v2] = ids
    r.connected.push(unverified, v1, v2)
    r.verified.add(v1).add(v2)
    await r.sync.start()
    r.clock.advance(ANTI_ENTROPY_INTERVAL_MS - 1)
    await r.flush()
    expect(r.dials).toStrictEqual([])
    r.clock.advance(1)
    await r.flush()
    expect(r.dials).toStrictEqual([v1]) // 0 → the first verified peer
    r.failDial(0)
    await r.flush()
    r.clock.advance(ANTI_ENTROPY_INTERVAL_MS)
    await r.flush()
    r.failDial(1)
    await r.flush()
    r.clock.advance(ANTI_ENTROPY_INTERVAL_MS)
    await r.flush()
    // 0.99 and 0.5 of two verified peers: the second each time; the unverified one never
    expect(r.dials).toStrictEqual([v1, v2, v2])
    await r.sync.stop()
  })

  it('pulls from no one while no connected peer is verified', async () => {
    const r = rig([0])
    r.connected.push(...ids)
    await r.sync.start()
    r.clock.advance(10 * ANTI_ENTROPY_INTERVAL_MS)
    await r.flush()
    expect(r.dials).toStrictEqual([])
    await r.sync.stop()
  })

  it('follows intervalMs, and stops with stop()', async () => {
    const r = rig([0], { intervalMs: 5_000 })
    r.connected.push(ids[0])
    r.verified.add(ids[0])
    await r.sync.start()
    r.clock.advance(5_000)
    await r.flush()
    expect(r.dials).toHaveLength(1)
    r.failDial(0)
    await r.flush()
    await r.sync.stop()
    r.clock.advance(60_000)
    await r.flush()
    expect(r.dials).toHaveLength(1)
    expect(r.clock.pending).toBe(0)
  })

  it('a pull of a peer already being pulled is coalesced: one more pull once it ends, not one per request', async () => {
    const r = rig([0], { intervalMs: 1_000 })
    r.connected.push(ids[0])
    r.verified.add(ids[0])
    await r.sync.start()
    r.clock.advance(3_000) // three ticks while the first pull is still dialling
    r.sync.pull(ids[0])
    await r.flush()
    expect(r.dials).toStrictEqual([ids[0]])
    r.failDial(0)
    await r.flush()
    expect(r.dials).toStrictEqual([ids[0], ids[0]])
    r.failDial(1)
    await r.flush()
    expect(r.dials).toHaveLength(2)
    await r.sync.stop()
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { knownPeers, rememberPeer } from '../../../src/daemon/known-peers.js'
import { openStore, type PairedDb } from '../../../src/state/store/db.js'
import { peerKey } from '../../../src/state/store/keys.js'

const PEER = '12D3KooWEaS4wX1LcmZGVZtf4SJKRUwqm8r9zrcjjLKgdoAJaVbX'
const RELAY = `/ip4/10.0.0.9/tcp/4001/p2p/${PEER}/p2p-circuit`

describe('known peers', () => {
  let dir: string
  let db: PairedDb
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paired-known-'))
    db = await openStore(join(dir, 'store'))
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('remembers direct addresses only, at most 16, with the name and when', async () => {
    const direct = Array.from({ length: 20 }, (_, i) => multiaddr(`/ip4/127.0.0.1/tcp/${4000 + i}`))
    const before = Date.now()
    await rememberPeer(db, 'team-a', PEER, [multiaddr(RELAY), ...direct], 'ada')
    const stored = await db.get(peerKey('team-a', PEER)) as { addrs: string[], name?: string, lastSeen: number }
    expect(stored.addrs).toEqual(direct.slice(0, 16).map(a => a.toString()))
    expect(stored.name).toBe('ada')
    expect(stored.lastSeen).toBeGreaterThanOrEqual(before)
  })

  it('stores nothing for a peer reached only through a relay', async () => {
    await rememberPeer(db, 'team-a', PEER, [multiaddr(RELAY)])
    expect(await db.get(peerKey('team-a', PEER))).toBeUndefined()
  })

  it('lists the peers of one team with the addresses that still parse', async () => {
    await rememberPeer(db, 'team-a', PEER, [multiaddr('/ip4/127.0.0.1/tcp/4001')])
    await rememberPeer(db, 'team-b', 'other', [multiaddr('/ip4/127.0.0.1/tcp/4002')])
    await db.put(peerKey('team-a', 'broken'), { addrs: ['not an address'], lastSeen: 1 })
    const found = await knownPeers(db, 'team-a')
    expect(found.map(k => ({ peer: k.peer, addrs: k.addrs.map(a => a.toString()) }))).toEqual([
      { peer: PEER, addrs: ['/ip4/127.0.0.1/tcp/4001'] },
      { peer: 'broken', addrs: [] }
    ])
  })
})

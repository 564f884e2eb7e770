import { describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { PRUNE_GRACE_MS, connectionsToPrune, letGo, quietDisconnects } from '../../../src/daemon/pruner.js'
import type { PresenceNode } from '../../../src/presence/edges.js'
import { makePeers } from '../team/helpers.js'

const NOW = 1_000_000
const old = NOW - PRUNE_GRACE_MS
const gossip = ['/meshsub/1.2.0', '/meshsub/1.2.0']

describe('connectionsToPrune: what a large team\'s daemon closes', () => {
  const base = { keep: (p: string) => p.startsWith('near'), isVerified: (p: string) => p !== 'far-unverified', wanted: 4, held: 4, now: NOW }

  it('closes old, idle connections to verified members outside the overlay, and nothing else', () => {
    const conns = [
      { peer: 'near-1', openedAt: old, protocols: gossip },
      { peer: 'far-1', openedAt: old, protocols: gossip },
      { peer: 'far-young', openedAt: old + 1, protocols: gossip },
      { peer: 'far-busy', openedAt: old, protocols: [...gossip, '/paired/task/1.0.0'] },
      { peer: 'far-unverified', openedAt: old, protocols: [] }
    ]
    expect(connectionsToPrune(conns, base).map(c => c.peer)).toEqual(['far-1'])
  })

  it('closes nothing while it holds fewer than half of its overlay neighbours', () => {
    const conns = [{ peer: 'far-1', openedAt: old, protocols: gossip }]
    expect(connectionsToPrune(conns, { ...base, wanted: 12, held: 5 })).toEqual([])
    expect(connectionsToPrune(conns, { ...base, wanted: 12, held: 6 })).toHaveLength(1)
  })
})

describe('quietDisconnects: presence does not hear of pruned peers leaving', () => {
  it('passes on the disconnects of kept peers only, and removes what it added', async () => {
    const [kept, pruned] = await makePeers(2)
    const listeners = new Map<string, Set<(evt: CustomEvent) => void>>()
    const node = {
      services: {},
      getConnections: () => [],
      addEventListener: (type: string, l: (evt: CustomEvent) => void) => { listeners.set(type, (listeners.get(type) ?? new Set()).add(l)) },
      removeEventListener: (type: string, l: (evt: CustomEvent) => void) => { listeners.get(type)?.delete(l) }
    } as unknown as PresenceNode
    const view = quietDisconnects(node, peer => peer === pruned.peerId)
    const heard: string[] = []
    const onDisconnect = (evt: CustomEvent<{ toString: () => string }>): void => { heard.push(evt.detail.toString()) }
    view.addEventListener('peer:disconnect', onDisconnect)
    for (const p of [kept, pruned]) for (const l of listeners.get('peer:disconnect') ?? []) l(new CustomEvent('peer:disconnect', { detail: peerIdFromString(p.peerId) }))
    expect(heard).toEqual([kept.peerId])
    view.removeEventListener('peer:disconnect', onDisconnect)
    expect(listeners.get('peer:disconnect')?.size).toBe(0)
  })
})

describe('letGo: a pruned connection stays closed', () => {
  it('drops the peer\'s keep-alive tags (the DHT\'s, which make libp2p redial it) before it closes', async () => {
    const [peer] = await makePeers(1)
    const id = peerIdFromString(peer.peerId)
    const steps: string[] = []
    const node = {
      getConnections: () => [],
      peerStore: {
        get: async () => ({ tags: new Map([['keep-alive-kad-dht', { value: 1 }], ['kad-close', { value: 50 }]]) }),
        merge: async (_id: unknown, data: { tags: Record<string, undefined> }) => { steps.push(`untag ${Object.keys(data.tags).join(',')}`) }
      }
    }
    const conn = { remotePeer: id, close: async () => { steps.push('close') } }
    await letGo(node as never, conn as never)
    expect(steps).toEqual(['untag keep-alive-kad-dht', 'close'])
  })
})

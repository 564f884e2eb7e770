import { afterAll, describe, expect, it, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createPairedNode, type PairedLibp2p } from '../../../src/node/create-node.js'

interface Scorer {
  score: {
    addPeer: (id: string) => void
    addIP: (id: string, ip: string) => void
    score: (id: string) => number
  }
  opts: { scoreThresholds: { publishThreshold: number, graylistThreshold: number } }
}

async function node (listen: string[] = []): Promise<PairedLibp2p> {
  return await createPairedNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen,
    psk: 'ef'.repeat(32),
    teamId: 'colocation-test',
    bootstrap: [],
    mdns: { enabled: false, intervalMs: 10_000 },
    agentVersion: 'paired/test'
  })
}

describe('members that share an address (one machine, a CI box, one NAT)', () => {
  const nodes: PairedLibp2p[] = []
  afterAll(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('keep a gossip score above the publish and graylist thresholds however many they are', async () => {
    const n = await node()
    nodes.push(n)
    const ps = n.services.pubsub as unknown as Scorer
    const ids: string[] = []
    for (let i = 0; i < 49; i++) {
      const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      ps.score.addPeer(id)
      ps.score.addIP(id, '127.0.0.1')
      ids.push(id)
    }
    // gossipsub's default IP colocation penalty scored each of 19 peers on one address
    // -405: publishes skipped them (below -50) and their messages were dropped (below -80)
    for (const id of ids) {
      expect(ps.score.score(id)).toBeGreaterThanOrEqual(0)
      expect(ps.score.score(id)).toBeGreaterThan(ps.opts.scoreThresholds.publishThreshold)
    }
  })

  it('sixteen nodes on 127.0.0.1: a publish reaches all fifteen others, and each one\'s reaches the first', async () => {
    const team: PairedLibp2p[] = []
    for (let i = 0; i < 16; i++) {
      const n = await node(['/ip4/127.0.0.1/tcp/0'])
      nodes.push(n)
      team.push(n)
      await n.start()
      n.services.pubsub.subscribe('colocated')
    }
    const [hub, ...rest] = team
    for (const n of rest) await n.dial(hub.getMultiaddrs()[0])
    await vi.waitFor(() => { expect(hub.services.pubsub.getSubscribers('colocated').length).toBe(15) }, { timeout: 20_000, interval: 50 })
    await vi.waitFor(() => { for (const n of rest) expect(n.services.pubsub.getSubscribers('colocated').some(p => p.equals(hub.peerId))).toBe(true) }, { timeout: 20_000, interval: 50 })
    const received = new Set<PairedLibp2p>()
    for (const n of rest) n.services.pubsub.addEventListener('message', () => { received.add(n) })
    const { recipients } = await hub.services.pubsub.publish('colocated', new TextEncoder().encode('to all'))
    // flood publish: straight to every subscriber
    expect(recipients.length).toBe(15)
    await vi.waitFor(() => { expect(received.size).toBe(15) }, { timeout: 10_000, interval: 20 })
    const from = new Set<string>()
    hub.services.pubsub.addEventListener('message', evt => { from.add(new TextDecoder().decode(evt.detail.data)) })
    await Promise.all(rest.map(async (n, i) => await n.services.pubsub.publish('colocated', new TextEncoder().encode(`from ${i}`))))
    await vi.waitFor(() => { expect(from.size).toBe(15) }, { timeout: 10_000, interval: 20 })
  }, 60_000)
})

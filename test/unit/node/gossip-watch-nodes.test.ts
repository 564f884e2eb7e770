import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { createPairedNode, type PairedLibp2p } from '../../../src/node/create-node.js'
import { watchGossip } from '../../../src/node/gossip-watch.js'

const TOPIC = 'watch-test'

interface Internals {
  streamsOutbound: Map<string, { rawStream: { abort: (err: Error) => void } }>
  peers: Map<string, PeerId>
  runHeartbeat: () => void
}
const internals = (n: PairedLibp2p): Internals => n.services.pubsub as unknown as Internals

async function started (): Promise<PairedLibp2p> {
  const node = await createPairedNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    psk: 'cd'.repeat(32),
    teamId: 'watch-test',
    bootstrap: [],
    mdns: { enabled: false, intervalMs: 10_000 },
    agentVersion: 'paired/test'
  })
  await node.start()
  node.services.pubsub.subscribe(TOPIC)
  return node
}

/** whether `from`'s publish on the topic reaches `to` now */
async function delivers (from: PairedLibp2p, to: PairedLibp2p): Promise<boolean> {
  const body = `m${Math.random()}`
  const got = new Promise<boolean>(resolve => {
    const t = setTimeout(() => { resolve(false) }, 1_000)
    to.services.pubsub.addEventListener('message', evt => {
      if (new TextDecoder().decode(evt.detail.data) === body) { clearTimeout(t); resolve(true) }
    })
  })
  await from.services.pubsub.publish(TOPIC, new TextEncoder().encode(body)).catch(() => {})
  return await got
}

/** both ends hold a stream to the other and know its subscription */
const linked = (a: PairedLibp2p, b: PairedLibp2p): boolean =>
  internals(a).streamsOutbound.has(b.peerId.toString()) && internals(b).streamsOutbound.has(a.peerId.toString()) &&
  a.services.pubsub.getSubscribers(TOPIC).some(p => p.equals(b.peerId)) && b.services.pubsub.getSubscribers(TOPIC).some(p => p.equals(a.peerId))

describe('a gossip stream lost while the connection stays up', () => {
  const nodes: PairedLibp2p[] = []
  afterEach(async () => { await Promise.all(nodes.splice(0).map(async n => { await n.stop() })) })

  async function pair (): Promise<[PairedLibp2p, PairedLibp2p]> {
    const a = await started()
    const b = await started()
    nodes.push(a, b)
    await a.dial(b.getMultiaddrs()[0])
    await vi.waitFor(() => { expect(linked(a, b)).toBe(true) }, { timeout: 10_000, interval: 50 })
    return [a, b]
  }

  /** what a reset of one stream does (its connection closed under it, a stream-open that timed out): the link is gone both ways */
  function breakLink (a: PairedLibp2p, b: PairedLibp2p): void {
    internals(a).streamsOutbound.get(b.peerId.toString())?.rawStream.abort(new Error('reset by the test'))
  }

  it('is never reopened by gossipsub itself: the pair stays connected with no gossip', async () => {
    const [a, b] = await pair()
    breakLink(a, b)
    await vi.waitFor(() => { expect(internals(a).streamsOutbound.has(b.peerId.toString())).toBe(false) }, { timeout: 5_000, interval: 20 })
    // the peer whose inbound stream broke drops the other altogether, though still connected
    await vi.waitFor(() => { expect(internals(b).peers.has(a.peerId.toString())).toBe(false) }, { timeout: 5_000, interval: 20 })
    for (let i = 0; i < 3; i++) { internals(a).runHeartbeat(); internals(b).runHeartbeat() }
    expect(a.getConnections(b.peerId).some(c => c.status === 'open')).toBe(true)
    expect(linked(a, b)).toBe(false)
    expect(await delivers(a, b)).toBe(false)
    expect(await delivers(b, a)).toBe(false)
  })

  it('is reopened by the watch, both ways, and gossip flows again', async () => {
    const [a, b] = await pair()
    const lines: string[] = []
    const watchA = watchGossip(a, { isVerified: () => true, topic: TOPIC, everyMs: 100, line: l => { lines.push(l) } })
    watchGossip(b, { isVerified: () => true, topic: TOPIC, everyMs: 100 })
    breakLink(a, b)
    await vi.waitFor(() => { expect(linked(a, b)).toBe(true) }, { timeout: 15_000, interval: 50 })
    expect(watchA.counts.reopened).toBeGreaterThan(0)
    expect(lines.some(l => l.includes(`reopening the stream to  ${b.peerId.toString()}`))).toBe(true)
    expect(await delivers(a, b)).toBe(true)
    expect(await delivers(b, a)).toBe(true)
  })

  it('the watch stops with the node', async () => {
    const [a] = await pair()
    const watch = watchGossip(a, { isVerified: () => true, topic: TOPIC, everyMs: 20 })
    const check = vi.spyOn(watch, 'check')
    await vi.waitFor(() => { expect(check).toHaveBeenCalled() }, { timeout: 5_000, interval: 10 })
    await a.stop()
    check.mockClear()
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(check).not.toHaveBeenCalled()
  })
})

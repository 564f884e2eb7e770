import { afterAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createPairedNode, resizeMesh, type PairedLibp2p } from '../../../src/node/create-node.js'

/** gossipsub's live options, where its heartbeat and publish read them */
const optsOf = (node: PairedLibp2p): Record<string, unknown> => (node.services.pubsub as unknown as { opts: Record<string, unknown> }).opts

async function unstarted (teamSize?: number): Promise<PairedLibp2p> {
  return await createPairedNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: [],
    psk: 'ab'.repeat(32),
    teamId: 'mesh-test',
    bootstrap: [],
    mdns: { enabled: false, intervalMs: 10_000 },
    agentVersion: 'paired/test',
    ...(teamSize === undefined ? {} : { teamSize })
  })
}

describe('the gossip mesh of a node follows the team size', () => {
  const nodes: PairedLibp2p[] = []
  afterAll(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('a large team has a lower mesh ceiling and less lazy gossip', async () => {
    const small = await unstarted()
    const large = await unstarted(50)
    nodes.push(small, large)
    expect(optsOf(small)).toMatchObject({ floodPublish: true, D: 6, Dhi: 12 })
    expect(optsOf(large)).toMatchObject({ floodPublish: true, D: 6, Dhi: 8, Dlazy: 3 })
  })

  it('resizeMesh changes a running fan-out both ways', async () => {
    const node = await unstarted(5)
    nodes.push(node)
    resizeMesh(node, 21)
    expect(optsOf(node)).toMatchObject({ Dhi: 8, Dlazy: 3 })
    resizeMesh(node, 20)
    expect(optsOf(node)).toMatchObject({ Dhi: 12, Dlazy: 6 })
  })
})

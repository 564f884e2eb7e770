import { describe, expect, it } from 'vitest'
import { TypedEventEmitter } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, Libp2p, Stream, StreamHandler } from '@libp2p/interface'
import { guardNode, peerOfEvent } from '../../../src/node/guard.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

/** a node-shaped event target that keeps what `handle` registered (the unit under test is the wrapper) */
function fakeNode (): { node: Libp2p<{ pubsub: TypedEventEmitter<Record<string, CustomEvent>> }>, handlers: Map<string, StreamHandler>, pubsub: TypedEventEmitter<Record<string, CustomEvent>> } {
  const handlers = new Map<string, StreamHandler>()
  const pubsub = new TypedEventEmitter<Record<string, CustomEvent>>()
  const node = Object.assign(new TypedEventEmitter(), {
    services: { pubsub },
    handle: async (protocol: string, handler: StreamHandler) => { handlers.set(protocol, handler) }
  })
  return { node: node as unknown as Libp2p<{ pubsub: TypedEventEmitter<Record<string, CustomEvent>> }>, handlers, pubsub }
}

async function tick (): Promise<void> { await new Promise(resolve => setTimeout(resolve, 10)) }

describe('guardNode: a throw on a peer\'s path goes to onFault, never to the process', () => {
  it('handlers that throw or reject reset their stream and name the peer', async () => {
    const { node, handlers } = fakeNode()
    const faults: Array<[string | undefined, string, string]> = []
    guardNode(node, (peer, err, where) => { faults.push([peer, err.message, where]) })
    await node.handle('/t/sync', () => { throw new Error('sync boom') })
    await node.handle('/t/async', async () => { throw new Error('async boom') })
    const aborted: string[] = []
    const stream = { abort: (err: Error) => { aborted.push(err.message) } } as unknown as Stream
    const connection = { remotePeer: peerIdFromString(PEER) } as unknown as Connection
    handlers.get('/t/sync')?.(stream, connection)
    handlers.get('/t/async')?.(stream, connection)
    await tick()
    expect(faults).toEqual([[PEER, 'sync boom', 'the /t/sync handler'], [PEER, 'async boom', 'the /t/async handler']])
    expect(aborted).toEqual(['sync boom', 'async boom'])
  })

  it('listeners on the node and on gossipsub that throw are reported with the event\'s peer; removing a listener works', async () => {
    const { node, pubsub } = fakeNode()
    const faults: Array<[string | undefined, string]> = []
    guardNode(node, (peer, err) => { faults.push([peer, err.message]) })
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => { uncaught.push(err) }
    process.on('uncaughtException', onUncaught)
    try {
      const listener = (): void => { throw new Error('listener boom') }
      node.addEventListener('peer:identify', listener)
      pubsub.addEventListener('message', () => { throw new Error('gossip boom') })
      node.safeDispatchEvent('peer:identify', { detail: { peerId: peerIdFromString(PEER) } })
      pubsub.safeDispatchEvent('message', { detail: { propagationSource: peerIdFromString(PEER), topic: 't' } })
      node.removeEventListener('peer:identify', listener)
      node.safeDispatchEvent('peer:identify', { detail: { peerId: peerIdFromString(PEER) } })
      await tick()
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(uncaught).toEqual([])
    expect(faults).toEqual([[PEER, 'listener boom'], [PEER, 'gossip boom']])
  })

  it('tells the peer from the event shapes libp2p uses', () => {
    const id = peerIdFromString(PEER)
    expect(peerOfEvent({ detail: id })).toBe(PEER)
    expect(peerOfEvent({ detail: { remotePeer: id } })).toBe(PEER)
    expect(peerOfEvent({ detail: { id, multiaddrs: [] } })).toBe(PEER)
    expect(peerOfEvent({ detail: 'nothing' })).toBeUndefined()
    expect(peerOfEvent(undefined)).toBeUndefined()
  })
})

/**
 * A session's address hints on the heartbeat side: what its own beats say about where it
 * listens, and what it does with what a member's signed beat said (peer store, redial).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { AddressHints } from '../../../src/daemon/address-hints.js'
import { MAX_OWN_ADDRS, ownAddresses } from '../../../src/daemon/member-addrs.js'
import type { PairedLibp2p } from '../../../src/node/create-node.js'

const A = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const B = '12D3KooWRm3AETNFH3jxkYr4mXpEhsLU3pThsDbpXnPMWj5eP1dG'
const SELF = '12D3KooWCxnyz1JxC9y1RniRQVFe2cLaLHsYNc2SnXbM7yq5JBbJ'

function setup (listen: string[] = [], connected = new Set<string>(), selfId = SELF): { hints: AddressHints, merged: Array<{ peer: string, addrs: string[] }>, arrived: string[] } {
  const merged: Array<{ peer: string, addrs: string[] }> = []
  const arrived: string[] = []
  const node = {
    getMultiaddrs: () => listen.map(a => multiaddr(a)),
    peerStore: { merge: async (id: { toString: () => string }, data: { multiaddrs: unknown[] }) => { merged.push({ peer: id.toString(), addrs: data.multiaddrs.map(String) }) } }
  } as unknown as PairedLibp2p
  const hints = new AddressHints({
    selfId,
    node: () => node,
    redialer: { addressesArrived: peer => { arrived.push(peer) }, want: () => {} },
    isConnected: peer => connected.has(peer)
  })
  return { hints, merged, arrived }
}

describe('this daemon\'s own addresses in its heartbeats', () => {
  it('only dialable ones, without /p2p/, distinct, at most a few', () => {
    const many = Array.from({ length: 10 }, (_, i) => `/ip4/10.0.0.${i + 1}/tcp/4801/p2p/${SELF}`)
    expect(ownAddresses([
      `/ip4/0.0.0.0/tcp/4801/p2p/${SELF}`, '/ip6/::/tcp/4801', `/ip4/127.0.0.1/tcp/4801/p2p/${SELF}`, '/ip4/127.0.0.1/tcp/4801',
      `/ip4/127.0.0.1/tcp/4801/p2p/${A}`, '/ip4/127.0.0.1/udp/4801/quic-v1', '/ip6/::1/tcp/4801'
    ], SELF)).toEqual(['/ip4/127.0.0.1/tcp/4801', '/ip6/::1/tcp/4801'])
    expect(ownAddresses(many, SELF)).toHaveLength(MAX_OWN_ADDRS)
    const { hints } = setup([`/ip4/127.0.0.1/tcp/4801/p2p/${SELF}`, `/ip4/0.0.0.0/tcp/4801/p2p/${SELF}`])
    expect(hints.own()).toEqual(['/ip4/127.0.0.1/tcp/4801'])
  })
})

describe('addresses a member\'s heartbeat announced', () => {
  it('go into the peer store before the member\'s backed-off dial starts over; the same ones again do nothing', async () => {
    const { hints, merged, arrived } = setup()
    await hints.announced(A, ['/ip4/127.0.0.1/tcp/4802', `/ip4/127.0.0.1/tcp/4802/p2p/${A}`, 'junk', `/ip4/127.0.0.1/tcp/9/p2p/${B}`])
    expect(merged).toEqual([{ peer: A, addrs: ['/ip4/127.0.0.1/tcp/4802'] }])
    expect(arrived).toEqual([A])
    expect(hints.knows(A)).toBe(true)
    await hints.announced(A, ['/ip4/127.0.0.1/tcp/4802'])
    expect(merged).toHaveLength(1)
    expect(arrived).toEqual([A])
    // a new one (the member moved) is news again
    await hints.announced(A, ['/ip4/127.0.0.1/tcp/4803'])
    expect(arrived).toEqual([A, A])
  })

  it('never for this daemon itself, nothing from what is no list of dialable addresses', async () => {
    const { hints, merged, arrived } = setup()
    await hints.announced(SELF, ['/ip4/127.0.0.1/tcp/4801'])
    await hints.announced(A, ['/ip4/0.0.0.0/tcp/1', '/ip4/127.0.0.1/udp/1/quic-v1', 42])
    await hints.announced(A, '/ip4/127.0.0.1/tcp/1')
    await hints.announced(A, undefined)
    expect(merged).toEqual([])
    expect(arrived).toEqual([])
  })

  it('of two members that hear each other\'s beats, only the lower peer id dials at once; the other keeps the address for its next dial', async () => {
    expect(A < B).toBe(true)
    const higher = setup([], new Set(), B)
    await higher.hints.announced(A, ['/ip4/127.0.0.1/tcp/4802'])
    expect(higher.merged).toEqual([{ peer: A, addrs: ['/ip4/127.0.0.1/tcp/4802'] }])
    expect(higher.hints.knows(A)).toBe(true)
    expect(higher.arrived).toEqual([])
    const lower = setup([], new Set(), A)
    await lower.hints.announced(B, ['/ip4/127.0.0.1/tcp/4803'])
    expect(lower.arrived).toEqual([B])
  })

  it('a member already connected gets its addresses stored, and no redial', async () => {
    const { hints, merged, arrived } = setup([], new Set([A]))
    await hints.announced(A, ['/ip4/127.0.0.1/tcp/4802'])
    expect(merged).toHaveLength(1)
    expect(arrived).toEqual([])
  })
})

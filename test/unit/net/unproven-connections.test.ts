import { describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { UnprovenConnections, socketOf } from '../../../src/net/unproven-connections.js'

describe('UnprovenConnections: a budget for connections that proved nothing yet', () => {
  function setup (init = { maxTotal: 6, maxPerAddress: 3 }): { box: UnprovenConnections, closed: string[], add: (key: string, host: string) => void } {
    const box = new UnprovenConnections(init)
    const closed: string[] = []
    return { box, closed, add: (key, host) => { box.add(key, host, err => { closed.push(`${key} ${err.name}`) }) } }
  }

  it('past the per-address budget, the oldest connection of that address goes', () => {
    const { box, closed, add } = setup()
    for (const key of ['a1', 'a2', 'a3', 'a4']) add(key, '10.0.0.1')
    add('b1', '10.0.0.2')
    expect(closed).toEqual(['a1 UnprovenEvictedError'])
    expect(box.from('10.0.0.1')).toBe(3)
    expect(box.size).toBe(4)
  })

  it('past the total, the oldest of the fullest address goes: a newcomer from elsewhere is never the one', () => {
    const { box, closed, add } = setup()
    add('m1', '10.0.0.9') // the member, first and alone on its address
    for (let h = 1; h <= 3; h++) for (let i = 1; i <= 3; i++) add(`x${h}.${i}`, `10.0.1.${h}`)
    expect(box.size).toBe(6)
    expect(closed).not.toContain('m1 UnprovenEvictedError')
    expect(box.from('10.0.0.9')).toBe(1)
    // a flood keeps coming: still only the flooders' connections go
    for (let i = 0; i < 50; i++) add(`y${i}`, `10.0.2.${i % 5}`)
    expect(closed.some(c => c.startsWith('m1 '))).toBe(false)
    expect(box.size).toBe(6)
  })

  it('a proven peer leaves the budget; a closed connection too; a known member\'s next connection needs none', () => {
    const verified = new Set<string>(['old-member'])
    const box = new UnprovenConnections({ maxTotal: 2, maxPerAddress: 2, isProven: p => verified.has(p) })
    const closed: string[] = []
    const add = (key: string): void => { box.add(key, '10.0.0.1', () => { closed.push(key) }) }
    add('k1')
    box.upgraded('k1', 'alice', () => { closed.push('k1 upgraded') })
    add('k2')
    box.proven('alice')
    expect(box.size).toBe(1)
    add('k3')
    box.release('k2')
    expect(box.size).toBe(1)
    add('k4')
    box.upgraded('k4', 'old-member', () => {})
    expect(box.size).toBe(1)
    expect(closed).toEqual([])
  })

  it('reads ip:port and ip from TCP multiaddrs, nothing from others', () => {
    expect(socketOf(multiaddr('/ip4/127.0.1.2/tcp/4001'))).toEqual({ key: '127.0.1.2:4001', host: '127.0.1.2' })
    expect(socketOf(multiaddr('/ip6/::1/tcp/9/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'))).toEqual({ key: '::1:9', host: '::1' })
    expect(socketOf(multiaddr('/unix/tmp%2Fsock'))).toBeUndefined()
  })
})

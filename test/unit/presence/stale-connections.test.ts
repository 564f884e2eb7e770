import { describe, expect, it } from 'vitest'
import type { Connection } from '@libp2p/interface'
import { StaleConnections } from '../../../src/presence/stale-connections.js'
import type { PeerState } from '../../../src/presence/index.js'

/** the libp2p surface StaleConnections uses: connections that record how they ended */
class Node {
  conns: Array<Connection & { aborted?: Error }> = []
  listener?: (evt: CustomEvent<Connection>) => void
  open (peer: string, at: number): Connection & { aborted?: Error } {
    const c: { aborted?: Error, status: string, [k: string]: unknown } = {
      remotePeer: { toString: () => peer },
      remoteAddr: { toString: () => `/ip4/10.0.0.1/tcp/4801/p2p/${peer}` },
      timeline: { open: at },
      abort (err: Error) { c.aborted = err; c.status = 'closed' },
      status: 'open'
    }
    const conn = c as unknown as Connection & { aborted?: Error }
    this.conns.push(conn)
    this.listener?.(new CustomEvent('connection:open', { detail: conn }))
    return conn
  }

  getConnections (): Connection[] { return this.conns.filter(c => c.status === 'open') }
  addEventListener (_: 'connection:open', l: (evt: CustomEvent<Connection>) => void): void { this.listener = l }
  removeEventListener (): void { this.listener = undefined }
}

function setup (): { node: Node, stale: StaleConnections, states: Map<string, PeerState>, clock: { now: number }, returned: string[] } {
  const node = new Node()
  const states = new Map<string, PeerState>()
  const clock = { now: 1_000 }
  const returned: string[] = []
  const stale = new StaleConnections({ node, state: p => states.get(p), now: () => clock.now, onReturn: p => { returned.push(p) } })
  stale.start()
  return { node, stale, states, clock, returned }
}

describe('stale connections', () => {
  it('hangs up every connection to a member declared dead, and no other', () => {
    const { node, stale, states } = setup()
    const [a1, a2, b] = [node.open('a', 10), node.open('a', 20), node.open('b', 10)]
    states.set('a', 'suspect')
    stale.onTransition({ peer: 'a', from: 'alive', to: 'suspect', at: 0 })
    expect(a1.aborted).toBeUndefined()
    states.set('a', 'dead')
    stale.onTransition({ peer: 'a', from: 'suspect', to: 'dead', at: 0 })
    expect(a1.aborted?.name).toBe('StaleConnectionError')
    expect(a2.aborted?.name).toBe('StaleConnectionError')
    expect(b.aborted).toBeUndefined()
  })

  it('a suspect member back on a new connection: the connections from before its silence are hung up, the new one kept', () => {
    const { node, stale, states, clock, returned } = setup()
    const old = node.open('a', 100)
    clock.now = 5_000
    states.set('a', 'suspect')
    stale.onTransition({ peer: 'a', from: 'alive', to: 'suspect', at: 0 })
    clock.now = 9_000
    const fresh = node.open('a', 9_000)
    expect(old.aborted?.name).toBe('StaleConnectionError')
    expect(fresh.aborted).toBeUndefined()
    expect(returned).toEqual(['a'])
    // a second fresh connection (two dials crossing) leaves the first fresh one alone
    const crossing = node.open('a', 9_010)
    expect(fresh.aborted).toBeUndefined()
    expect(crossing.aborted).toBeUndefined()
  })

  it('a new connection from an alive member, or one that left, hangs up nothing', () => {
    const { node, stale, states, returned } = setup()
    const old = node.open('a', 100)
    states.set('a', 'alive')
    node.open('a', 9_000)
    expect(old.aborted).toBeUndefined()
    states.set('a', 'suspect')
    stale.onTransition({ peer: 'a', from: 'alive', to: 'suspect', at: 0 })
    states.set('a', 'left')
    stale.onTransition({ peer: 'a', from: 'suspect', to: 'left', at: 0 })
    node.open('a', 9_500)
    expect(old.aborted).toBeUndefined()
    expect(returned).toEqual([])
  })

  it('does nothing once stopped', () => {
    const { node, stale, states } = setup()
    const old = node.open('a', 100)
    stale.stop()
    states.set('a', 'dead')
    stale.onTransition({ peer: 'a', from: 'suspect', to: 'dead', at: 0 })
    expect(old.aborted).toBeUndefined()
  })
})

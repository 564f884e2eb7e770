/**
 * Peer routing through the team's private DHT: C knows only A, A knows B, C reaches B.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, eventually } from './harness.js'

describe('private DHT peer routing', () => {
  const a = new DaemonProcess({ name: 'a' })
  const b = new DaemonProcess({ name: 'b' })
  const c = new DaemonProcess({ name: 'c' })

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), c.start()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a, b, c].map(async d => { await d.cleanup() }))
  })

  it('C, given only A, finds and reaches B', async () => {
    await a.json(['team', 'create', 'routing'])
    const tokenB = (await a.json<{ token: string }>(['team', 'invite'])).token
    await b.json(['team', 'join', tokenB])
    const idB = (await b.json<{ peerId: string }>(['status'])).peerId
    // an invite names a few members' addresses (unsigned hints): keep only A's, so that
    // B's addresses appear nowhere in what C is given
    const full = (await a.json<{ token: string }>(['team', 'invite'])).token
    const body = JSON.parse(Buffer.from(full.slice(full.indexOf('.') + 1), 'base64url').toString())
    expect(body.addrs.some((x: string) => x.includes(idB))).toBe(true)
    body.addrs = body.addrs.filter((x: string) => !x.includes(idB))
    expect(body.addrs.length).toBeGreaterThan(0)
    const tokenC = 'paired1.' + Buffer.from(JSON.stringify(body)).toString('base64url')
    await c.json(['team', 'join', tokenC])
    const pong = await eventually('C pings B', async () => await c.json<{ peerId: string, rttMs: number }>(['ping', idB]), 20_000, 500)
    expect(pong.peerId).toBe(idB)
    const peers = await c.json<Array<{ peerId: string, connected: boolean, addresses: string[] }>>(['peers'])
    const rowB = peers.find(p => p.peerId === idB)
    expect(rowB?.connected).toBe(true)
    expect(rowB?.addresses.length).toBeGreaterThan(0)
  })
})

/**
 * Three real daemons (separate processes and homes, 127.0.0.1, mDNS off) form a team by
 * invite; an outsider cannot get in; a restarted daemon comes back on its own.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, allConnected, eventually, formTeam } from './harness.js'

interface Member { peerId: string, name: string, role: string, connected: boolean }

describe('team federation on real daemons', () => {
  const a = new DaemonProcess({ name: 'alice' })
  const b = new DaemonProcess({ name: 'bob' })
  const c = new DaemonProcess({ name: 'carol' })
  const outsider = new DaemonProcess({ name: 'mallory' })
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), c.start(), outsider.start()])
    for (const d of [a, b, c, outsider]) ids[d.name] = (await d.json<{ peerId: string }>(['status'])).peerId
    await formTeam(a, [b, c])
  }, 90_000)

  afterAll(async () => {
    await Promise.all([a, b, c, outsider].map(async d => { await d.cleanup() }))
  })

  it('each member lists the other two as connected members', async () => {
    for (const d of [a, b, c]) {
      const members = await d.json<Member[]>(['team', 'members'])
      expect(members.map(m => m.name).sort()).toEqual(['alice', 'bob', 'carol'])
      expect(members.every(m => m.connected)).toBe(true)
      const status = await d.json<{ members: number, connectedPeers: number, team: { name: string } }>(['status'])
      expect(status.members).toBe(3)
      expect(status.connectedPeers).toBe(2)
      expect(status.team.name).toBe('crew')
    }
    const roles = Object.fromEntries((await b.json<Member[]>(['team', 'members'])).map(m => [m.name, m.role]))
    expect(roles).toEqual({ alice: 'admin', bob: 'member', carol: 'member' })
  })

  it('a daemon without an invite that dials a member is refused and never appears', async () => {
    const status = await a.json<{ addresses: string[] }>(['status'])
    const r = await outsider.cli(['connect', status.addresses[0]])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^paired: could not connect/m)
    await new Promise(resolve => setTimeout(resolve, 500))
    for (const d of [a, b, c]) {
      const members = await d.json<Member[]>(['team', 'members'])
      expect(members.map(m => m.peerId)).not.toContain(ids.mallory)
      const peers = await d.json<Array<{ peerId: string }>>(['peers'])
      expect(peers.map(p => p.peerId)).not.toContain(ids.mallory)
    }
    const mine = await outsider.json<{ connectedPeers: number, members: number }>(['status'])
    expect(mine).toMatchObject({ connectedPeers: 0, members: 1 })
  })

  it('ping and query reach a teammate over libp2p', async () => {
    const pong = await a.json<{ peerId: string, rttMs: number }>(['ping', ids.bob])
    expect(pong.peerId).toBe(ids.bob)
    expect(pong.rttMs).toBeGreaterThanOrEqual(0)
    // a member's name works as well as its peer id
    const remote = await a.json<{ peerId: string, name: string, members: number }>(['query', 'carol'])
    expect(remote).toMatchObject({ peerId: ids.carol, name: 'carol', members: 3 })
    const missing = await a.cli(['ping', 'nobody-by-that-name'])
    expect(missing.code).toBe(4)
  })

  it('the key and the API token are readable by the owner only', async () => {
    for (const f of ['key', 'api.token', 'team.json', 'api.sock']) {
      const s = await stat(join(a.home, f))
      expect((s.mode & 0o777).toString(8), f).toBe('600')
    }
  })

  it('a second daemon on the same home is refused with a clear message', async () => {
    const r = await a.cli(['daemon', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--no-mdns'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/another daemon \(pid \d+\) is already running on home/)
  })

  it('a restarted daemon keeps its peer id and team and reconnects without bootstrap flags', async () => {
    expect(await b.stop('SIGTERM')).toBe(0)
    await eventually('alice sees bob leave', async () => {
      const m = await a.json<Member[]>(['team', 'members'])
      return m.find(x => x.name === 'bob')?.connected === false ? true : undefined
    })
    await b.start()
    const status = await b.json<{ peerId: string, team: { name: string } }>(['status'])
    expect(status.peerId).toBe(ids.bob)
    expect(status.team.name).toBe('crew')
    await allConnected([a, b, c])
  })

  it('a lock left by a kill -9 does not block the next start', async () => {
    await c.kill9()
    await c.start()
    expect((await c.json<{ peerId: string }>(['status'])).peerId).toBe(ids.carol)
    await allConnected([a, b, c])
  })
})

describe('daemon lifecycle', () => {
  it('SIGINT stops a daemon cleanly, logging one line per step', async () => {
    const d = new DaemonProcess({ name: 'solo' })
    try {
      await d.start()
      expect(d.log).toMatch(/listening on \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
      expect(d.log).toMatch(/api on http:\/\/127\.0\.0\.1:\d+ and .*api\.sock/)
      expect(await d.stop('SIGINT')).toBe(0)
      expect(d.log).toMatch(/SIGINT: stopping/)
      expect(d.log).toMatch(/\bstopped\b/)
      // a clean stop releases the lock and the socket
      const after = await d.cli(['status'])
      expect(after.code).toBe(3)
    } finally {
      await d.cleanup()
    }
  })
})

describe('signals during start-up', () => {
  it('a SIGTERM that arrives before ready still stops the daemon cleanly', async () => {
    const d = new DaemonProcess({ name: 'early' })
    try {
      // the first line is written while the daemon is still starting
      await d.start([], /paired \d+\.\d+\.\d+ peer /)
      expect(await d.stop('SIGTERM')).toBe(0)
      expect(d.log).toMatch(/SIGTERM: stopping/)
      expect(d.log).toMatch(/\bstopped\b/)
    } finally {
      await d.cleanup()
    }
  })
})

describe('leaving a team', () => {
  const a = new DaemonProcess({ name: 'ada' })
  const b = new DaemonProcess({ name: 'bea' })
  const c = new DaemonProcess({ name: 'cy' })

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), c.start()])
    await formTeam(a, [b, c], 'leavers')
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a, b, c].map(async d => { await d.cleanup() }))
  })

  it('the leaver moves to a personal team and the others stop listing it', async () => {
    const left = await c.json<{ name: string, members: number }>(['team', 'leave'])
    expect(left).toMatchObject({ name: 'cy (personal)', members: 1 })
    for (const d of [a, b]) {
      await eventually(`${d.name} drops cy`, async () => {
        const members = await d.json<Member[]>(['team', 'members'])
        return members.map(m => m.name).sort().join() === 'ada,bea' ? true : undefined
      })
    }
    // its old certificate no longer opens the door: only a new invite does
    const { token } = await a.json<{ token: string }>(['team', 'invite'])
    await c.json(['team', 'join', token])
    await allConnected([a, b, c])
  })
})

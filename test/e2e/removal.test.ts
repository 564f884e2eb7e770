/**
 * Removing a member, revoking an invite and rotating the network key, on real daemons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, eventually, formTeam, sleep } from './harness.js'

interface MemberRow { peerId: string, name: string, connected: boolean }

describe('removal, revocation and key rotation', () => {
  const a = new DaemonProcess({ name: 'ra-admin' })
  const b = new DaemonProcess({ name: 'rb' })
  const c = new DaemonProcess({ name: 'rc' })
  const d = new DaemonProcess({ name: 'rd' })
  const e = new DaemonProcess({ name: 're' })
  const id: Record<string, string> = {}

  beforeAll(async () => {
    await Promise.all([a, b, c, d, e].map(async x => { await x.start() }))
    for (const x of [a, b, c, d, e]) id[x.name] = (await x.json<{ peerId: string }>(['status'])).peerId
    await formTeam(a, [b, c], 'removal')
  }, 60_000)

  afterAll(async () => { await Promise.all([a, b, c, d, e].map(async x => { await x.cleanup() })) })

  async function members (x: DaemonProcess): Promise<MemberRow[]> {
    return await x.json<MemberRow[]>(['team', 'members'])
  }

  it('only an admin may remove; a removed member is disconnected everywhere within 5 s and its writes are refused', async () => {
    const denied = await b.cli(['team', 'remove', 'rc'])
    expect(denied.code).not.toBe(0)
    expect(denied.stderr).toMatch(/only admins can remove members/)

    const t0 = Date.now()
    const r = await a.json<{ peerId: string, removed: boolean }>(['team', 'remove', 'rc'])
    expect(r).toMatchObject({ peerId: id.rc, removed: true })
    for (const x of [a, b]) {
      await eventually(`${x.name} drops rc`, async () => {
        const rows = await members(x)
        const connected = (await apiGet<Array<{ peerId: string, connected: boolean }>>(x, 'peers')).find(p => p.peerId === id.rc)?.connected ?? false
        return !rows.some(m => m.peerId === id.rc) && !connected ? true : undefined
      }, 5_000, 100)
    }
    expect(Date.now() - t0).toBeLessThan(5_000)
    // the removed daemon knows, and what it writes reaches nobody
    await eventually('rc says it is out', async () => /no longer a member|removed from the team by an admin/.test(c.log) ? true : undefined, 5_000, 100)
    // it refuses to write (exit 6, RemovedFromTeamError), and nothing reaches the team
    const write = await c.cli(['kv', 'set', 'from/removed', 'x'])
    expect(write.code).toBe(6)
    expect(write.stderr).toMatch(/removed from team removal by ra-admin/)
    await sleep(1_500)
    expect((await a.cli(['kv', 'get', 'from/removed'])).code).toBe(4)
    expect((await b.cli(['kv', 'get', 'from/removed'])).code).toBe(4)
    // and it stays out: it keeps being refused at the hello
    await sleep(1_000)
    expect((await members(a)).some(m => m.peerId === id.rc)).toBe(false)
  }, 40_000)

  it('a revoked invite admits nobody new; the member it admitted stays', async () => {
    const invite = await a.json<{ token: string, inviteId: string }>(['team', 'invite', '--uses', '2'])
    await d.json(['team', 'join', invite.token])
    await eventually('d is a member', async () => (await members(a)).some(m => m.peerId === id.rd && m.connected) ? true : undefined, 10_000, 100)
    const revoked = await a.json<{ kept: number }>(['team', 'invite', 'revoke', invite.inviteId])
    expect(revoked.kept).toBe(1)
    await sleep(500)
    const refused = await e.cli(['team', 'join', invite.token])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/revoked/)
    expect((await members(a)).some(m => m.peerId === id.re)).toBe(false)
    expect((await members(b)).some(m => m.peerId === id.rd)).toBe(true)
  }, 60_000)

  it('after rotate-key the members reconnect on the new key; the removed member cannot even finish a handshake', async () => {
    const r = await a.json<{ keyEpoch: number, delivered: string[], missed: string[] }>(['team', 'rotate-key'])
    expect(r.keyEpoch).toBe(1)
    expect(r.delivered).toStrictEqual(['rb', 'rd'])
    await eventually('a, b and d connected again on the new key', async () => {
      for (const x of [a, b, d]) {
        const rows = await members(x)
        if (![id['ra-admin'], id.rb, id.rd].every(p => rows.find(m => m.peerId === p)?.connected === true)) return undefined
      }
      return true
    }, 20_000, 200)
    // the removed member dials the admin's address with the old key: refused at pnet, fast
    const addr = (await a.json<{ addresses: string[] }>(['status'])).addresses.find(x => x.includes('/127.0.0.1/'))
    expect(addr).toBeDefined()
    const dial = await c.cli(['connect', addr as string])
    expect(dial.code).not.toBe(0)
    expect(dial.stderr).toMatch(/could not connect/)
    expect((await members(a)).some(m => m.peerId === id.rc)).toBe(false)
  }, 60_000)
})

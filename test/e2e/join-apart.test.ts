/**
 * Joins on real daemons, what a joiner sees at once. It counts the member that admitted
 * it alive from the hello (as good a sign of life as a heartbeat), not only once that
 * member's first heartbeat arrives. And two daemons that join at the same moment through two different members
 * (neither member's welcome can say where the other joiner is: it was admitted elsewhere
 * a moment ago) connect to each other within seconds: each learns the other from roster
 * gossip, and where it listens from its signed heartbeats, rather than failing dials
 * without an address and backing off for up to a minute. No timing is asserted beyond
 * "well before that backoff" (speed is the membership bench's).
 */
import { readFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeInvite, encodeInvite } from '../../src/team/index.js'
import { DaemonProcess, apiGet, apiPost, eventually, formTeam } from './harness.js'
import { peerIdOf } from './membership-helpers.js'

interface PeerRow { peerId: string, connected: boolean }

/** `onEvent` for every event of `d`'s event stream, until the returned function is called */
async function readEvents (d: DaemonProcess, onEvent: (type: string, data: unknown) => void): Promise<() => void> {
  const token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  return await new Promise((resolve, reject) => {
    const req = request({ socketPath: join(d.home, 'api.sock'), path: '/api/v1/events', headers: { host: 'localhost', authorization: `Bearer ${token}` }, agent: false }, res => {
      res.setEncoding('utf8')
      res.on('error', () => {})
      let buf = ''
      res.on('data', (chunk: string) => {
        const blocks = (buf + chunk).split('\n\n')
        buf = blocks.pop() ?? ''
        for (const block of blocks) {
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (type != null && data != null) onEvent(type, JSON.parse(data))
        }
      })
      resolve(() => { req.destroy() })
    })
    req.on('error', err => { if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err) })
    req.end()
  })
}

/** well below what a joiner without the other's address waits (its redial backs off to 60 s) */
const WITHIN_MS = 15_000

describe('two joins at once through different members', () => {
  const m1 = new DaemonProcess({ name: 'm1' })
  const m2 = new DaemonProcess({ name: 'm2' })
  const a = new DaemonProcess({ name: 'a' })
  const b = new DaemonProcess({ name: 'b' })

  beforeAll(async () => {
    await Promise.all([m1, m2, a, b].map(async d => { await d.start() }))
    await formTeam(m1, [m2])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([m1, m2, a, b].map(async d => { await d.cleanup() }))
  })

  /** an invite of m1's that names only `via`'s address: the joiner meets the team there */
  async function inviteThrough (via: DaemonProcess): Promise<string> {
    const token = decodeInvite((await m1.json<{ token: string }>(['team', 'invite'])).token)
    const id = await peerIdOf(via)
    const addrs = (await apiGet<{ addresses: string[] }>(via, 'status')).addresses.filter(x => x.endsWith(`/p2p/${id}`))
    return encodeInvite({ ...token, addrs })
  }

  it('a joiner counts the member that admitted it alive from the hello: peer:alive comes no later than peer:connected', async () => {
    const c = new DaemonProcess({ name: 'c' })
    const seen: Array<{ type: string, peerId?: string }> = []
    let close = (): void => {}
    try {
      await c.start()
      close = await readEvents(c, (type, data) => { seen.push({ type, peerId: (data as { peerId?: string }).peerId }) })
      const token = await inviteThrough(m2)
      const id2 = await peerIdOf(m2)
      await apiPost(c, 'team/join', { token })
      const at = (type: string): number => seen.findIndex(e => e.type === type && e.peerId === id2)
      await eventually('peer:connected and peer:alive of m2 on c', async () => at('peer:connected') >= 0 && at('peer:alive') >= 0 ? true : undefined, 15_000, 50)
      // before, it was alive only once m2's first heartbeat came, after its gossip streams
      expect(at('peer:alive')).toBeLessThan(at('peer:connected'))
    } finally {
      close()
      await c.cleanup()
    }
  }, 60_000)

  it('the two joiners connect to each other within seconds', async () => {
    const [ta, tb] = await Promise.all([inviteThrough(m1), inviteThrough(m2)])
    const [idA, idB] = await Promise.all([peerIdOf(a), peerIdOf(b)])
    const t0 = Date.now()
    await Promise.all([apiPost(a, 'team/join', { token: ta }), apiPost(b, 'team/join', { token: tb })])
    const connected = async (d: DaemonProcess, id: string): Promise<boolean> =>
      (await apiGet<PeerRow[]>(d, 'peers')).some(p => p.peerId === id && p.connected)
    await eventually('a and b connected to each other', async () => (await connected(a, idB) && await connected(b, idA)) ? true : undefined, WITHIN_MS, 100)
    console.log(`a and b connected ${Date.now() - t0} ms after their joins began`)
    expect(await connected(a, idB)).toBe(true)
  }, 60_000)
})

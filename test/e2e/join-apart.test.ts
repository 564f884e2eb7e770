/**
 * Two daemons join one team at the same moment through two different members: neither
 * member's welcome can say where the other joiner is (it was admitted elsewhere a moment
 * ago), so each joiner learns the other from roster gossip, without an address. Its
 * heartbeats say where it listens (signed), and the other joiner dials it at once instead
 * of failing dials without an address and backing off for up to a minute. No timing is
 * asserted beyond "well before that backoff" (speed is the membership bench's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeInvite, encodeInvite } from '../../src/team/index.js'
import { DaemonProcess, apiGet, apiPost, eventually, formTeam } from './harness.js'
import { peerIdOf } from './membership-helpers.js'

interface PeerRow { peerId: string, connected: boolean }

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

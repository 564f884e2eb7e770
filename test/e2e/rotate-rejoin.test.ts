/**
 * A member that left and came back with a fresh invite stays a member through restarts and
 * a key rotation, on real daemons: every member stores the rejoiner's newer certificate,
 * so re-entering the team (a restart, or taking a new network key) keeps it, and the
 * rejoiner takes the new key, reconnects and replicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MAX_SKEW_MS } from '../../src/state/crdt/index.js'
import { DaemonProcess, eventually, formTeam, sleep } from './harness.js'
import { peerIdOf, replicates, rosterOf, rostersAgree } from './membership-helpers.js'

describe('rotate-key after a rejoin', () => {
  // fixed listen ports (below the ephemeral range), as most deployments have: a member that
  // restarted its node twice at once for one rotation failed on its own port
  const base = 20_000 + Math.floor(Math.random() * 12_000)
  const at = (port: number): string[] => ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api-port', '0', '--no-mdns']
  const a = new DaemonProcess({ name: 'rr-alice', args: at(base) })
  const b = new DaemonProcess({ name: 'rr-bob', args: at(base + 1) })
  const c = new DaemonProcess({ name: 'rr-carol', args: at(base + 2) })
  const all = [a, b, c]
  const ids: string[] = []
  let bob = ''

  beforeAll(async () => {
    await Promise.all(all.map(async x => { await x.start() }))
    for (const x of all) ids.push(await peerIdOf(x))
    bob = ids[1]
    await formTeam(a, [b, c], 'crew')
  }, 90_000)

  afterAll(async () => { await Promise.all(all.map(async x => { await x.cleanup() })) })

  it('after leave, a fresh join and a restart of every other member at once, every member still lists the rejoiner', async () => {
    await b.json(['team', 'leave'])
    await eventually('alice and carol drop bob', async () => {
      for (const x of [a, c]) if ((await rosterOf(x)).includes(bob)) return undefined
      return true
    }, 30_000, 300)
    const { token } = await a.json<{ token: string }>(['team', 'invite'])
    await b.json(['team', 'join', token])
    await rostersAgree(all, ids, 30_000)
    // a member admits a certificate it never stored only if it is dated within the clock
    // skew: let the rejoiner's certificate grow older than that, so only a member that
    // stored it still admits it after a restart
    await sleep(DEFAULT_MAX_SKEW_MS + 5_000)
    // every member but the rejoiner re-enters the team at once: none of them can hear the
    // rejoiner's certificate from another member that still holds it in memory
    await Promise.all([a, c].map(async x => { await x.stop() }))
    await Promise.all([a, c].map(async x => { await x.start() }))
    await rostersAgree(all, ids, 60_000)
  }, 240_000)

  it('rotate-key then hands the key to the rejoiner: every member lists it, connected, and its writes replicate', async () => {
    const rotated = await a.json<{ keyEpoch: number, delivered: string[], missed: string[] }>(['team', 'rotate-key'])
    expect(rotated.delivered).toContain('rr-bob')
    await rostersAgree(all, ids, 60_000)
    await replicates(b, a, 'rotate-rejoin/from-bob', 30_000)
    await replicates(b, c, 'rotate-rejoin/from-bob', 30_000)
    await replicates(c, b, 'rotate-rejoin/from-carol', 30_000)
    // each member switched once, however many members passed the rotation on to it
    for (const x of all) expect(x.log).not.toMatch(/could not switch to the new network key/)
  }, 180_000)
})

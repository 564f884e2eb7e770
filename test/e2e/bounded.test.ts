/**
 * A team above 20 members (issue #15) on real daemons: each keeps connections to its
 * overlay neighbours only, not to every member, and still sees every member alive; a
 * member killed with SIGKILL is declared dead by every survivor, those not connected to
 * it included (a neighbour's signed death notice, then their own probe), and no live
 * member is declared dead. 24 daemons: the smallest team past the bound that still runs
 * on two cores; `PAIRED_BOUNDED_SIZE=50` runs the size. The only time bound is
 * the kill's, set far above what notices take (~1 s) and below what silence alone takes
 * at this size (heartbeats every ~7 s: well over 10 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, apiPost, eventually } from './harness.js'
import { presenceLineIds } from './membership-helpers.js'

const SIZE = Number(process.env.PAIRED_BOUNDED_SIZE ?? 24)
const START_BATCH = 4
/**
 * overlay neighbours at up to 64 members (src/node/mesh.ts, at most 12), and a few that
 * still carry a stream other than gossip (a DHT or status query), which the pruner leaves
 * until they are idle; all-to-all would be 23
 */
const MAX_LINKS = 16

interface PeerRow { peerId: string, connected: boolean, state: string }

describe(`${SIZE} daemons: bounded connections`, () => {
  const ds = Array.from({ length: SIZE }, (_, i) => new DaemonProcess({ name: `bound${i}` }))
  const [admin, ...joiners] = ds
  const ids = new Map<DaemonProcess, string>()
  const marks = new Map<DaemonProcess, number>()
  const idOf = (d: DaemonProcess): string => ids.get(d) as string
  const peersOf = async (d: DaemonProcess): Promise<PeerRow[]> => await apiGet<PeerRow[]>(d, 'peers')

  beforeAll(async () => {
    for (let i = 0; i < ds.length; i += START_BATCH) {
      await Promise.all(ds.slice(i, i + START_BATCH).map(async d => { await d.start() }))
    }
    for (const d of ds) ids.set(d, (await apiGet<{ peerId: string }>(d, 'status')).peerId)
    await apiPost(admin, 'team/create', { name: 'bounded' })
    const tokens: string[] = []
    for (let i = 0; i < joiners.length; i++) tokens.push((await apiPost<{ token: string }>(admin, 'team/invites', {})).token)
    for (const d of ds) marks.set(d, d.log.length)
    // a few at a time: the burst of joins is test/e2e/scale.test.ts's subject, not this one's
    for (let i = 0; i < joiners.length; i += START_BATCH) {
      await Promise.all(joiners.slice(i, i + START_BATCH).map(async (d, j) => await apiPost(d, 'team/join', { token: tokens[i + j] })))
    }
  }, 300_000)

  afterAll(async () => {
    await Promise.all(ds.map(async d => { await d.cleanup() }))
  })

  it('every daemon lists every other member alive', async () => {
    await eventually(`all ${SIZE} daemons list the ${SIZE - 1} others alive`, async () => {
      const views = await Promise.all(ds.map(async d => (await peersOf(d)).filter(p => p.state === 'alive').length))
      return views.every(n => n >= SIZE - 1) ? true : undefined
    }, 240_000, 1000)
  }, 300_000)

  it('while each is connected to a bounded number of them, not to all', async () => {
    // the team was all-to-all up to 20 members, and every joiner is connected to its
    // admitter: what the overlay keeps no more is pruned once 30 s old (src/daemon/pruner.ts)
    const links = await eventually(`every daemon connected to at most ${MAX_LINKS} members`, async () => {
      const n = await Promise.all(ds.map(async d => (await peersOf(d)).filter(p => p.connected).length))
      console.log(`connected members per daemon: ${n.join(' ')}`)
      return Math.max(...n) <= MAX_LINKS ? n : undefined
    }, 120_000, 2000)
    expect(Math.min(...links)).toBeGreaterThanOrEqual(3)
    // and the team is still whole: every member alive on every daemon
    const views = await Promise.all(ds.map(async d => (await peersOf(d)).filter(p => p.state === 'alive').length))
    expect(Math.min(...views)).toBe(SIZE - 1)
  }, 180_000)

  it('a member killed with SIGKILL is dead on every survivor, those not connected to it too', async () => {
    const victim = ds.at(-1) as DaemonProcess
    const survivors = ds.filter(d => d !== victim)
    const views = await Promise.all(survivors.map(async d => (await peersOf(d)).find(p => p.peerId === idOf(victim))?.connected === true))
    const strangers = survivors.filter((_, i) => !views[i])
    expect(strangers.length).toBeGreaterThan(0)
    await victim.kill9()
    await eventually(`${victim.name} dead on all ${survivors.length} survivors`, async () => {
      const states = await Promise.all(survivors.map(async d => (await peersOf(d)).find(p => p.peerId === idOf(victim))?.state))
      return states.every(s => s === 'dead') ? true : undefined
    }, 10_000, 100)
  }, 60_000)

  it('no live member was declared dead', () => {
    const victim = idOf(ds.at(-1) as DaemonProcess)
    const live = new Set(ds.map(idOf).filter(id => id !== victim))
    const dead = ds.flatMap(d => presenceLineIds(d.log.slice(marks.get(d) ?? 0), 'dead').filter(id => live.has(id)).map(id => `${d.name}: ${id}`))
    expect(dead).toEqual([])
  })
})

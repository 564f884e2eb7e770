/**
 * Presence on five real daemons: heartbeats, failure detection and graceful leave.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, eventually, formTeam, sleep } from './harness.js'

interface PeerRow { peerId: string, name: string, state: string, capacity: { cores: number, slots: number } | null }

describe('presence and failure detection', () => {
  const ds = ['p1', 'p2', 'p3', 'p4', 'p5'].map(name => new DaemonProcess({ name }))
  const [a, b, c, d, e] = ds
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    await Promise.all(ds.map(async x => { await x.start() }))
    for (const x of ds) ids[x.name] = (await x.json<{ peerId: string }>(['status'])).peerId
    await formTeam(a, [b, c, d, e], 'presence')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(ds.map(async x => { await x.cleanup() }))
  })

  async function stateOn (viewer: DaemonProcess, target: string): Promise<string | undefined> {
    return (await apiGet<PeerRow[]>(viewer, 'peers')).find(p => p.peerId === ids[target])?.state
  }

  it('every member sees every other alive, with its capacity', async () => {
    for (const viewer of ds) {
      await eventually(`${viewer.name} sees all alive`, async () => {
        const rows = await apiGet<PeerRow[]>(viewer, 'peers')
        return rows.length === 4 && rows.every(r => r.state === 'alive' && r.capacity != null) ? rows : undefined
      }, 20_000)
    }
    const rows = await apiGet<PeerRow[]>(a, 'peers')
    // all five run on this machine: the cores they report are this machine's
    expect(rows.every(r => r.capacity?.cores === availableParallelism())).toBe(true)
  })

  it('a daemon paused for 2 s (SIGSTOP) is never declared dead', async () => {
    const seen = new Set<string>()
    let watching = true
    const watch = (async () => {
      while (watching) {
        for (const viewer of [a, b]) seen.add((await stateOn(viewer, 'p3')) ?? 'none')
        await sleep(100)
      }
    })()
    for (let i = 0; i < 2; i++) {
      process.kill(c.pid as number, 'SIGSTOP')
      await sleep(2_000)
      process.kill(c.pid as number, 'SIGCONT')
      await sleep(4_000)
    }
    watching = false
    await watch
    expect(seen.has('dead')).toBe(false)
    expect(await stateOn(a, 'p3')).toBe('alive')
  }, 40_000)

  it('a daemon throttled to 20 % of a core (cgroup) is never declared dead', async ctx => {
    const root = '/sys/fs/cgroup/cpu'
    if (process.getuid?.() !== 0 || !existsSync(`${root}/cpu.cfs_quota_us`)) {
      console.log('skipping the CPU throttling test: needs root and the cgroup v1 cpu controller')
      ctx.skip()
      return
    }
    const group = `${root}/paired-test-${process.pid}`
    mkdirSync(group)
    const seen = new Set<string>()
    try {
      writeFileSync(`${group}/cpu.cfs_period_us`, '100000')
      writeFileSync(`${group}/cpu.cfs_quota_us`, '20000')
      writeFileSync(`${group}/cgroup.procs`, String(b.pid))
      const until = Date.now() + 15_000
      while (Date.now() < until) {
        for (const viewer of [a, c]) seen.add((await stateOn(viewer, 'p2')) ?? 'none')
        await sleep(100)
      }
    } finally {
      writeFileSync(`${root}/cgroup.procs`, String(b.pid))
      rmdirSync(group)
    }
    expect(seen.has('dead')).toBe(false)
    expect(seen.has('alive')).toBe(true)
  }, 30_000)

  it('kill -9: every survivor marks the daemon dead', async () => {
    const killedAt = Date.now()
    await e.kill9()
    const survivors = [a, b, c, d]
    const times = await Promise.all(survivors.map(async viewer => {
      await eventually(`${viewer.name} marks p5 dead`, async () => (await stateOn(viewer, 'p5')) === 'dead' ? true : undefined, 15_000, 100)
      return Date.now() - killedAt
    }))
    console.log(`kill -9 detected by the 4 survivors after ${times.join(', ')} ms`)
    expect(Math.max(...times)).toBeLessThan(15_000)
  }, 30_000)

  it('a graceful stop shows as left everywhere', async () => {
    const stoppedAt = Date.now()
    expect(await d.stop('SIGTERM')).toBe(0)
    const times = await Promise.all([a, b, c].map(async viewer => {
      await eventually(`${viewer.name} marks p4 left`, async () => (await stateOn(viewer, 'p4')) === 'left' ? true : undefined, 5_000, 50)
      return Date.now() - stoppedAt
    }))
    console.log(`graceful stop seen as left after ${times.join(', ')} ms`)
  }, 20_000)
})

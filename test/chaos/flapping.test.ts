/**
 * The long no-flapping run (`npm run chaos`, 10 minutes): five real daemons; one is stopped
 * (SIGSTOP) for 2 s every 30 s, another is throttled to 20 % of a core by a cgroup for the
 * whole run. Neither may ever be declared dead. `npm test` runs the short variant in
 * test/e2e/presence.test.ts; this file runs only when PAIRED_CHAOS_MINUTES is set.
 */
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, formTeam, sleep } from '../e2e/harness.js'

const minutes = Number(process.env.PAIRED_CHAOS_MINUTES ?? '0')
const CGROUP = '/sys/fs/cgroup/cpu'

// skipped in `npm test` on purpose: it runs for minutes (npm test has the short variant in
// test/e2e/presence.test.ts); `npm run chaos` sets PAIRED_CHAOS_MINUTES=10
describe.skipIf(!(minutes > 0))(`no false dead over ${minutes} minutes (PAIRED_CHAOS_MINUTES)`, () => {
  const ds = ['c1', 'c2', 'c3', 'c4', 'c5'].map(name => new DaemonProcess({ name }))
  const [a, throttled, paused, d] = ds
  const ids: Record<string, string> = {}

  beforeAll(async () => {
    await Promise.all(ds.map(async x => { await x.start() }))
    for (const x of ds) ids[x.name] = (await x.json<{ peerId: string }>(['status'])).peerId
    await formTeam(a, ds.slice(1), 'chaos')
  }, 120_000)

  afterAll(async () => { await Promise.all(ds.map(async x => { await x.cleanup() })) })

  it('a paused and a throttled daemon are never declared dead', async () => {
    const canThrottle = process.getuid?.() === 0 && existsSync(`${CGROUP}/cpu.cfs_quota_us`)
    if (!canThrottle) console.log('no cgroup v1 cpu controller (or not root): running the pause part only')
    const group = `${CGROUP}/paired-chaos-${process.pid}`
    if (canThrottle) {
      mkdirSync(group)
      writeFileSync(`${group}/cpu.cfs_period_us`, '100000')
      writeFileSync(`${group}/cpu.cfs_quota_us`, '20000')
      writeFileSync(`${group}/cgroup.procs`, String(throttled.pid))
    }
    const seen: Record<string, Record<string, number>> = { [throttled.name]: {}, [paused.name]: {} }
    let watching = true
    const watch = (async () => {
      while (watching) {
        for (const viewer of [a, d]) {
          const rows = await apiGet<Array<{ peerId: string, state: string }>>(viewer, 'peers')
          for (const target of [throttled, paused]) {
            const state = rows.find(r => r.peerId === ids[target.name])?.state ?? 'none'
            seen[target.name][state] = (seen[target.name][state] ?? 0) + 1
          }
        }
        await sleep(200)
      }
    })()
    const end = Date.now() + minutes * 60_000
    try {
      while (Date.now() < end) {
        process.kill(paused.pid as number, 'SIGSTOP')
        await sleep(2_000)
        process.kill(paused.pid as number, 'SIGCONT')
        await sleep(Math.min(28_000, Math.max(0, end - Date.now())))
      }
    } finally {
      watching = false
      await watch
      if (canThrottle) {
        writeFileSync(`${CGROUP}/cgroup.procs`, String(throttled.pid))
        rmdirSync(group)
      }
    }
    console.log(`states seen over ${minutes} min (samples): ${JSON.stringify(seen)}`)
    expect(seen[paused.name].dead ?? 0).toBe(0)
    expect(seen[throttled.name].dead ?? 0).toBe(0)
    expect(seen[paused.name].alive).toBeGreaterThan(0)
  }, (minutes * 60 + 120) * 1000)
})

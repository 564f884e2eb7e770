/**
 * Gossip under load (issue #14): three real daemons each write as fast as their API takes
 * it for ~10 s, one key per request with many in flight, so every daemon publishes a state
 * batch per group commit while it ingests the other two's. Every member stays connected to
 * every other the whole time, and every acknowledged write ends up on every daemon. Rates
 * are the bench's business (`node bench/gossip.js`), not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, apiPost, eventually, formTeam, sleep } from './harness.js'

const WRITE_SECONDS = 10
const IN_FLIGHT = 64

interface PeerRow { peerId: string, connected: boolean }

describe('gossip under load', () => {
  const ds = ['la', 'lb', 'lc'].map(name => new DaemonProcess({ name }))

  beforeAll(async () => {
    await Promise.all(ds.map(async d => { await d.start() }))
    await formTeam(ds[0], ds.slice(1), 'load')
  }, 90_000)

  afterAll(async () => {
    await Promise.all(ds.map(async d => { await d.cleanup() }))
  })

  it('three daemons writing at full speed stay connected and every write reaches every member', async () => {
    const ids = await Promise.all(ds.map(async d => (await apiGet<{ peerId: string }>(d, 'status')).peerId))
    const drops: string[] = []
    let writing = true
    // every member as seen by every other, twice a second, while the writes run
    const watch = (async () => {
      while (writing) {
        await Promise.all(ds.map(async (d, i) => {
          const rows = await apiGet<PeerRow[]>(d, 'peers').catch(() => [])
          for (const id of ids.filter((_, j) => j !== i)) {
            if (rows.find(r => r.peerId === id)?.connected !== true) drops.push(`${d.name} lost ${ds[ids.indexOf(id)].name}`)
          }
        }))
        await sleep(500)
      }
    })()
    const acked = await Promise.all(ds.map(async d => {
      let n = 0
      let ok = 0
      const end = Date.now() + WRITE_SECONDS * 1000
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (Date.now() < end) {
          await apiPost(d, 'kv/set', { key: `load/${d.name}/${n++}`, value: { n, pad: 'x'.repeat(64) } })
          ok++
        }
      }))
      return ok
    }))
    writing = false
    await watch
    expect(drops).toEqual([])
    for (const d of ds) expect(d.log).not.toMatch(/peer left/)

    // every acknowledged write, on every daemon (gossip, and anti-entropy for what it left)
    await eventually('every write on every daemon', async () => {
      for (const d of ds) {
        for (const [j, w] of ds.entries()) {
          const rows = await apiGet<unknown[]>(d, `kv/list?prefix=${encodeURIComponent(`load/${w.name}/`)}`)
          if (rows.length !== acked[j]) return undefined
        }
      }
      return true
    }, 60_000, 500)
    const digests = await Promise.all(ds.map(async d => (await apiGet<{ stateDigest: string }>(d, 'status')).stateDigest))
    expect(new Set(digests).size).toBe(1)
    expect(acked.every(n => n > 0)).toBe(true)
  }, 180_000)
})

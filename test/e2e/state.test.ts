/**
 * Replicated key-value state on three real daemons.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, apiPost, eventually, formTeam } from './harness.js'

describe('replicated state', () => {
  const a = new DaemonProcess({ name: 'sa' })
  const b = new DaemonProcess({ name: 'sb' })
  const c = new DaemonProcess({ name: 'sc' })

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), c.start()])
    await formTeam(a, [b, c], 'state')
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a, b, c].map(async d => { await d.cleanup() }))
  })

  it('a write on A is readable on C, with who wrote it', async () => {
    const set = await a.json<{ key: string, updatedBy: string }>(['kv', 'set', 'build/status', 'green'])
    const idA = (await a.json<{ peerId: string }>(['status'])).peerId
    expect(set).toMatchObject({ key: 'build/status', updatedBy: idA })
    const got = await eventually('C reads the key', async () => {
      const r = await c.cli(['kv', 'get', 'build/status', '--json'])
      return r.code === 0 ? JSON.parse(r.stdout) as { value: string, updatedBy: string } : undefined
    }, 10_000, 100)
    expect(got).toMatchObject({ value: 'green', updatedBy: idA })
    // a delete replicates too
    await b.json(['kv', 'del', 'build/status'])
    await eventually('the delete reaches A', async () => (await a.cli(['kv', 'get', 'build/status'])).code === 4 ? true : undefined, 10_000, 100)
  })

  it('a member that was offline catches up when it comes back', async () => {
    expect(await c.stop()).toBe(0)
    const entries = Array.from({ length: 3_000 }, (_, i) => ({ key: `bulk/${String(i).padStart(5, '0')}`, value: { n: i } }))
    for (let i = 0; i < entries.length; i += 1_000) {
      await apiPost(a, 'kv/set-many', { entries: entries.slice(i, i + 1_000) })
    }
    await c.start()
    const want = (await apiGet<{ stateHash: string }>(a, 'status')).stateHash
    await eventually('C reaches the same state', async () => (await apiGet<{ stateHash: string }>(c, 'status')).stateHash === want ? true : undefined, 20_000, 100)
    const rows = await apiGet<unknown[]>(c, 'kv/list?prefix=bulk/')
    expect(rows).toHaveLength(3_000)
  })

  it('a value over 1 MiB gets a clear error and changes nothing', async () => {
    const before = (await apiGet<{ stateHash: string }>(a, 'status')).stateHash
    // (too long for a command-line argument: big values go through the API or --stdin)
    const err = await apiPost(a, 'kv/set', { key: 'big', value: 'x'.repeat(1024 * 1024 + 1) }).catch((e: Error) => e)
    expect(String(err)).toMatch(/413 .*ValueTooLargeError.*over the 1 MiB limit/)
    expect((await apiGet<{ stateHash: string }>(a, 'status')).stateHash).toBe(before)
  })
})

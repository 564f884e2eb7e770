/**
 * Five daemons, each in a network namespace of its own on a private bridge, partitioned
 * 2+3 with nftables. Both sides write (unique keys and one conflicting key); after the
 * heal every member reaches the same state hash, and a Jepsen-style set check finds every
 * acknowledged write and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, apiGet, apiPost, formTeam, sleep } from '../e2e/harness.js'
import { TestNetwork, namespaceSupport } from './netns.js'

const why = namespaceSupport(['ip', 'nft'])
if (why != null) console.log(`skipping the partition test: ${why}`)

describe.skipIf(why != null)('partition and heal', () => {
  const net = new TestNetwork(5)
  const ds: DaemonProcess[] = []

  beforeAll(async () => {
    net.create()
    for (let i = 0; i < 5; i++) {
      ds.push(new DaemonProcess({
        name: `n${i + 1}`,
        netns: net.hosts[i],
        args: ['--listen', `/ip4/${net.address(i)}/tcp/4801`, '--api-port', '0', '--no-mdns']
      }))
    }
    await Promise.all(ds.map(async d => { await d.start() }))
    await formTeam(ds[0], ds.slice(1), 'partitioned')
  }, 120_000)

  afterAll(async () => {
    await Promise.all(ds.map(async d => { await d.cleanup() }))
    net.heal()
    net.destroy()
  })

  async function hashes (): Promise<string[]> {
    return await Promise.all(ds.map(async d => (await apiGet<{ stateHash: string }>(d, 'status')).stateHash))
  }

  it('conflicting writes on both sides converge within 10 s of the heal', async () => {
    const acked = new Map<string, string>()
    const write = async (d: DaemonProcess, key: string, value: string): Promise<void> => {
      await apiPost(d, 'kv/set', { key, value })
      acked.set(key, value)
    }
    for (const d of ds) await write(d, `set/${d.name}/before`, `${d.name}-0`)

    net.partition([0, 1], [2, 3, 4])
    await sleep(1_000)
    const conflicting = new Set<string>()
    for (let round = 0; round < 20; round++) {
      for (const d of ds) await write(d, `set/${d.name}/${round}`, `${d.name}-${round}`)
      const side = ds[round % 5]
      const value = `from-${side.name}-${round}`
      await apiPost(side, 'kv/set', { key: 'conflict', value })
      conflicting.add(value)
      await sleep(100)
    }
    // while cut off, the two sides hold different states
    const during = await hashes()
    expect(new Set(during).size).toBeGreaterThan(1)
    // hold the partition until each side has declared the other dead: a real outage
    const idOf = async (d: DaemonProcess): Promise<string> => (await apiGet<{ peerId: string }>(d, 'status')).peerId
    const [id1, id5] = [await idOf(ds[0]), await idOf(ds[4])]
    const stateOf = async (viewer: DaemonProcess, peer: string): Promise<string | undefined> =>
      (await apiGet<Array<{ peerId: string, state: string }>>(viewer, 'peers')).find(p => p.peerId === peer)?.state
    const cutAt = Date.now()
    while (Date.now() - cutAt < 20_000 && ((await stateOf(ds[0], id5)) !== 'dead' || (await stateOf(ds[4], id1)) !== 'dead')) await sleep(200)
    expect(await stateOf(ds[0], id5)).toBe('dead')

    const healedAt = Date.now()
    net.heal()
    let converged = -1
    while (Date.now() - healedAt < 10_000) {
      const now = await hashes()
      if (new Set(now).size === 1) { converged = Date.now() - healedAt; break }
      await sleep(100)
    }
    console.log(`converged ${converged} ms after the heal`)
    expect(converged).toBeGreaterThanOrEqual(0)

    // the set check, on every member
    for (const d of ds) {
      const rows = await apiGet<Array<{ key: string, value: string }>>(d, 'kv/list?prefix=set/')
      const have = new Map(rows.map(r => [r.key, r.value]))
      expect(have.size, `${d.name}: nothing unexpected`).toBe([...acked.keys()].filter(k => k.startsWith('set/')).length)
      for (const [key, value] of acked) {
        if (key.startsWith('set/')) expect(have.get(key), `${d.name} has ${key}`).toBe(value)
      }
      const winner = await apiGet<{ value: string }>(d, 'kv/get?key=conflict')
      expect(conflicting.has(winner.value)).toBe(true)
    }
    const winners = await Promise.all(ds.map(async d => (await apiGet<{ value: string }>(d, 'kv/get?key=conflict')).value))
    expect(new Set(winners).size).toBe(1)
  }, 60_000)
})

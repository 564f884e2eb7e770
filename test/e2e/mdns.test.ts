/**
 * Three daemons find each other by mDNS alone, inside a network namespace this test
 * creates (only `lo` up, so no multicast leaves the machine), and delete afterwards.
 */
import { execFileSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, allConnected } from './harness.js'

function canMakeNamespaces (): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace'
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'needs the ip command (iproute2)'
  }
  return undefined
}

const why = canMakeNamespaces()
if (why != null) console.log(`skipping the mDNS namespace test: ${why}`)

describe.skipIf(why != null)('mDNS discovery inside a network namespace', () => {
  const ns = `paired-mdns-${process.pid}`
  const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0']
  const a = new DaemonProcess({ name: 'ann', netns: ns, args })
  const b = new DaemonProcess({ name: 'ben', netns: ns, args })
  const c = new DaemonProcess({ name: 'cat', netns: ns, args })

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', ns])
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    await Promise.all([a.start(), b.start(), c.start()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a, b, c].map(async d => { await d.cleanup() }))
    try { execFileSync('ip', ['netns', 'del', ns]) } catch {}
  })

  it('members join with address-less invites and connect through mDNS', async () => {
    await a.json(['team', 'create', 'lan'])
    for (const d of [b, c]) {
      const { token } = await a.json<{ token: string }>(['team', 'invite', '--no-addresses'])
      const body = JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1), 'base64url').toString())
      expect(body.addrs).toEqual([])
      await d.json(['team', 'join', token])
    }
    await allConnected([a, b, c], 20_000)
    const peers = await b.json<Array<{ name: string, connected: boolean }>>(['peers'])
    expect(peers.filter(p => p.connected).map(p => p.name).sort()).toEqual(['ann', 'cat'])
  })
})

/**
 * Three daemons find each other by mDNS alone, inside a network namespace this test
 * creates (only `lo` up, so no multicast leaves the machine), and delete afterwards.
 */
import { execFileSync, spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonProcess, ROOT, allConnected, sleep } from './harness.js'
import { readTeam } from './attacker.js'

/**
 * Listens to mDNS inside namespace `ns` for `ms` and returns every name asked for or
 * answered (a script run with `ip netns exec`, on the multicast-dns package that
 * @libp2p/mdns itself uses).
 */
async function sniffMdns (ns: string, ms: number): Promise<string[]> {
  const script = join(tmpdir(), `paired-mdns-sniff-${process.pid}.mjs`)
  await writeFile(script, `
    import { createRequire } from 'node:module'
    const mdns = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('multicast-dns')()
    const names = new Set()
    const add = records => { for (const r of records ?? []) { names.add(r.name); if (typeof r.data === 'string') names.add(r.data); if (Array.isArray(r.data)) for (const d of r.data) names.add(String(d)) } }
    mdns.on('query', q => { add(q.questions); add(q.answers) })
    mdns.on('response', r => { add(r.answers); add(r.additionals) })
    setTimeout(() => { process.stdout.write(JSON.stringify([...names])); mdns.destroy(); process.exit(0) }, ${ms})
  `)
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => { out += d.toString() })
      child.stderr.on('data', (d: Buffer) => { err += d.toString() })
      child.on('close', code => {
        if (code === 0) resolve(JSON.parse(out) as string[])
        else reject(new Error(`mDNS sniffer exited ${String(code)}: ${err}`))
      })
    })
  } finally {
    await rm(script, { force: true })
  }
}

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
  // in a team of its own (its personal team): another team's laptop on the same LAN
  const d = new DaemonProcess({ name: 'dee', netns: ns, args })

  beforeAll(async () => {
    execFileSync('ip', ['netns', 'add', ns])
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    await Promise.all([a.start(), b.start(), c.start(), d.start()])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([a, b, c, d].map(async x => { await x.cleanup() }))
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

  // issue 12 item 9b: the service name was `paired-` + 16 hex of the team id, a stable
  // fingerprint that linked a team's laptops across networks
  it('mDNS carries nothing team-specific, and another team\'s daemon on the LAN costs no cool-off or log line', async () => {
    const teamIds = await Promise.all([a, d].map(async x => (await readTeam(x.home)).team.teamId))
    expect(teamIds[0]).not.toBe(teamIds[1])
    const names = await sniffMdns(ns, 12_000)
    expect(names.length).toBeGreaterThan(0)
    for (const teamId of teamIds) {
      for (const name of names) expect(name.toLowerCase()).not.toContain(teamId.slice(0, 8).toLowerCase())
    }
    // dee found the team's daemons and they found it, again and again: no cool-offs, no lines
    await sleep(3_000)
    for (const x of [a, b, c, d]) {
      expect(x.log).not.toMatch(/cutting off|refusing it for|refused by|peer joined dee/)
    }
    expect(d.log).not.toMatch(/peer joined/)
    const dees = await d.json<Array<{ name: string, connected: boolean }>>(['peers'])
    expect(dees.filter(p => p.connected)).toEqual([])
  }, 60_000)
})

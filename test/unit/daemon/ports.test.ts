import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_API_PORT, DEFAULT_LISTEN } from '../../../src/daemon/config.js'
import { chooseApiPort, chooseListen, pinnedListen, portFree } from '../../../src/daemon/ports.js'

const taken = async (): Promise<boolean> => false
const free = async (): Promise<boolean> => true

describe('listen addresses', () => {
  it('the default port falls back to any free one when taken, and says so', async () => {
    const lines: string[] = []
    expect(await chooseListen({ listen: [...DEFAULT_LISTEN] }, undefined, l => { lines.push(l) }, free)).toStrictEqual(DEFAULT_LISTEN)
    expect(lines).toStrictEqual([])
    expect(await chooseListen({ listen: [...DEFAULT_LISTEN] }, undefined, l => { lines.push(l) }, taken)).toStrictEqual(['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'])
    expect(lines).toStrictEqual(['port 4801 is taken: listening on a free port instead (set --listen to choose)'])
  })

  it('addresses the user chose never change', async () => {
    const never = async (): Promise<boolean> => { throw new Error('not asked') }
    expect(await chooseListen({ listen: [...DEFAULT_LISTEN] }, { listen: true }, () => {}, never)).toStrictEqual(DEFAULT_LISTEN)
    expect(await chooseListen({ listen: ['/ip4/127.0.0.1/tcp/4801'] }, undefined, () => {}, never)).toStrictEqual(['/ip4/127.0.0.1/tcp/4801'])
  })

  it('later nodes bind the ports the first one got', () => {
    const bound = ['/ip4/127.0.0.1/tcp/40123/p2p/x', '/ip4/192.168.1.5/tcp/40123/p2p/x', '/ip6/::1/tcp/40999/p2p/x']
    expect(pinnedListen(['/ip4/0.0.0.0/tcp/0', '/ip6/::/tcp/0'], bound)).toStrictEqual(['/ip4/0.0.0.0/tcp/40123', '/ip6/::/tcp/40999'])
    expect(pinnedListen(['/ip4/127.0.0.1/tcp/0'], bound)).toStrictEqual(['/ip4/127.0.0.1/tcp/40123'])
    // nothing bound for that family yet: unchanged; fixed ports: unchanged
    expect(pinnedListen(['/ip6/::/tcp/0'], bound.slice(0, 2))).toStrictEqual(['/ip6/::/tcp/0'])
    const fixed = ['/ip4/0.0.0.0/tcp/4801']
    expect(pinnedListen(fixed, bound)).toBe(fixed)
  })
})

describe('the API port', () => {
  it('the default falls back to 0 (any free port) when taken; a chosen one never', async () => {
    const lines: string[] = []
    const config = { apiPort: DEFAULT_API_PORT, apiHost: '127.0.0.1' }
    expect(await chooseApiPort(config, undefined, l => { lines.push(l) }, free)).toBe(DEFAULT_API_PORT)
    expect(await chooseApiPort(config, undefined, l => { lines.push(l) }, taken)).toBe(0)
    expect(lines).toStrictEqual([`api port ${DEFAULT_API_PORT} is taken: using a free port instead (the CLI uses the unix socket)`])
    expect(await chooseApiPort(config, { apiPort: true }, () => {}, taken)).toBe(DEFAULT_API_PORT)
    expect(await chooseApiPort({ apiPort: 5555, apiHost: '127.0.0.1' }, undefined, () => {}, taken)).toBe(5555)
  })
})

describe('portFree', () => {
  let server: Server | undefined
  afterEach(async () => {
    const open = server
    server = undefined
    if (open != null) await new Promise<void>(resolve => { open.close(() => { resolve() }) })
  })

  it('tells a taken loopback port from a free one', async () => {
    server = createServer()
    await new Promise<void>(resolve => { server?.listen({ host: '127.0.0.1', port: 0 }, () => { resolve() }) })
    const port = (server.address() as { port: number }).port
    expect(await portFree('127.0.0.1', port)).toBe(false)
    await new Promise<void>(resolve => { server?.close(() => { resolve() }) })
    server = undefined
    expect(await portFree('127.0.0.1', port)).toBe(true)
  })
})

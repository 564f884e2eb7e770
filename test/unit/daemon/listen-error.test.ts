import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenFailure } from '../../../src/daemon/listen-error.js'

async function listenOn (port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  return server
}

describe('listenFailure', () => {
  let taken: Server
  let port: number
  beforeAll(async () => {
    taken = await listenOn(0)
    port = (taken.address() as { port: number }).port
  })
  afterAll(async () => { await new Promise(resolve => taken.close(resolve)) })

  it('Node\'s EADDRINUSE (the API port) becomes one line naming the address', async () => {
    const err = await listenOn(port).then(() => undefined, (e: unknown) => e)
    const mapped = listenFailure(err)
    expect(mapped?.name).toBe('ListenAddressError')
    expect(mapped?.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is taken (by another paired daemon?): choose another --api-port, or 0 for any free one`)
  })

  it('libp2p\'s UnsupportedListenAddressesError (with stacks inside) becomes one line per address, no stack', async () => {
    const inner = await listenOn(port).then(() => undefined, (e: Error) => e)
    // the shape of libp2p 3's transport-manager message (its error class is not exported)
    const err = Object.assign(new Error(`Some configured addresses failed to be listened on, you may need to remove one or more listen addresses from your configuration or set \`transportManager.faultTolerance\` to NO_FATAL:\n\n  /ip4/127.0.0.1/tcp/${port}: ${String(inner?.stack).split('\n').join('\n  ')}\n`), { name: 'UnsupportedListenAddressesError' })
    const mapped = listenFailure(err)
    expect(mapped?.name).toBe('ListenAddressError')
    expect(mapped?.message).toBe(`cannot listen on /ip4/127.0.0.1/tcp/${port}: the port is taken (by another paired daemon?): choose another port, or /tcp/0 for any free one`)
    expect(mapped?.message).not.toMatch(/\n| at /)
  })

  it('anything else is not a listen failure', () => {
    expect(listenFailure(new Error('boom'))).toBeUndefined()
    expect(listenFailure(null)).toBeUndefined()
    expect(listenFailure('x')).toBeUndefined()
  })
})

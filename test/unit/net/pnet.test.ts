import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { preSharedKey } from '@libp2p/pnet'
import { byteStream, multiaddrConnectionPair } from '@libp2p/utils'
import type { ConnectionProtector, MessageStream } from '@libp2p/interface'
import { MULTISTREAM_HEADER, teamNetwork } from '../../../src/net/pnet.js'
import { swarmKey } from '../../../src/node/create-node.js'

const KEY = randomBytes(32)
const ours = (key = KEY): ConnectionProtector => teamNetwork({ key })()
const stock = (key = KEY): ConnectionProtector => preSharedKey({ psk: swarmKey(key.toString('hex')) })()

/** sends `bytes` on `a`, reads as many on `b` */
async function carry (a: MessageStream, b: MessageStream, bytes: Uint8Array): Promise<Uint8Array> {
  const reader = byteStream(b)
  const [got] = await Promise.all([reader.read({ bytes: bytes.length, signal: AbortSignal.timeout(2_000) }), byteStream(a).write(bytes)])
  reader.unwrap()
  return got.subarray()
}

/** like `carry`, on the connections' own events: no reader or writer left attached afterwards */
async function pass (a: MessageStream, b: MessageStream, bytes: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let got = 0
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${got} of ${bytes.length} bytes arrived`)) }, 5_000)
    const onMessage = (evt: { data: Uint8Array | { subarray: () => Uint8Array } }): void => {
      const data = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      parts.push(data)
      got += data.byteLength
      if (got >= bytes.length) { clearTimeout(timer); b.removeEventListener('message', onMessage); resolve() }
    }
    b.addEventListener('message', onMessage)
  })
  if (!a.send(bytes)) await a.onDrain({ signal: AbortSignal.timeout(5_000) })
  await done
  return Buffer.concat(parts)
}

describe('the team network protector (pnet v1)', () => {
  it.each([
    ['ours ↔ ours', ours, ours],
    ['ours dialing stock @libp2p/pnet', ours, stock],
    ['stock @libp2p/pnet dialing ours', stock, ours]
  ])('%s: both directions carry the multistream header and 300 kB intact', async (_name, dialerSide, listenerSide) => {
    const [outbound, inbound] = multiaddrConnectionPair()
    const [d, l] = await Promise.all([dialerSide().protect(outbound), listenerSide().protect(inbound)])
    const big = randomBytes(300_000)
    expect(await carry(d, l, MULTISTREAM_HEADER)).toEqual(MULTISTREAM_HEADER)
    expect(await carry(l, d, MULTISTREAM_HEADER)).toEqual(MULTISTREAM_HEADER)
    expect(Buffer.from(await carry(d, l, big)).equals(big)).toBe(true)
    expect(Buffer.from(await carry(l, d, big)).equals(big)).toBe(true)
  })

  it('a dialer without pnet, speaking multistream in clear, is refused before any timeout', async () => {
    const [outbound, inbound] = multiaddrConnectionPair()
    const t0 = performance.now()
    const protecting = ours().protect(inbound, { signal: AbortSignal.timeout(5_000) })
    outbound.send(new Uint8Array([...MULTISTREAM_HEADER, 7, ...new TextEncoder().encode('/noise\n')]))
    await expect(protecting).rejects.toThrow(/without a network key/)
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(inbound.status).not.toBe('open')
  })

  it('a dialer with another key is reset at its first bytes, after the nonces', async () => {
    const [outbound, inbound] = multiaddrConnectionPair()
    const [d, l] = await Promise.all([stock(randomBytes(32)).protect(outbound), ours().protect(inbound)])
    const closed = new Promise<Error | undefined>(resolve => { l.addEventListener('close', evt => { resolve(evt.error) }) })
    byteStream(d).write(MULTISTREAM_HEADER).catch(() => {})
    expect((await closed)?.name).toBe('WrongNetworkKeyError')
  })

  // issue 12 item 1: the WASM cipher grew its memory under a ~1 MB write, which detached the
  // views it kept; the connection's close then threw in an event listener and took the process down
  it('writes of 1 MiB and 8 MiB, then a close from either side, throw nowhere and keep every byte', async () => {
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown): void => { uncaught.push(err) }
    process.on('uncaughtException', onUncaught)
    try {
      for (const closer of ['dialer', 'listener'] as const) {
        const [outbound, inbound] = multiaddrConnectionPair()
        const [d, l] = await Promise.all([ours().protect(outbound), ours().protect(inbound)])
        const errors: unknown[] = []
        for (const s of [d, l]) s.addEventListener('close', evt => { if (evt.error != null) errors.push(evt.error) })
        expect(Buffer.from(await pass(d, l, MULTISTREAM_HEADER)).equals(MULTISTREAM_HEADER)).toBe(true)
        expect(Buffer.from(await pass(l, d, MULTISTREAM_HEADER)).equals(MULTISTREAM_HEADER)).toBe(true)
        for (const size of [1024 * 1024, 8 * 1024 * 1024]) {
          const big = randomBytes(size)
          expect(Buffer.from(await pass(d, l, big)).equals(big)).toBe(true)
          expect(Buffer.from(await pass(l, d, big)).equals(big)).toBe(true)
        }
        const side = closer === 'dialer' ? outbound : inbound
        side.abort(new Error('the peer went away'))
        await new Promise(resolve => setTimeout(resolve, 50))
        expect(errors.map(e => (e as Error).message).join()).not.toMatch(/detached|Memory/)
      }
    } finally {
      process.off('uncaughtException', onUncaught)
    }
    expect(uncaught).toEqual([])
  })

  it('a key of the wrong length is refused when configured', () => {
    expect(() => teamNetwork({ key: randomBytes(16) })).toThrow(/32 bytes/)
  })
})

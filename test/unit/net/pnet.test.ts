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

  it('a key of the wrong length is refused when configured', () => {
    expect(() => teamNetwork({ key: randomBytes(16) })).toThrow(/32 bytes/)
  })
})

/**
 * The team's private network: libp2p's pnet v1 on the wire (each side sends a random 24-byte
 * nonce, then every byte is XORed with XSalsa20(team key, the sender's nonce)), so any pnet
 * peer holding the key interoperates, but one that tells a dialer without the key at its
 * first bytes instead of waiting out a timeout.
 *
 * After the nonces, the first thing each side of a libp2p connection sends is the
 * multistream-select header (`\x13/multistream/1.0.0\n`, which picks the encrypter). So:
 * - a dialer without pnet sends that header in clear where the nonce should be: refused as
 *   soon as its first 20 bytes arrive;
 * - a dialer with another key sends it encrypted under that key, which decrypts here to
 *   noise: refused at the first byte that differs (one round trip after connecting).
 * The stock protector would wait for bytes that never make sense until the upgrade timeout
 * (measured: 18 of 30 keyless dials were still pending at 2 s).
 */
import { randomBytes } from 'node:crypto'
import { byteStream, AbstractMultiaddrConnection, type SendResult } from '@libp2p/utils'
import xsalsa20 from 'xsalsa20'
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface'

const NONCE_BYTES = 24
const KEY_BYTES = 32
/** multistream-select's header: a varint length (19) and the protocol line */
export const MULTISTREAM_HEADER = new TextEncoder().encode('\x13/multistream/1.0.0\n')

export class WrongNetworkKeyError extends Error {
  override name = 'WrongNetworkKeyError'
}

/** the list of bytes the base class hands to `sendData` (its own uint8arraylist version) */
type Outgoing = Parameters<AbstractMultiaddrConnection['sendData']>[0]

interface XorStream { update: (input: Uint8Array) => Uint8Array, finalize: () => void }

/** true when `a` and `b` agree on their common length */
function agree (a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The protected connection: XSalsa20 both ways, and the first {@link MULTISTREAM_HEADER}.length
 * bytes that arrive must decrypt to that header, or the connection is reset.
 */
class TeamNetworkConnection extends AbstractMultiaddrConnection {
  private readonly inbound: XorStream
  private readonly outbound: XorStream
  /** how many bytes of the expected header have been checked so far */
  private checked = 0
  /** the ciphers' state was returned to the xsalsa20 module (its WASM slots are reused) */
  private finished = false

  constructor (private readonly raw: MultiaddrConnection, key: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array) {
    super({ remoteAddr: raw.remoteAddr, direction: raw.direction, log: raw.log.newScope('team-pnet') })
    this.inbound = xsalsa20(remoteNonce, key)
    this.outbound = xsalsa20(localNonce, key)
    raw.addEventListener('message', evt => {
      const data = evt.data
      if (data instanceof Uint8Array) this.receive(data)
      else for (const buf of data) this.receive(buf)
    })
    raw.addEventListener('drain', () => { this.onMuxerDrain() })
    raw.addEventListener('close', evt => {
      this.finish()
      if (evt.error == null) this.onTransportClosed()
      else if (evt.local === true) this.abort(evt.error)
      else this.onRemoteReset()
    })
  }

  /** without this, each connection would keep its 64-byte cipher slot in the WASM memory */
  private finish (): void {
    if (this.finished) return
    this.finished = true
    this.inbound.finalize()
    this.outbound.finalize()
  }

  private receive (cipher: Uint8Array): void {
    if (this.status !== 'open' || this.finished) return
    const plain = this.inbound.update(cipher)
    if (this.checked < MULTISTREAM_HEADER.length) {
      if (!agree(plain, MULTISTREAM_HEADER.subarray(this.checked))) {
        const err = new WrongNetworkKeyError('the peer does not hold this team\'s network key')
        this.log('refusing %a: %s', this.remoteAddr, err.message)
        this.raw.abort(err)
        this.abort(err)
        return
      }
      this.checked += Math.min(plain.length, MULTISTREAM_HEADER.length - this.checked)
    }
    this.onData(plain)
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.raw.close(options)
  }

  sendData (data: Outgoing): SendResult {
    if (this.finished) throw new Error('the connection is closed')
    return { sentBytes: data.byteLength, canSendMore: this.raw.send(this.outbound.update(data.subarray())) }
  }

  sendReset (err: Error): void { this.raw.abort(err) }
  sendPause (): void { this.raw.pause() }
  sendResume (): void { this.raw.resume() }
}

class TeamNetworkProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'paired/team-pnet'

  constructor (private readonly key: Uint8Array, private readonly timeoutMs: number) {}

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const raw = connection as MultiaddrConnection
    const signal = options?.signal ?? AbortSignal.timeout(this.timeoutMs)
    const localNonce = new Uint8Array(randomBytes(NONCE_BYTES))
    const bytes = byteStream(raw)
    const [remoteNonce] = await Promise.all([
      (async () => {
        // the first 20 bytes first: a dialer without pnet is speaking multistream in clear
        const head = (await bytes.read({ bytes: MULTISTREAM_HEADER.length, signal })).subarray()
        if (agree(head, MULTISTREAM_HEADER)) {
          const err = new WrongNetworkKeyError('the peer speaks without a network key')
          raw.abort(err)
          throw err
        }
        const tail = (await bytes.read({ bytes: NONCE_BYTES - MULTISTREAM_HEADER.length, signal })).subarray()
        const nonce = new Uint8Array(NONCE_BYTES)
        nonce.set(head)
        nonce.set(tail, head.length)
        return nonce
      })(),
      bytes.write(localNonce, { signal })
    ])
    return new TeamNetworkConnection(bytes.unwrap(), this.key, localNonce, remoteNonce)
  }
}

/**
 * A connection protector for `createLibp2p({ connectionProtector })`: `key` is the team's
 * 32-byte network key; `timeoutMs` bounds the nonce exchange when the upgrader gives no signal.
 */
export function teamNetwork (init: { key: Uint8Array, timeoutMs?: number }): () => ConnectionProtector {
  if (init.key.length !== KEY_BYTES) throw new Error(`the team network key must be ${KEY_BYTES} bytes`)
  const key = new Uint8Array(init.key)
  return () => new TeamNetworkProtector(key, init.timeoutMs ?? 2_000)
}

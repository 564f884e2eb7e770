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
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import { XSalsa20Stream } from './xsalsa20-stream.js'

const NONCE_BYTES = 24
const KEY_BYTES = 32
/** multistream-select's header: a varint length (19) and the protocol line */
export const MULTISTREAM_HEADER = new TextEncoder().encode('\x13/multistream/1.0.0\n')

export class WrongNetworkKeyError extends Error {
  override name = 'WrongNetworkKeyError'
}

/** the list of bytes the base class hands to `sendData` (its own uint8arraylist version) */
type Outgoing = Parameters<AbstractMultiaddrConnection['sendData']>[0]

/** true when `a` and `b` agree on their common length */
function agree (a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The protected connection: XSalsa20 both ways, and the first {@link MULTISTREAM_HEADER}.length
 * bytes that arrive must decrypt to that header, or the connection is reset.
 *
 * The raw socket's events are handled outside any promise chain, so whatever throws while
 * handling them (the cipher, a listener of ours) would reach the process: each handler
 * catches, and the fault closes this connection only.
 */
class TeamNetworkConnection extends AbstractMultiaddrConnection {
  private readonly inbound: XSalsa20Stream
  private readonly outbound: XSalsa20Stream
  /** how many bytes of the expected header have been checked so far */
  private checked = 0
  /** the raw connection closed: nothing more is read or written */
  private finished = false

  constructor (private readonly raw: MultiaddrConnection, key: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array) {
    super({ remoteAddr: raw.remoteAddr, direction: raw.direction, log: raw.log.newScope('team-pnet') })
    this.inbound = new XSalsa20Stream(key, remoteNonce)
    this.outbound = new XSalsa20Stream(key, localNonce)
    raw.addEventListener('message', evt => {
      this.guard(() => {
        const data = evt.data
        if (data instanceof Uint8Array) this.receive(data)
        else for (const buf of data) this.receive(buf)
      })
    })
    raw.addEventListener('drain', () => { this.guard(() => { this.onMuxerDrain() }) })
    raw.addEventListener('close', evt => {
      this.finished = true
      this.guard(() => {
        if (evt.error == null) this.onTransportClosed()
        else if (evt.local === true) this.abort(evt.error)
        else this.onRemoteReset()
      })
    })
  }

  /** runs `fn`; a throw resets this connection (both layers) instead of reaching the process */
  private guard (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err))
      this.log.error('closing %a after an error on its path: %e', this.remoteAddr, e)
      try { this.raw.abort(e) } catch {}
      try { if (this.status === 'open') this.abort(e) } catch {}
    }
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
    let canSendMore = false
    // a throw here would abort this connection and go on up into whoever wrote (the muxer);
    // the guard resets the connection and tells the writer to wait, which the close ends
    this.guard(() => { canSendMore = this.raw.send(this.outbound.update(data.subarray())) })
    return { sentBytes: data.byteLength, canSendMore }
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

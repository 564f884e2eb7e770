/**
 * XSalsa20 as one continuous key stream, the cipher of libp2p's pnet v1: byte `n` of what
 * a side sends is XORed with byte `n` of XSalsa20(key, nonce) from block 0, however the
 * bytes are split into writes.
 *
 * The block function is `@noble/ciphers` (audited, pure JavaScript: no WebAssembly memory
 * that grows and detaches views under a large write). It is one-shot with a starting
 * block counter, so this class keeps the stream's position: whole blocks go to it at their
 * counter, and the key stream left over from a partial block is kept for the next write.
 */
import { xsalsa20 } from '@noble/ciphers/salsa.js'

const BLOCK_BYTES = 64
const KEY_BYTES = 32
const NONCE_BYTES = 24
/** noble's block counter is 32 bits and never wraps: 2^32 blocks of 64 bytes (256 GiB) */
const MAX_BLOCKS = 2 ** 32 - 1

/** the stream reached the end of the key stream this implementation can make (256 GiB) */
export class KeyStreamExhaustedError extends Error {
  override name = 'KeyStreamExhaustedError'
}

export class XSalsa20Stream {
  private readonly key: Uint8Array
  private readonly nonce: Uint8Array
  /** the next whole block of the key stream */
  private counter = 0
  /** the key stream of the block before `counter`; bytes from `used` on are not spent yet */
  private readonly pad = new Uint8Array(BLOCK_BYTES)
  private used = BLOCK_BYTES

  constructor (key: Uint8Array, nonce: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new RangeError(`an XSalsa20 key is ${KEY_BYTES} bytes`)
    if (nonce.length !== NONCE_BYTES) throw new RangeError(`an XSalsa20 nonce is ${NONCE_BYTES} bytes`)
    this.key = Uint8Array.from(key)
    this.nonce = Uint8Array.from(nonce)
  }

  /** bytes of the key stream spent so far */
  get position (): number {
    return this.counter * BLOCK_BYTES - (BLOCK_BYTES - this.used)
  }

  /**
   * `input` XORed with the next `input.length` bytes of the key stream, in a new array
   * (`input` is left as it is). Throws {@link KeyStreamExhaustedError} past 256 GiB.
   */
  update (input: Uint8Array): Uint8Array {
    const len = input.length
    const lead = Math.min(BLOCK_BYTES - this.used, len)
    const whole = Math.floor((len - lead) / BLOCK_BYTES)
    const tail = len - lead - whole * BLOCK_BYTES
    if (this.counter + whole + (tail > 0 ? 1 : 0) > MAX_BLOCKS) {
      throw new KeyStreamExhaustedError('the XSalsa20 key stream is spent (256 GiB on one connection)')
    }
    // noble XORs four bytes at a time when its buffers are 4-byte aligned: place the output
    // so that the whole blocks start on a multiple of 4, and work on it in place
    const shift = (4 - (lead % 4)) % 4
    const out = new Uint8Array(len + shift).subarray(shift)
    out.set(input)
    for (let i = 0; i < lead; i++) out[i] ^= this.pad[this.used++]
    if (whole > 0) {
      const blocks = out.subarray(lead, lead + whole * BLOCK_BYTES)
      xsalsa20(this.key, this.nonce, blocks, blocks, this.counter)
      this.counter += whole
    }
    if (tail > 0) {
      this.pad.fill(0)
      xsalsa20(this.key, this.nonce, this.pad, this.pad, this.counter)
      this.counter++
      this.used = 0
      for (let i = len - tail; i < len; i++) out[i] ^= this.pad[this.used++]
    }
    return out
  }
}

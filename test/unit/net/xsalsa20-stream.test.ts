import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { XSalsa20Stream } from '../../../src/net/xsalsa20-stream.js'

describe('XSalsa20Stream: one key stream across writes', () => {
  it('any split of the input gives the bytes of one XSalsa20 pass over the whole', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 24, maxLength: 24 }),
      fc.uint8Array({ maxLength: 1_000 }),
      fc.array(fc.nat({ max: 300 }), { maxLength: 12 }),
      (key, nonce, data, cuts) => {
        const expected = xsalsa20(key, nonce, data)
        const stream = new XSalsa20Stream(key, nonce)
        const parts: Uint8Array[] = []
        let at = 0
        for (const cut of cuts) {
          const end = Math.min(data.length, at + cut)
          parts.push(stream.update(data.subarray(at, end)))
          at = end
        }
        parts.push(stream.update(data.subarray(at)))
        expect(Buffer.concat(parts).equals(Buffer.from(expected))).toBe(true)
        expect(stream.position).toBe(data.length)
      }
    ), { numRuns: 300 })
  })

  it('leaves its input alone, and unaligned views of large writes agree with the one-shot cipher', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const backing = randomBytes(3 * 1024 * 1024 + 7)
    const data = backing.subarray(3, backing.length - 1) // odd offset: noble's byte-wise path
    const copy = Buffer.from(data)
    const stream = new XSalsa20Stream(key, nonce)
    const out = Buffer.concat([stream.update(data.subarray(0, 5)), stream.update(data.subarray(5))])
    expect(out.equals(Buffer.from(xsalsa20(key, nonce, copy)))).toBe(true)
    expect(data.equals(copy)).toBe(true)
  })

  it('refuses keys and nonces of the wrong length', () => {
    expect(() => new XSalsa20Stream(randomBytes(16), randomBytes(24))).toThrow(/32 bytes/)
    expect(() => new XSalsa20Stream(randomBytes(32), randomBytes(8))).toThrow(/24 bytes/)
  })
})

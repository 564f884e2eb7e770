import { lpStream, streamPair } from '@libp2p/utils'
import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { validator } from '../../../src/model/schema.js'
import { ProtocolError, decodeFrame, jsonChannel } from '../../../src/protocol/frames.js'
import { protocolViolations } from '../../../src/protocol/violations.js'

const P = '/test/1.0.0'
const Ping = validator(Type.Object({ type: Type.Literal('ping'), n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }))
const utf8 = new TextEncoder()

function refusal (fn: () => unknown): ProtocolError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    return err as ProtocolError
  }
  throw new Error('not refused')
}

describe('decodeFrame', () => {
  it('returns the message its schema describes', () => {
    expect(decodeFrame(P, utf8.encode('{"type":"ping","n":3}'), Ping)).toStrictEqual({ type: 'ping', n: 3 })
  })

  it('refuses a wrong field with one ProtocolError naming the protocol and the field', () => {
    const err = refusal(() => decodeFrame(P, utf8.encode('{"type":"ping","n":1.5}'), Ping))
    expect(err.name).toBe('ProtocolError')
    expect(err.protocol).toBe(P)
    expect(err.field).toBe('n')
    expect(err.message).toBe(`${P}: n: must be integer`)
  })

  it('names a missing field and an extra one', () => {
    expect(refusal(() => decodeFrame(P, utf8.encode('{"type":"ping"}'), Ping)).field).toBe('n')
    expect(refusal(() => decodeFrame(P, utf8.encode('{"type":"ping","n":1,"x":2}'), Ping)).field).toBe('x')
  })

  it('refuses malformed JSON and invalid UTF-8 as the frame itself (field \'\')', () => {
    for (const bytes of [utf8.encode('{"type":'), Uint8Array.from([0xff, 0xfe]), new Uint8Array(0)]) {
      const err = refusal(() => decodeFrame(P, bytes, Ping))
      expect(err.field).toBe('')
      expect(err.message).toMatch(/malformed message/)
    }
  })

  it('counts every refusal per protocol', () => {
    const before = protocolViolations()['/count/1.0.0'] ?? 0
    refusal(() => decodeFrame('/count/1.0.0', utf8.encode('[]'), Ping))
    refusal(() => decodeFrame('/count/1.0.0', utf8.encode('x'), Ping))
    decodeFrame('/count/1.0.0', utf8.encode('{"type":"ping","n":0}'), Ping)
    expect(protocolViolations()['/count/1.0.0']).toBe(before + 2)
  })
})

describe('jsonChannel', () => {
  it('reads typed messages and refuses one its schema does not describe', async () => {
    const [a, b] = await streamPair()
    const out = jsonChannel(a, { protocol: P, maxBytes: 1024, timeoutMs: 5_000 })
    const inn = jsonChannel(b, { protocol: P, maxBytes: 1024, timeoutMs: 5_000 })
    await out.write({ type: 'ping', n: 1 })
    await out.write({ type: 'ping', n: -1 })
    await expect(inn.read(Ping)).resolves.toStrictEqual({ type: 'ping', n: 1 })
    const err = await inn.read(Ping).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err).toMatchObject({ protocol: P, field: 'n' })
  })

  it('refuses a frame over its limit as a ProtocolError of the frame, without reading it', async () => {
    const [a, b] = await streamPair()
    const raw = lpStream(a)
    const inn = jsonChannel(b, { protocol: P, maxBytes: 16, timeoutMs: 5_000 })
    await raw.write(utf8.encode(JSON.stringify({ type: 'ping', n: 1, pad: 'x'.repeat(64) })))
    const err = await inn.read(Ping).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err).toMatchObject({ protocol: P, field: '' })
  })

  it('does not send a message over its limit', async () => {
    const [a] = await streamPair()
    const out = jsonChannel(a, { protocol: P, maxBytes: 8, timeoutMs: 5_000 })
    await expect(out.write({ type: 'ping', n: 1 })).rejects.toThrow(ProtocolError)
  })
})

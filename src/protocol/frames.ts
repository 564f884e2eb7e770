/**
 * JSON messages in length-prefixed frames over a libp2p stream, with a size limit on every
 * frame and a deadline on every read. Every frame read is checked by its schema: what a
 * peer sends is either the typed message or one {@link ProtocolError} naming the protocol
 * and the field (`/paired/query/1.0.0: status.startedWall: must be integer`).
 */
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { SchemaProblem, Validator } from '../model/schema.js'
import { noteViolation } from './violations.js'

/**
 * A frame from a peer that is not a message of its protocol: malformed JSON, too large,
 * or not what the protocol's schema allows. `field` is the dotted path of the offending
 * field ('' for the frame itself).
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
  constructor (readonly protocol: string, readonly field: string, problem: string) {
    super(`${protocol}: ${field === '' ? problem : `${field}: ${problem}`}`)
  }

  /** the error of a schema's problem with a frame of `protocol` */
  static of (protocol: string, problem: SchemaProblem): ProtocolError {
    return new ProtocolError(protocol, problem.field, problem.message)
  }
}

/**
 * `value` (decoded JSON from a peer of `protocol`) as the message `v` describes; anything
 * else is a {@link ProtocolError}, counted and logged as a violation.
 */
export function parseFrame<T> (protocol: string, value: unknown, v: Validator<T>): T {
  if (v.check(value)) return value
  throw refuse(ProtocolError.of(protocol, v.problem(value) ?? { field: '', message: 'does not match its schema' }))
}

const strictUtf8 = new TextDecoder('utf8', { fatal: true })

/** the message in `bytes` (UTF-8 JSON) as `v` describes it, or a counted {@link ProtocolError} */
export function decodeFrame<T> (protocol: string, bytes: Uint8Array, v: Validator<T>): T {
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(bytes))
  } catch (err) {
    throw refuse(new ProtocolError(protocol, '', `malformed message: ${(err as Error).message}`))
  }
  return parseFrame(protocol, value, v)
}

/** counts and logs `err` as a peer's violation, and returns it (to throw) */
export function refuse (err: ProtocolError): ProtocolError {
  noteViolation(err.protocol, err.field)
  return err
}

/** what lpStream throws for a frame over its limits (or an invalid length prefix) */
const OVERSIZE: ReadonlySet<string> = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'InvalidMessageLengthError', 'StreamBufferError'])

/**
 * the next frame of `lp`; a frame over its limit (or a bad length prefix) is the peer's
 * violation, a {@link ProtocolError}; a reset or a timeout is not
 */
export async function readFrame (lp: Pick<LengthPrefixedStream, 'read'>, protocol: string, options?: AbortOptions): Promise<Uint8Array> {
  try {
    return (await lp.read(options)).subarray()
  } catch (err) {
    const e = err as Error
    if (OVERSIZE.has(e.name)) throw refuse(new ProtocolError(protocol, '', `frame too large: ${e.message}`))
    throw err
  }
}

export interface JsonChannel {
  /** the next frame, as `v` describes it; a frame that is not is a {@link ProtocolError} */
  read<T>(v: Validator<T>, options?: AbortOptions): Promise<T>
  write(value: unknown, options?: AbortOptions): Promise<void>
}

export interface ChannelOptions {
  /** the protocol id: named in every error */
  protocol: string
  /** the largest frame either way */
  maxBytes: number
  /** every read must finish within this */
  timeoutMs: number
  /**
   * what the reader holds unread (default: one frame and a bit): a protocol that lets
   * the other side send ahead must also bound how far (credit)
   */
  maxBufferBytes?: number
}

export function jsonChannel (stream: Stream, options: ChannelOptions): JsonChannel {
  const { protocol, maxBytes, timeoutMs } = options
  const lp = lpStream(stream, { maxDataLength: maxBytes, maxBufferSize: options.maxBufferBytes ?? maxBytes + 64 * 1024 })
  return {
    async read<T>(v: Validator<T>, options?: AbortOptions): Promise<T> {
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = options?.signal != null ? AbortSignal.any([options.signal, timeout]) : timeout
      const frame = await readFrame(lp, protocol, { signal })
      return decodeFrame(protocol, frame, v)
    },
    async write (value: unknown, options?: AbortOptions): Promise<void> {
      const bytes = new TextEncoder().encode(JSON.stringify(value))
      if (bytes.byteLength > maxBytes) throw new ProtocolError(protocol, '', `message of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
      await lp.write(bytes, options)
    }
  }
}

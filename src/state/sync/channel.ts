/**
 * A sync stream's channel: the JSON channel of `protocol/frames.ts` (every frame read is
 * checked by its schema), plus `writeBatch`, which sends a stored record as it lies in
 * LevelDB, and `readPulled`, which hands the puller a batch's bytes with the batch. The
 * store keeps each record as its JSON (its own `JSON.stringify`, or the bytes it was
 * pulled as), so `{"type":"batch","batch":` + those bytes + `}` is the frame
 * `write({ type: 'batch', batch })` would send (byte for byte, for a stringified one): the
 * wire is unchanged, and neither side parses or stringifies a batch twice.
 */
import { lpStream } from '@libp2p/utils'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Validator } from '../../model/schema.js'
import { ProtocolError, decodeFrame, parseFrame, readFrame } from '../../protocol/frames.js'
import { syncFrame, type SyncFrame } from '../../protocol/schemas/sync.js'

export interface SyncChannel {
  /** the next frame, as `v` describes it; a frame that is not is a `ProtocolError` */
  read<T>(v: Validator<T>, options?: AbortOptions): Promise<T>
  write(value: unknown, options?: AbortOptions): Promise<void>
  /** a `batch` frame around `record`: the UTF-8 JSON of one stored record */
  writeBatch(record: Uint8Array, options?: AbortOptions): Promise<void>
  /** the puller's next frame; a `batch` frame laid out as `writeBatch` sends it also gives its record's bytes */
  readPulled(options?: AbortOptions): Promise<PulledFrame>
}

export interface PulledFrame {
  msg: SyncFrame
  /** the UTF-8 JSON of `msg.batch` alone, when the frame is `{"type":"batch","batch":` + it + `}` */
  raw?: Uint8Array
}

export interface SyncChannelOptions {
  protocol: string
  maxBytes: number
  timeoutMs: number
  maxBufferBytes?: number
}

const encoder = new TextEncoder()
const HEAD = encoder.encode('{"type":"batch","batch":')
const TAIL = encoder.encode('}')
const strictUtf8 = new TextDecoder('utf8', { fatal: true })

function inServerLayout (frame: Uint8Array): boolean {
  if (frame.byteLength < HEAD.byteLength + TAIL.byteLength + 2 || frame[frame.byteLength - 1] !== TAIL[0]) return false
  for (let i = 0; i < HEAD.byteLength; i++) if (frame[i] !== HEAD[i]) return false
  return true
}

/**
 * `frame` as the puller reads it. A batch frame in the server's layout is parsed from its
 * record's bytes alone: if those are a JSON value V on their own, the frame is exactly
 * `{"type":"batch","batch":V}`, so the message is the one parsing the whole frame gives,
 * and the store can keep the bytes as the record. Anything else (another layout, or a
 * record part that is not JSON by itself, as with a duplicated key) is decoded whole,
 * with the usual checks and errors.
 */
export function decodePulled (protocol: string, frame: Uint8Array): PulledFrame {
  if (inServerLayout(frame)) {
    const raw = frame.subarray(HEAD.byteLength, frame.byteLength - TAIL.byteLength)
    let batch: unknown
    let parsed = false
    try {
      batch = JSON.parse(strictUtf8.decode(raw))
      parsed = true
    } catch { /* decoded whole below: its error names the problem */ }
    if (parsed) return { msg: parseFrame(protocol, { type: 'batch', batch }, syncFrame), raw }
  }
  return { msg: decodeFrame(protocol, frame, syncFrame) }
}

/** the `batch` frame around `record` (the UTF-8 JSON of one stored record) */
export function batchFrame (record: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEAD.byteLength + record.byteLength + TAIL.byteLength)
  frame.set(HEAD, 0)
  frame.set(record, HEAD.byteLength)
  frame.set(TAIL, HEAD.byteLength + record.byteLength)
  return frame
}

export function syncChannel (stream: Stream, options: SyncChannelOptions): SyncChannel {
  const { protocol, maxBytes, timeoutMs } = options
  const lp = lpStream(stream, { maxDataLength: maxBytes, maxBufferSize: options.maxBufferBytes ?? maxBytes + 64 * 1024 })
  const next = async (options?: AbortOptions): Promise<Uint8Array> => {
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = options?.signal != null ? AbortSignal.any([options.signal, timeout]) : timeout
    return await readFrame(lp, protocol, { signal })
  }
  const send = async (bytes: Uint8Array, options?: AbortOptions): Promise<void> => {
    if (bytes.byteLength > maxBytes) throw new ProtocolError(protocol, '', `message of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
    await lp.write(bytes, options)
  }
  return {
    async read<T>(v: Validator<T>, options?: AbortOptions): Promise<T> {
      return decodeFrame(protocol, await next(options), v)
    },
    async readPulled (options?: AbortOptions): Promise<PulledFrame> {
      return decodePulled(protocol, await next(options))
    },
    async write (value: unknown, options?: AbortOptions): Promise<void> {
      await send(encoder.encode(JSON.stringify(value)), options)
    },
    async writeBatch (record: Uint8Array, options?: AbortOptions): Promise<void> {
      await send(batchFrame(record), options)
    }
  }
}

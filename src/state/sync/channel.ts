/**
 * A sync stream's channel: the JSON channel of `protocol/frames.ts` (every frame read is
 * checked by its schema), plus `writeBatch`, which sends a stored record as it lies in
 * LevelDB. The store keeps records as `JSON.stringify` output, so `{"type":"batch","batch":`
 * + those bytes + `}` is byte for byte the frame `write({ type: 'batch', batch })` would
 * send: the wire is unchanged, and the server skips a parse and a stringify per batch.
 */
import { lpStream } from '@libp2p/utils'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Validator } from '../../model/schema.js'
import { ProtocolError, decodeFrame, readFrame } from '../../protocol/frames.js'

export interface SyncChannel {
  /** the next frame, as `v` describes it; a frame that is not is a `ProtocolError` */
  read<T>(v: Validator<T>, options?: AbortOptions): Promise<T>
  write(value: unknown, options?: AbortOptions): Promise<void>
  /** a `batch` frame around `record`: the UTF-8 JSON of one stored record */
  writeBatch(record: Uint8Array, options?: AbortOptions): Promise<void>
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
  const send = async (bytes: Uint8Array, options?: AbortOptions): Promise<void> => {
    if (bytes.byteLength > maxBytes) throw new ProtocolError(protocol, '', `message of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
    await lp.write(bytes, options)
  }
  return {
    async read<T>(v: Validator<T>, options?: AbortOptions): Promise<T> {
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = options?.signal != null ? AbortSignal.any([options.signal, timeout]) : timeout
      return decodeFrame(protocol, await readFrame(lp, protocol, { signal }), v)
    },
    async write (value: unknown, options?: AbortOptions): Promise<void> {
      await send(encoder.encode(JSON.stringify(value)), options)
    },
    async writeBatch (record: Uint8Array, options?: AbortOptions): Promise<void> {
      await send(batchFrame(record), options)
    }
  }
}

/**
 * JSON messages in length-prefixed frames over a libp2p stream, with a size limit on every
 * frame and a deadline on every read.
 */
import { lpStream } from '@libp2p/utils'
import type { AbortOptions, Stream } from '@libp2p/interface'

export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

export interface JsonChannel {
  read<T = unknown>(options?: AbortOptions): Promise<T>
  write(value: unknown, options?: AbortOptions): Promise<void>
}

/**
 * `maxBufferBytes` caps what the reader holds unread (default: one frame and a bit):
 * a protocol that lets the other side send ahead must also bound how far (credit).
 */
export function jsonChannel (stream: Stream, maxBytes: number, timeoutMs: number, maxBufferBytes = maxBytes + 64 * 1024): JsonChannel {
  const lp = lpStream(stream, { maxDataLength: maxBytes, maxBufferSize: maxBufferBytes })
  const decoder = new TextDecoder('utf8', { fatal: true })
  return {
    async read<T>(options?: AbortOptions): Promise<T> {
      const timeout = AbortSignal.timeout(timeoutMs)
      const signal = options?.signal != null ? AbortSignal.any([options.signal, timeout]) : timeout
      const frame = await lp.read({ signal })
      try {
        return JSON.parse(decoder.decode(frame.subarray())) as T
      } catch (err) {
        throw new ProtocolError(`malformed message: ${(err as Error).message}`)
      }
    },
    async write (value: unknown, options?: AbortOptions): Promise<void> {
      const bytes = new TextEncoder().encode(JSON.stringify(value))
      if (bytes.byteLength > maxBytes) throw new ProtocolError(`message of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
      await lp.write(bytes, options)
    }
  }
}


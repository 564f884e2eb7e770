/**
 * One reader of `GET /api/v1/events`: a cursor into the shared `EventRing`, written with
 * backpressure. It writes while the socket takes it and waits for 'drain' when it does
 * not, so what a slow reader has not taken stays in the ring, not in a buffer of its
 * own. Far behind, it is sent the newest event of each task and kv key (with a
 * `coalesced` note); so far behind that the ring lost what it needs, it gets `reset`.
 */
import { DEFAULT_COALESCE_BACKLOG_BYTES, type EventRing, type ResetReason } from './event-ring.js'

/** bytes of events put in one write. @default 64 KiB */
export const DEFAULT_CHUNK_BYTES = 64 * 1024

/** what a reader writes to: an http `ServerResponse` */
export interface EventSink {
  write: (chunk: string) => boolean
  once: (event: 'drain', listener: () => void) => unknown
  readonly destroyed: boolean
  readonly writableEnded: boolean
}

export interface ReaderOptions {
  /** @default DEFAULT_COALESCE_BACKLOG_BYTES */
  coalesceAfter?: number
  /** @default DEFAULT_CHUNK_BYTES */
  chunkBytes?: number
  /** a reader fell so far behind that it was reset */
  onBehind?: () => void
}

export class RingReader {
  private cursor: number
  private blocked = false
  private scheduled = false
  private closed = false

  constructor (private readonly ring: EventRing, private readonly sink: EventSink, cursor: number, private readonly options: ReaderOptions = {}) {
    this.cursor = cursor
  }

  /** the seq of the last event this reader was sent (or skipped) */
  get position (): number {
    return this.cursor
  }

  /** new events are in the ring: write them on the next turn, so a burst goes out in few writes */
  wake (): void {
    if (this.blocked || this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.pump()
    })
  }

  /** a comment line (`: keepalive`), skipped while the socket is full */
  comment (text: string): void {
    if (!this.blocked && this.writable()) this.sink.write(`: ${text}\n\n`)
  }

  /** an `event: reset` that moves this reader to the newest event: it must re-list state */
  reset (reason: ResetReason, message: string): void {
    this.cursor = this.ring.last
    const id = this.ring.idOf(this.cursor)
    this.write(`id: ${id}\nevent: reset\ndata: ${JSON.stringify({ reason, message, lastEventId: id })}\n\n`)
  }

  /** `id: <position>` alone: an EventSource (and `ApiClient`) resumes from here even if no event comes */
  announce (): void {
    this.write(`id: ${this.ring.idOf(this.cursor)}\n\n`)
  }

  close (): void {
    this.closed = true
  }

  pump (): void {
    while (!this.closed && !this.blocked && this.writable()) {
      if (!this.ring.reachable(this.cursor)) {
        this.options.onBehind?.()
        this.reset('behind', `this reader fell behind: events after ${this.ring.idOf(this.cursor)} are no longer held`)
        continue
      }
      if (this.cursor >= this.ring.last) return
      const read = this.ring.read(this.cursor, this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES, this.options.coalesceAfter ?? DEFAULT_COALESCE_BACKLOG_BYTES)
      this.cursor = read.through
      const note = read.skipped > 0
        ? `event: coalesced\ndata: ${JSON.stringify({ skipped: read.skipped, through: this.ring.idOf(read.through) })}\n\n`
        : ''
      this.write(note + read.text)
    }
  }

  private writable (): boolean {
    return !this.sink.destroyed && !this.sink.writableEnded
  }

  private write (text: string): void {
    if (text === '' || !this.writable()) return
    if (!this.sink.write(text)) {
      this.blocked = true
      this.sink.once('drain', () => {
        this.blocked = false
        this.pump()
      })
    }
  }
}

/**
 * The recent events of `GET /api/v1/events`, by id, shared by every reader (pure: no
 * clock, no I/O). Each event is formatted once, when it arrives; readers keep only a
 * cursor (the last seq they were sent) and read from here, so a slow reader costs the
 * daemon no buffer of its own. Ids are `<run>-<seq>`: seq counts up within one run of
 * the API server, and the run differs across restarts, so a Last-Event-ID from an
 * earlier run is recognised rather than mistaken for a position in this one.
 *
 * The ring is bounded by count and by bytes of formatted text; the oldest events leave
 * first. `task:updated` and `kv:changed` events have a coalescing key (the task, the kv
 * key): an event whose key has a newer event in the ring is superseded, and a reader far
 * behind may skip it without losing a final state. `lossFloor` is the newest seq that
 * left the ring while still needed (no newer event of its key was here): a reader at or
 * past it can continue without a gap, one before it gets `reset`.
 */
import type { DaemonEvent } from '../model/docs.js'

/** @default 100,000 events */
export const DEFAULT_RING_EVENTS = 100_000
/** @default 32 MiB of formatted event text */
export const DEFAULT_RING_BYTES = 32 * 1024 * 1024
/** a reader this many bytes behind the newest event skips superseded events. @default 1 MiB */
export const DEFAULT_COALESCE_BACKLOG_BYTES = 1024 * 1024

export interface RingEntry {
  seq: number
  /** what the coalescing key names: a task (`key` is its id) or a kv key */
  kind: 'task' | 'kv' | undefined
  key: string
  /** the whole server-sent event, `id:` to the blank line */
  text: string
  bytes: number
}

export interface RingLimits {
  /** @default DEFAULT_RING_EVENTS */
  maxEvents?: number
  /** @default DEFAULT_RING_BYTES */
  maxBytes?: number
}

/** where a Last-Event-ID puts a reader: after `seq`, or nowhere (it must re-list state) */
export type ResumePoint = { ok: true, seq: number } | { ok: false, reason: ResetReason, message: string }

export type ResetReason = 'other-run' | 'too-old' | 'unknown-id' | 'behind'

/** what a reader is sent next: `text` (whole events), the seq it reaches, and what it skipped */
export interface RingRead {
  text: string
  /** the cursor after this read */
  through: number
  /** superseded events left out (including ones that already left the ring) */
  skipped: number
}

export class EventRing {
  readonly run: string
  private readonly maxEvents: number
  private readonly maxBytes: number
  private entries: Array<RingEntry | undefined> = []
  /** index in `entries` of the oldest event held */
  private head = 0
  private lastSeq = 0
  private held = 0
  /** bytes of formatted text ever appended, and at the end of each held event */
  private total = 0
  private readonly ends: number[] = []
  private floor = 0
  /** the newest seq held for each task and each kv key (keyed by the event's own string: no concatenation to hash) */
  private readonly newest = { task: new Map<string, number>(), kv: new Map<string, number>() }

  constructor (run: string, limits: RingLimits = {}) {
    if (!/^[0-9a-z]+$/.test(run)) throw new TypeError(`a run id is [0-9a-z]+, not "${run}"`)
    this.run = run
    this.maxEvents = Math.max(1, limits.maxEvents ?? DEFAULT_RING_EVENTS)
    this.maxBytes = Math.max(1, limits.maxBytes ?? DEFAULT_RING_BYTES)
  }

  /** the seq of the newest event (0 before the first) */
  get last (): number {
    return this.lastSeq
  }

  /** readers before this seq have lost events and get `reset` */
  get lossFloor (): number {
    return this.floor
  }

  get size (): number {
    return this.entries.length - this.head
  }

  get bytes (): number {
    return this.held
  }

  idOf (seq: number): string {
    return `${this.run}-${seq}`
  }

  /** stores `event` as the next seq and returns its entry */
  append (event: DaemonEvent): RingEntry {
    const seq = ++this.lastSeq
    const text = formatEvent(event, this.idOf(seq))
    const bytes = Buffer.byteLength(text)
    const [kind, key] = coalescing(event)
    const entry: RingEntry = { seq, kind, key, text, bytes }
    this.entries.push(entry)
    this.total += bytes
    this.ends.push(this.total)
    this.held += bytes
    if (kind !== undefined) this.newest[kind].set(key, seq)
    while (this.size > this.maxEvents || (this.held > this.maxBytes && this.size > 1)) this.evict()
    return entry
  }

  /**
   * Recording stopped (nobody was reading): what happens next is not recorded, so the
   * ring is emptied and one seq is skipped, which puts every earlier id before the floor.
   */
  pause (): void {
    this.entries = []
    this.ends.length = 0
    this.head = 0
    this.held = 0
    this.newest.task.clear()
    this.newest.kv.clear()
    this.lastSeq += 1
    this.floor = this.lastSeq
  }

  /** the position a Last-Event-ID names */
  resume (id: string): ResumePoint {
    const dash = id.lastIndexOf('-')
    const run = id.slice(0, dash)
    const seqText = id.slice(dash + 1)
    if (dash < 0 || !/^[0-9]{1,15}$/.test(seqText)) {
      return { ok: false, reason: 'unknown-id', message: `"${id.slice(0, 80)}" is not an event id of this daemon` }
    }
    if (run !== this.run) {
      return { ok: false, reason: 'other-run', message: `event id ${id.slice(0, 80)} is from an earlier run of the daemon (or another daemon)` }
    }
    const seq = Number(seqText)
    if (seq > this.lastSeq) return { ok: false, reason: 'unknown-id', message: `event id ${id} has not been issued yet` }
    if (seq < this.floor) return { ok: false, reason: 'too-old', message: `events after ${id} are no longer held (the daemon keeps the newest ${this.maxEvents} events, ${this.maxBytes} bytes, while a reader is connected and for a while after)` }
    return { ok: true, seq }
  }

  /** whether a reader that was sent everything through `seq` can go on without a gap */
  reachable (seq: number): boolean {
    return seq >= this.floor && seq <= this.lastSeq
  }

  /** bytes of the events after `seq` (everything held, if `seq` already left the ring) */
  backlog (seq: number): number {
    const i = this.indexOf(seq)
    if (i === undefined) return seq >= this.lastSeq ? 0 : this.held
    return this.total - (this.ends[this.head + i] ?? this.total)
  }

  /**
   * Whole events after `cursor`, up to about `maxBytes` (at least one). When the reader is
   * more than `coalesceAfter` bytes behind, or some of what it needs already left the
   * ring, superseded events are skipped. Call only when `reachable(cursor)`.
   */
  read (cursor: number, maxBytes: number, coalesceAfter = DEFAULT_COALESCE_BACKLOG_BYTES): RingRead {
    const first = this.size > 0 ? (this.entries[this.head] as RingEntry).seq : this.lastSeq + 1
    let skipped = 0
    let from = cursor + 1
    if (from < first) {
      // left the ring, but each was superseded by an event still here (cursor >= floor)
      skipped += first - from
      from = first
    }
    const coalesce = skipped > 0 || this.backlog(cursor) > coalesceAfter
    const parts: string[] = []
    let size = 0
    let through = from - 1
    for (let seq = from; seq <= this.lastSeq && (size === 0 || size < maxBytes); seq++) {
      const entry = this.entries[this.head + seq - first] as RingEntry
      through = seq
      if (coalesce && entry.kind !== undefined && (this.newest[entry.kind].get(entry.key) ?? 0) > seq) {
        skipped++
        continue
      }
      parts.push(entry.text)
      size += entry.bytes
    }
    return { text: parts.join(''), through: Math.max(through, cursor), skipped }
  }

  private indexOf (seq: number): number | undefined {
    if (this.size === 0) return undefined
    const first = (this.entries[this.head] as RingEntry).seq
    if (seq < first || seq > this.lastSeq) return undefined
    return seq - first
  }

  private evict (): void {
    const entry = this.entries[this.head] as RingEntry
    this.entries[this.head] = undefined
    this.head++
    this.held -= entry.bytes
    if (entry.kind === undefined) {
      this.floor = entry.seq
    } else if (this.newest[entry.kind].get(entry.key) === entry.seq) {
      this.newest[entry.kind].delete(entry.key)
      this.floor = entry.seq
    }
    // drop the vacated front now and then: amortised O(1) per event
    if (this.head >= 4096 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.ends.splice(0, this.head)
      this.head = 0
    }
  }
}

/** `task:<taskId>` for `task:updated`, `kv:<key>` for `kv:changed`: the newest of each wins */
export function coalescingKey (event: DaemonEvent): string | undefined {
  const [kind, key] = coalescing(event)
  return kind === undefined ? undefined : `${kind}:${key}`
}

function coalescing (event: DaemonEvent): ['task' | 'kv', string] | [undefined, ''] {
  const data = event.data as { taskId?: unknown, key?: unknown } | null
  if (typeof data === 'object' && data != null) {
    if (event.type === 'task:updated' && typeof data.taskId === 'string') return ['task', data.taskId]
    if (event.type === 'kv:changed' && typeof data.key === 'string') return ['kv', data.key]
  }
  return [undefined, '']
}

/** one server-sent event: `id:` (when given), `event: <type>`, `data: <json>`, blank line */
export function formatEvent (event: DaemonEvent, id?: string): string {
  const type = String(event.type).replace(/[\r\n]/g, ' ')
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify(event.data) ?? 'null'}\n\n`
}

/**
 * An incremental hash of the kv view and the task view: the sum, modulo 2^256, of sha256 over each entry
 * (key and LWW entry, canonically encoded). The sum is order-free and updated per changed
 * key, so `stateHash()` costs nothing while a catch-up streams in, instead of a scan of
 * the whole view per call. Two replicas with the same view have the same sum; different
 * views collide only by chance (a multiset hash, for consistency checks, not security).
 */
import { createHash, hash } from 'node:crypto'
import { canonicalEncode, type TaskRecord } from '../crdt/index.js'
import { canonicalEncodeFast, canonicalHlc, canonicalPlain, quoted } from '../ops/canonical-fast.js'
import { toLwwEntry, type ViewEntry } from './kv-view.js'

export const VIEW_HASH_VERSION = 'paired-view-sum/v2'

export function entryDigest (key: string, entry: ViewEntry): bigint {
  return BigInt(`0x${hash('sha256', canonicalEncode([key, toLwwEntry(entry)]), 'hex')}`)
}

/**
 * `canonicalEncode([key, toLwwEntry(entry)])`, the wrapper written directly (its keys
 * `author`, `hlc`, `value` are in canonical order; a tombstone has no `value`): a catch-up
 * encodes one per op it applies
 */
export function entryText (key: string, entry: ViewEntry): string {
  const { author, hlc, value } = entry
  if (typeof author === 'string') {
    // depth 2: where the model's encoder meets them inside [key, { … }]
    const clock = canonicalHlc(hlc) ?? canonicalPlain(hlc, 2)
    const encoded = value === undefined ? '' : canonicalPlain(value, 2)
    if (clock !== undefined && encoded !== undefined) {
      return `[${JSON.stringify(key)},{"author":${quoted(author)},"hlc":${clock}${value === undefined ? '' : `,"value":${encoded}`}}]`
    }
  }
  return canonicalEncode([key, toLwwEntry(entry)])
}

/**
 * sha256 of an entry's canonical encoding, as a binary (latin1) string, one char per byte: what
 * the running sum adds. A string, not a Buffer: thousands per batch, and each Buffer has
 * its own backing store for the collector to track.
 */
function entryBytes (key: string, entry: ViewEntry): string {
  return hash('sha256', entryText(key, entry), 'binary')
}

function taskBytes (taskId: string, record: TaskRecord): string {
  return hash('sha256', canonicalEncodeFast(['task', taskId, record]), 'binary')
}

/**
 * A 256-bit sum modulo 2^256 in eight 32-bit words (most significant first, as the
 * digests' bytes are read): a catch-up changes thousands of entries per batch, and a
 * BigInt and a hex string per entry were a measurable share of its allocations.
 */
class Sum256 {
  readonly words = new Uint32Array(8)

  /** adds (or, `negate`, subtracts) the big-endian 32-byte `digest`, one latin1 char per byte */
  add (digest: string, negate: boolean): void {
    const w = this.words
    // subtracting d is adding its two's complement: ~d + 1
    let carry = negate ? 1 : 0
    for (let i = 7; i >= 0; i--) {
      const at = i * 4
      let d = ((digest.charCodeAt(at) << 24) | (digest.charCodeAt(at + 1) << 16) | (digest.charCodeAt(at + 2) << 8) | digest.charCodeAt(at + 3)) >>> 0
      if (negate) d = (~d) >>> 0
      const total = w[i] + d + carry
      w[i] = total >>> 0
      carry = total > 0xffffffff ? 1 : 0
    }
  }

  value (): bigint {
    let v = 0n
    for (const word of this.words) v = (v << 32n) | BigInt(word)
    return v
  }
}

export class ViewHash {
  private sum?: Sum256

  get known (): boolean { return this.sum !== undefined }

  /** forget the sum (the view changed behind our back, e.g. after a reopen) */
  reset (): void { this.sum = undefined }

  /**
   * start over from a full scan of the kv view and the task view (streamed: memory stays
   * flat however large the views)
   */
  async setFrom (entries: AsyncIterable<[string, ViewEntry]>, tasks?: AsyncIterable<[string, TaskRecord]>): Promise<void> {
    const sum = new Sum256()
    for await (const [key, entry] of entries) sum.add(entryBytes(key, entry), false)
    if (tasks !== undefined) for await (const [id, record] of tasks) sum.add(taskBytes(id, record), false)
    this.sum = sum
  }

  /** account for keys whose entry went from `before` (if any) to `after` */
  apply (after: Map<string, ViewEntry>, before: Map<string, ViewEntry>): void {
    this.shift(after, before, entryBytes)
  }

  /** account for tasks whose record went from `before` (if any) to `after` */
  applyTasks (after: Map<string, TaskRecord>, before: Map<string, TaskRecord>): void {
    this.shift(after, before, taskBytes)
  }

  private shift<T> (after: Map<string, T>, before: Map<string, T>, digest: (key: string, value: T) => string): void {
    const sum = this.sum
    if (sum === undefined) return
    for (const [key, value] of after) {
      const old = before.get(key)
      if (old !== undefined) sum.add(digest(key, old), true)
      sum.add(digest(key, value), false)
    }
  }

  hex (): string {
    if (this.sum === undefined) throw new Error('the view hash is not known yet')
    return createHash('sha256').update(`${VIEW_HASH_VERSION}\n${this.sum.value().toString(16).padStart(64, '0')}`).digest('hex')
  }
}

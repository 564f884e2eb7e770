/**
 * An incremental hash of the kv view and the task view: the sum, modulo 2^256, of sha256 over each entry
 * (key and LWW entry, canonically encoded). The sum is order-free and updated per changed
 * key, so `stateHash()` costs nothing while a catch-up streams in, instead of a scan of
 * the whole view per call. Two replicas with the same view have the same sum; different
 * views collide only by chance (a multiset hash, for consistency checks, not security).
 */
import { createHash, hash } from 'node:crypto'
import type { TaskRecord } from '../crdt/index.js'
import { canonicalEncodeFast as canonicalEncode } from '../ops/canonical-fast.js'
import { toLwwEntry, type ViewEntry } from './kv-view.js'

export const VIEW_HASH_VERSION = 'paired-view-sum/v2'

export function entryDigest (key: string, entry: ViewEntry): bigint {
  return BigInt(`0x${hash('sha256', canonicalEncode([key, toLwwEntry(entry)]), 'hex')}`)
}

/** sha256 of an entry's canonical encoding, as bytes: what the running sum adds */
function entryBytes (key: string, entry: ViewEntry): Buffer {
  return hash('sha256', canonicalEncode([key, toLwwEntry(entry)]), 'buffer') as unknown as Buffer
}

function taskBytes (taskId: string, record: TaskRecord): Buffer {
  return hash('sha256', canonicalEncode(['task', taskId, record]), 'buffer') as unknown as Buffer
}

/**
 * A 256-bit sum modulo 2^256 in eight 32-bit words (most significant first, as the
 * digests' bytes are read): a catch-up changes thousands of entries per batch, and a
 * BigInt and a hex string per entry were a measurable share of its allocations.
 */
class Sum256 {
  readonly words = new Uint32Array(8)

  /** adds (or, `negate`, subtracts) the big-endian 32-byte `digest` */
  add (digest: Uint8Array, negate: boolean): void {
    const w = this.words
    // subtracting d is adding its two's complement: ~d + 1
    let carry = negate ? 1 : 0
    for (let i = 7; i >= 0; i--) {
      const at = i * 4
      let d = ((digest[at] << 24) | (digest[at + 1] << 16) | (digest[at + 2] << 8) | digest[at + 3]) >>> 0
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

  private shift<T> (after: Map<string, T>, before: Map<string, T>, digest: (key: string, value: T) => Uint8Array): void {
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

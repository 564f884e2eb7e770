/**
 * An incremental hash of the kv view and the task view: the sum, modulo 2^256, of sha256 over each entry
 * (key and LWW entry, canonically encoded). The sum is order-free and updated per changed
 * key, so `stateHash()` costs nothing while a catch-up streams in, instead of a scan of
 * the whole view per call. Two replicas with the same view have the same sum; different
 * views collide only by chance (a multiset hash, for consistency checks, not security).
 */
import { createHash } from 'node:crypto'
import { canonicalEncode } from '../crdt/index.js'
import type { TaskRecord } from '../crdt/index.js'
import { toLwwEntry, type ViewEntry } from './kv-view.js'
import { taskDigest } from './task-view.js'

const MOD = 1n << 256n
export const VIEW_HASH_VERSION = 'paired-view-sum/v2'

export function entryDigest (key: string, entry: ViewEntry): bigint {
  const h = createHash('sha256').update(canonicalEncode([key, toLwwEntry(entry)])).digest('hex')
  return BigInt(`0x${h}`)
}

export class ViewHash {
  private sum?: bigint

  get known (): boolean { return this.sum !== undefined }

  /** forget the sum (the view changed behind our back, e.g. after a reopen) */
  reset (): void { this.sum = undefined }

  /**
   * start over from a full scan of the kv view and the task view (streamed: memory stays
   * flat however large the views)
   */
  async setFrom (entries: AsyncIterable<[string, ViewEntry]>, tasks?: AsyncIterable<[string, TaskRecord]>): Promise<void> {
    let sum = 0n
    for await (const [key, entry] of entries) sum += entryDigest(key, entry)
    if (tasks !== undefined) for await (const [id, record] of tasks) sum += taskDigest(id, record)
    this.sum = sum % MOD
  }

  /** account for keys whose entry went from `before` (if any) to `after` */
  apply (after: Map<string, ViewEntry>, before: Map<string, ViewEntry>): void {
    this.shift(after, before, entryDigest)
  }

  /** account for tasks whose record went from `before` (if any) to `after` */
  applyTasks (after: Map<string, TaskRecord>, before: Map<string, TaskRecord>): void {
    this.shift(after, before, taskDigest)
  }

  private shift<T> (after: Map<string, T>, before: Map<string, T>, digest: (key: string, value: T) => bigint): void {
    if (this.sum === undefined) return
    let sum = this.sum
    for (const [key, value] of after) {
      const old = before.get(key)
      if (old !== undefined) sum -= digest(key, old)
      sum += digest(key, value)
    }
    this.sum = ((sum % MOD) + MOD) % MOD
  }

  hex (): string {
    if (this.sum === undefined) throw new Error('the view hash is not known yet')
    return createHash('sha256').update(`${VIEW_HASH_VERSION}\n${this.sum.toString(16).padStart(64, '0')}`).digest('hex')
  }
}

/**
 * Per-key token buckets, pure: no timers, no clock. The caller passes `now` (ms, from one
 * monotonic source such as `performance.now()` or `Date.now()`) to every call, so the
 * limiter runs unchanged in unit tests, property tests and the simulator.
 *
 * Each key (a peer id, a peer id and protocol, ...) owns a bucket of at most `burst`
 * tokens that refills at `ratePerSec`. A key seen for the first time starts full. `take`
 * grants `cost` tokens or nothing: a refused call consumes nothing. So over any window of
 * `t` ms, one key is granted at most `burst + ratePerSec * t / 1000` tokens.
 *
 * At most `maxKeys` buckets are kept; past that the least recently used is forgotten.
 * A forgotten key starts full again, which forgives what it owed: harmless when the
 * evicted bucket had time to refill (idle for `burst / ratePerSec` s), so size `maxKeys`
 * well above the number of keys active within that time.
 */
import { InvalidArgumentError } from '../errors.js'

export interface TokenBucketsInit {
  /** tokens added per second, ≥ 0 (0: a fixed budget of `burst` per key) */
  ratePerSec: number
  /** bucket size: the most one key can take at once, > 0 */
  burst: number
  /** buckets kept before the least recently used is evicted, a whole number ≥ 1 */
  maxKeys: number
}

interface Bucket {
  tokens: number
  /** the latest `now` seen for this key */
  at: number
}

export class TokenBuckets {
  private readonly ratePerMs: number
  private readonly burst: number
  private readonly maxKeys: number
  /** insertion order is recency order: the first entry is the least recently used */
  private readonly buckets = new Map<string, Bucket>()

  constructor (init: TokenBucketsInit) {
    const { ratePerSec, burst, maxKeys } = init
    if (typeof ratePerSec !== 'number' || !Number.isFinite(ratePerSec) || ratePerSec < 0) {
      throw new InvalidArgumentError('ratePerSec must be a finite number ≥ 0')
    }
    if (typeof burst !== 'number' || !Number.isFinite(burst) || burst <= 0) {
      throw new InvalidArgumentError('burst must be a finite number > 0')
    }
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new InvalidArgumentError('maxKeys must be a whole number ≥ 1')
    }
    this.ratePerMs = ratePerSec / 1000
    this.burst = burst
    this.maxKeys = maxKeys
  }

  /**
   * Takes `cost` tokens from `key`'s bucket at time `now` (ms) and returns true, or
   * returns false and takes nothing. A `cost` above `burst` is never granted; a cost of 0
   * always is. Time that goes backwards refills nothing. Throws `InvalidArgumentError` for
   * a `now` or `cost` that is not a finite number (cost also ≥ 0).
   */
  take (key: string, now: number, cost = 1): boolean {
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidArgumentError('now must be a finite number of ms')
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) throw new InvalidArgumentError('cost must be a finite number ≥ 0')
    const bucket = this.touch(key, now)
    if (bucket.tokens < cost) return false
    bucket.tokens -= cost
    return true
  }

  /** Tokens `key` holds at `now` (a key never seen holds `burst`); changes nothing. */
  peek (key: string, now: number): number {
    const bucket = this.buckets.get(key)
    return bucket === undefined ? this.burst : this.refilled(bucket, now)
  }

  /** Forgets `key` (e.g. when its peer disconnects). */
  delete (key: string): boolean {
    return this.buckets.delete(key)
  }

  /** Buckets held. */
  get size (): number {
    return this.buckets.size
  }

  private refilled (bucket: Bucket, now: number): number {
    const elapsed = now - bucket.at
    return elapsed > 0 ? Math.min(this.burst, bucket.tokens + elapsed * this.ratePerMs) : bucket.tokens
  }

  /** the bucket of `key` refilled to `now`, now the most recently used; evicts past `maxKeys` */
  private touch (key: string, now: number): Bucket {
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.burst, at: now }
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string
        this.buckets.delete(oldest)
      }
    } else {
      bucket.tokens = this.refilled(bucket, now)
      bucket.at = Math.max(bucket.at, now)
      this.buckets.delete(key)
    }
    this.buckets.set(key, bucket)
    return bucket
  }
}

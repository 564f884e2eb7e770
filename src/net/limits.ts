/**
 * Per-peer limits on inbound requests. One member flooding a daemon gets its excess refused
 * (and a `flood` mark on its reputation, at most once a second), while the others are
 * served as usual. Each protocol has its own bucket, sized well above normal use.
 */
import { TokenBuckets } from './rate-limit.js'

export interface RequestLimit {
  ratePerSec: number
  burst: number
}

/** task offers and log requests (`/paired/task/1.0.0`): a busy coordinator offers in bursts */
export const TASK_REQUEST_LIMIT: RequestLimit = { ratePerSec: 2_000, burst: 4_000 }
/** remote status queries (`/paired/query/1.0.0`) */
export const QUERY_LIMIT: RequestLimit = { ratePerSec: 50, burst: 100 }
/**
 * anti-entropy pulls (`/paired/sync/1.0.0`): each scans the store. A member pulls on connect,
 * every 60 s, when a digest differs and when gossip shows a gap, one pull at a time per peer
 */
export const SYNC_LIMIT: RequestLimit = { ratePerSec: 20, burst: 40 }
/** key rotations (`/paired/rekey/1.0.0`) */
export const REKEY_LIMIT: RequestLimit = { ratePerSec: 1, burst: 5 }
/** buckets kept per limiter: far above any team's size */
const MAX_PEERS = 10_000
/** a peer is reported as flooding at most this often */
const REPORT_EVERY_MS = 1_000

/** per-peer buckets for one protocol, and who to tell about a flood */
export class PeerLimiter {
  private readonly buckets: TokenBuckets
  private readonly reported = new Map<string, number>()
  /** requests refused so far (for metrics and tests) */
  refused = 0

  constructor (limit: RequestLimit, private readonly onFlood?: (peer: string) => void) {
    this.buckets = new TokenBuckets({ ...limit, maxKeys: MAX_PEERS })
  }

  /** true when `peer` may make one more request now */
  allow (peer: string, now = performance.now()): boolean {
    if (this.buckets.take(peer, now)) return true
    this.refused++
    const last = this.reported.get(peer) ?? -Infinity
    if (now - last >= REPORT_EVERY_MS) {
      this.reported.set(peer, now)
      if (this.reported.size > MAX_PEERS) this.reported.delete(this.reported.keys().next().value as string)
      this.onFlood?.(peer)
    }
    return false
  }
}

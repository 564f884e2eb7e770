/**
 * Per-peer limits on inbound requests. One member flooding a daemon gets its excess refused
 * (and a `flood` mark on its reputation, at most once a second), while the others are
 * served as usual. Each protocol has its own bucket, sized well above normal use.
 *
 * Refusing still costs: the stream was opened, negotiated and handed over before the
 * limiter sees it (~0.4 ms of CPU a query, measured), so a peer sending thousands a second
 * fills the event loop that other members wait in. A limit may therefore give a peer a
 * `slack` of refusals, itself a token bucket: a peer that runs past its limit *and* its
 * slack is abusive, and is reported as such so that the session can cut it off (hang up,
 * refuse its connections for {@link COOL_OFF_MS}). A client that merely polls too fast
 * (refused at about the rate it is allowed) stays within its slack.
 */
import { TokenBuckets } from './rate-limit.js'

export interface RequestLimit {
  ratePerSec: number
  burst: number
  /** refusals a peer may run up before it is abusive (none: never) */
  slack?: { ratePerSec: number, burst: number }
}

/** how long an abusive peer is cut off: no connection from or to it */
export const COOL_OFF_MS = 30_000
/** how long a peer that held a connection through the hello deadline without proving membership is refused */
export const HELLO_COOL_OFF_MS = 60_000

/** task offers and log requests (`/paired/task/1.0.0`): a busy coordinator offers in bursts */
export const TASK_REQUEST_LIMIT: RequestLimit = { ratePerSec: 2_000, burst: 4_000 }
/** remote status queries (`/paired/query/1.0.0`) */
export const QUERY_LIMIT: RequestLimit = { ratePerSec: 20, burst: 40, slack: { ratePerSec: 20, burst: 40 } }
/**
 * anti-entropy pulls (`/paired/sync/1.0.0`): each scans the store. A member pulls on connect,
 * every 60 s, when a digest differs and when gossip shows a gap, one pull at a time per peer
 */
export const SYNC_LIMIT: RequestLimit = { ratePerSec: 20, burst: 40, slack: { ratePerSec: 20, burst: 40 } }
/** key rotations (`/paired/rekey/1.0.0`) */
export const REKEY_LIMIT: RequestLimit = { ratePerSec: 1, burst: 5, slack: { ratePerSec: 1, burst: 5 } }
/** buckets kept per limiter: far above any team's size */
const MAX_PEERS = 10_000
/** a peer is reported as flooding at most this often */
const REPORT_EVERY_MS = 1_000

/** told of a flood at most once a second per peer, and at once when it turns abusive */
export type FloodListener = (peer: string, abusive: boolean) => void

/** per-peer buckets for one protocol, and who to tell about a flood */
export class PeerLimiter {
  private readonly buckets: TokenBuckets
  private readonly slack?: TokenBuckets
  private readonly reported = new Map<string, number>()
  private readonly reportedAbuse = new Map<string, number>()
  /** requests refused so far (for metrics and tests) */
  refused = 0

  constructor (limit: RequestLimit, private readonly onFlood?: FloodListener) {
    this.buckets = new TokenBuckets({ ratePerSec: limit.ratePerSec, burst: limit.burst, maxKeys: MAX_PEERS })
    if (limit.slack != null) this.slack = new TokenBuckets({ ...limit.slack, maxKeys: MAX_PEERS })
  }

  /** true when `peer` may make one more request now */
  allow (peer: string, now = performance.now()): boolean {
    if (this.buckets.take(peer, now)) return true
    this.refused++
    const abusive = this.slack != null && !this.slack.take(peer, now)
    const seen = abusive ? this.reportedAbuse : this.reported
    if (now - (seen.get(peer) ?? -Infinity) >= REPORT_EVERY_MS) {
      seen.set(peer, now)
      if (seen.size > MAX_PEERS) seen.delete(seen.keys().next().value as string)
      this.onFlood?.(peer, abusive)
    }
    return false
  }
}

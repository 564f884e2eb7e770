/**
 * Named defaults for presence: heartbeat sizing and the failure detector's timings.
 * The reasoning behind each failure-detector figure is in `failure-detector.ts`.
 */

/**
 * Heartbeat period for a small team, and the floor for any team size (ms). Every heartbeat
 * costs each other member a wakeup to receive it and its sender one per member for the
 * yamux window update that answers it: at 1 s that was most of an idle daemon's CPU in a
 * team of five. Detection does not hang on it: a killed process closes its connections
 * and is probed at once (dead in ~0.5 s); only a silent loss (power, network) waits for
 * missed heartbeats, and is still dead within ~9 s (see `failure-detector.ts`).
 */
export const DEFAULT_HEARTBEAT_BASE_MS = 3000

/** Bandwidth each daemon may spend on heartbeats, inbound + outbound (bytes/s). */
export const DEFAULT_HEARTBEAT_MAX_BYTES_PER_SEC = 20_000

/** Encoded heartbeat with capacity, signature and gossipsub framing (bytes). */
export const DEFAULT_HEARTBEAT_BYTES = 400

/** gossipsub mesh degree `D`: copies of each message a daemon receives and sends. */
export const DEFAULT_GOSSIP_FANOUT = 6

/** Extra traffic per heartbeat copy: IHAVE/IWANT gossip, yamux and noise framing. */
export const DEFAULT_GOSSIP_OVERHEAD = 0.25

/** Inter-arrival samples kept per peer for phi accrual. */
export const DEFAULT_PHI_WINDOW = 100

/** Phi above which a peer becomes `suspect` (Akka's default: P(late) < 1e-8). */
export const DEFAULT_PHI_THRESHOLD = 8

/** Floor on the inter-arrival standard deviation, so a very regular peer is not hair-trigger (ms). */
export const DEFAULT_MIN_STD_DEV_MS = 100

/** Pause added to the expected inter-arrival before phi rises (GC, short stalls) (ms). */
export const DEFAULT_ACCEPTABLE_PAUSE_MS = 500

/** Suspicion timeout with no confirmation at all (ms, before scaling). */
export const DEFAULT_SUSPICION_MAX_MS = 3000

/** Suspicion timeout once fully confirmed (failed direct probe, or enough peers) (ms). */
export const DEFAULT_SUSPICION_MIN_MS = 500

/** Independent confirmations that shrink the suspicion timeout to its floor (Lifeguard `K`). */
export const DEFAULT_SUSPICION_CONFIRMATIONS = 3

/** Local-health ceiling: the suspicion timeout is multiplied by `1 + localHealth`. */
export const DEFAULT_MAX_LOCAL_HEALTH = 8

/** Local lag (timer or event-loop delay) from which this node counts itself unhealthy (ms). */
export const DEFAULT_LOCAL_LAG_THRESHOLD_MS = 200

/** Time for local health to recover by one unit (ms). */
export const DEFAULT_LOCAL_HEALTH_DECAY_MS = 5000

/** After `left`, heartbeats still in flight for this long are ignored (ms). */
export const DEFAULT_LEFT_GRACE_MS = 2000

/** While a peer is suspect, the detector is evaluated at least this often (ms). */
export const DEFAULT_SUSPECT_RECHECK_MS = 250

/** Recommended timeout for the shell's direct probe: longer than a 2 s stop-the-world pause (ms). */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000

/** Event-loop utilization (busy share of the time, 0..1) from which this node counts itself saturated. */
export const DEFAULT_SATURATED_UTILIZATION = 0.9

/**
 * Local health a saturated event loop raises this node to: suspicion timeouts ×5, phi's
 * pause ×5 (2.5 s), and running suspicions restart while it stays saturated.
 */
export const DEFAULT_SATURATED_HEALTH = 4

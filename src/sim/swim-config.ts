/**
 * The protocol timings of the simulated SWIM members (see `swim-node.ts` for the protocol).
 *
 * Why these: a probe every 500 ms with 150 ms + 300 ms timeouts (latency here is tens of
 * ms) finds a silent member within about a second; suspicion then lasts 1.5–3.5 s by
 * Lifeguard's confirmations, short enough for "dead everywhere" within 5 s at 10,000
 * members, long enough for a member stalled up to a second to refute, even at 10,000 and
 * after a partition heals, because its refutation jumps every queue (`UpdateQueue`) and
 * the buddy system asks for it on the next ping. Suspicion timeouts that grow with
 * log N (memberlist's 4·log10(N)·probe interval = 8 s at 10,000) were not needed, and
 * would break the 5 s detection bound. The daemon's own defaults (0.5–3 s) assume a
 * failed probe means a refused connection; here a failed probe is only silence.
 */
import type { FailureDetectorInit } from '../presence/failure-detector.js'

export interface SwimConfig {
  probeIntervalMs: number
  probeTimeoutMs: number
  indirectTimeoutMs: number
  indirectProbes: number
  gossipIntervalMs: number
  gossipFanout: number
  /** updates per ping or ack */
  piggyback: number
  /** updates per gossip message */
  gossipUpdates: number
  retransmitMult: number
  syncIntervalMs: number
  joinRetryMs: number
  /** Lifeguard's local health: feed timer lag to the detector and re-arm late probe timeouts */
  localHealth: boolean
  detector: FailureDetectorInit
}

export const DEFAULT_SWIM: SwimConfig = {
  probeIntervalMs: 500,
  probeTimeoutMs: 150,
  indirectTimeoutMs: 300,
  indirectProbes: 3,
  gossipIntervalMs: 200,
  gossipFanout: 3,
  piggyback: 6,
  gossipUpdates: 32,
  retransmitMult: 4,
  syncIntervalMs: 10_000,
  joinRetryMs: 1000,
  localHealth: true,
  detector: { suspicionMaxMs: 3500, suspicionMinMs: 1500, suspicionConfirmations: 3 }
}

/** HLC wall time of virtual ms 0, so the clocks run on plausible epoch ms */
export const SIM_EPOCH_MS = 1_800_000_000_000

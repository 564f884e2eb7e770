/**
 * A pure per-peer failure detector: phi accrual over heartbeat inter-arrival times decides
 * when a peer becomes `suspect`; SWIM-style suspicion with Lifeguard's refinements decides
 * when a suspect becomes `dead`. No timers and no I/O: the shell feeds it heartbeats,
 * probe results and its own lag, each with `now` in ms from a monotonic clock, and calls
 * {@link FailureDetector.evaluate} every ~100-250 ms.
 *
 * ## The shell's part
 * - On `alive → suspect`, send one direct probe (a libp2p ping over a fresh stream, timeout
 *   {@link DEFAULT_PROBE_TIMEOUT_MS}) and report it with `recordProbe`. In larger teams, also
 *   ask a few other members to probe indirectly: a helper that reaches the peer reports
 *   `recordProbe(peer, true)`, one that cannot reports `recordSuspicionFrom(peer, helper)`.
 * - Suspicion gossip from other members goes to `recordSuspicionFrom`.
 * - Measure local timer lag (a timer that fires late) and report it with `recordLocalLag`.
 *
 * ## Why the defaults (1 s heartbeat)
 * - Suspect when phi ≥ 8 (P(a heartbeat this late) < 1e-8) against a normal model with
 *   mean + 500 ms acceptable pause and σ ≥ 100 ms. For a regular peer (jitter ±20 %,
 *   σ ≈ 115 ms) that is ≈ 1000 + 500 + 5.2·115 ≈ 2.1 s after the last heartbeat; for a peer
 *   with ±50 % jitter (σ ≈ 290 ms) ≈ 3.0 s, well past its longest gap (1.5 s), so jitter
 *   alone never even makes it suspect.
 * - A killed process (kill -9) closes its sockets: the direct probe fails within
 *   milliseconds, which confirms the suspicion fully and leaves only the 500 ms floor:
 *   dead ≈ 2.6 s after the last heartbeat, i.e. ≈ 2.3 s after the kill typical (it falls
 *   somewhere inside a heartbeat interval) and < 3 s worst case (simulated: p50 2.3 s,
 *   max 2.9 s over 1,000 runs).
 * - A machine that vanishes silently (probe times out, or no probe at all) is dead after the
 *   unconfirmed 3 s timeout: ≈ 5 s after its last heartbeat, far below 10 s.
 * - A peer stopped for 2 s (SIGSTOP) sends its next heartbeat at most interval + pause ≈
 *   3.5 s after the previous one; the probe sent at suspicion hangs and then succeeds when
 *   it resumes. Unconfirmed, it could only be declared dead at ≈ 2.1 + 3 = 5.1 s, so it is
 *   never declared dead even without probes. Each such pause also widens σ, so later pauses
 *   raise less suspicion.
 * - A throttled peer whose heartbeats are up to 4× late keeps answering probes (slowly); a
 *   successful probe counts as a sign of life, so suspicion restarts from it.
 * - Lifeguard: the suspicion timeout is `max(min, max − (max − min)·log(C+1)/log(K+1))`
 *   for C independent confirmations (K = 3), times `1 + localHealth`: a node whose own
 *   timers run late (0..8) waits up to 9× longer before accusing anyone, and a lag over
 *   the threshold restarts running suspicions, since nothing could be observed meanwhile.
 *   Timeouts also scale with a peer's mean interval when the team's interval grows.
 */
import { InvalidArgumentError } from '../errors.js'
import {
  DEFAULT_ACCEPTABLE_PAUSE_MS, DEFAULT_HEARTBEAT_BASE_MS, DEFAULT_LEFT_GRACE_MS,
  DEFAULT_LOCAL_HEALTH_DECAY_MS, DEFAULT_LOCAL_LAG_THRESHOLD_MS, DEFAULT_MAX_LOCAL_HEALTH,
  DEFAULT_MIN_STD_DEV_MS, DEFAULT_PHI_THRESHOLD, DEFAULT_PHI_WINDOW,
  DEFAULT_SUSPICION_CONFIRMATIONS, DEFAULT_SUSPICION_MAX_MS, DEFAULT_SUSPICION_MIN_MS
} from './constants.js'
import { IntervalWindow, phiOf } from './phi.js'

export type PeerState = 'alive' | 'suspect' | 'dead' | 'left'

/** A state change; `from` is undefined the first time a peer is seen. */
export interface Transition {
  peer: string
  from: PeerState | undefined
  to: PeerState
  at: number
}

export interface FailureDetectorInit {
  /** Expected heartbeat period; seeds a new peer's window and is the unit for timeout scaling. @default 1000 */
  heartbeatIntervalMs?: number
  /** @default 100 */
  windowSize?: number
  /** @default 8 */
  phiThreshold?: number
  /** @default 100 */
  minStdDevMs?: number
  /** @default 500 */
  acceptablePauseMs?: number
  /** Suspicion timeout with no confirmation. @default 3000 */
  suspicionMaxMs?: number
  /** Suspicion timeout when fully confirmed. @default 500 */
  suspicionMinMs?: number
  /** Confirmations that bring the timeout to its floor (Lifeguard K). @default 3 */
  suspicionConfirmations?: number
  /** @default 8 */
  maxLocalHealth?: number
  /** @default 200 */
  localLagThresholdMs?: number
  /** @default 5000 */
  localHealthDecayMs?: number
  /** @default 2000 */
  leftGraceMs?: number
}

interface PeerRecord {
  state: PeerState
  window: IntervalWindow
  /** last heartbeat since the peer was last alive; undefined after dead/left (no gap sample) */
  lastHeartbeat: number | undefined
  /** last heartbeat or successful probe */
  lastSignOfLife: number
  suspectSince: number
  probeFailed: boolean
  /** confirmer → time it reported its suspicion */
  confirmations: Map<string, number>
  leftAt: number
}

export class FailureDetector {
  private readonly init: Required<FailureDetectorInit>
  private readonly peers = new Map<string, PeerRecord>()
  private health = 0
  private healthAt = 0

  constructor (init: FailureDetectorInit = {}) {
    this.init = {
      heartbeatIntervalMs: init.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_BASE_MS,
      windowSize: init.windowSize ?? DEFAULT_PHI_WINDOW,
      phiThreshold: init.phiThreshold ?? DEFAULT_PHI_THRESHOLD,
      minStdDevMs: init.minStdDevMs ?? DEFAULT_MIN_STD_DEV_MS,
      acceptablePauseMs: init.acceptablePauseMs ?? DEFAULT_ACCEPTABLE_PAUSE_MS,
      suspicionMaxMs: init.suspicionMaxMs ?? DEFAULT_SUSPICION_MAX_MS,
      suspicionMinMs: init.suspicionMinMs ?? DEFAULT_SUSPICION_MIN_MS,
      suspicionConfirmations: init.suspicionConfirmations ?? DEFAULT_SUSPICION_CONFIRMATIONS,
      maxLocalHealth: init.maxLocalHealth ?? DEFAULT_MAX_LOCAL_HEALTH,
      localLagThresholdMs: init.localLagThresholdMs ?? DEFAULT_LOCAL_LAG_THRESHOLD_MS,
      localHealthDecayMs: init.localHealthDecayMs ?? DEFAULT_LOCAL_HEALTH_DECAY_MS,
      leftGraceMs: init.leftGraceMs ?? DEFAULT_LEFT_GRACE_MS
    }
    const i = this.init
    if (!(i.heartbeatIntervalMs > 0) || !(i.windowSize >= 2) || !(i.phiThreshold > 0) || !(i.minStdDevMs > 0)) {
      throw new InvalidArgumentError('failure detector: heartbeatIntervalMs, phiThreshold and minStdDevMs must be > 0, windowSize ≥ 2')
    }
    if (!(i.suspicionMinMs >= 0) || !(i.suspicionMaxMs >= i.suspicionMinMs) || !(i.suspicionConfirmations >= 0)) {
      throw new InvalidArgumentError('failure detector: need 0 ≤ suspicionMinMs ≤ suspicionMaxMs and suspicionConfirmations ≥ 0')
    }
  }

  /** A heartbeat from `peer` arrived. Returns the transition it caused, if any. */
  recordHeartbeat (peer: string, now: number): Transition | undefined {
    const rec = this.peers.get(peer)
    if (rec == null) {
      this.peers.set(peer, this.newRecord(now))
      return { peer, from: undefined, to: 'alive', at: now }
    }
    if (rec.state === 'left' && now - rec.leftAt < this.init.leftGraceMs) return undefined
    if (rec.lastHeartbeat != null && now > rec.lastHeartbeat) rec.window.add(now - rec.lastHeartbeat)
    rec.lastHeartbeat = now
    rec.lastSignOfLife = Math.max(rec.lastSignOfLife, now)
    return this.toAlive(peer, rec, now)
  }

  /** A direct (or indirect, by a helper) probe of `peer` answered (`ok`) or failed. */
  recordProbe (peer: string, ok: boolean, now: number): Transition | undefined {
    const rec = this.peers.get(peer)
    if (rec == null || rec.state === 'left') return undefined
    if (!ok) {
      if (rec.state === 'suspect') rec.probeFailed = true
      return undefined
    }
    rec.lastSignOfLife = Math.max(rec.lastSignOfLife, now)
    return this.toAlive(peer, rec, now)
  }

  /** `peer` announced a graceful stop: `left` at once. */
  recordLeft (peer: string, now: number): Transition | undefined {
    let rec = this.peers.get(peer)
    if (rec == null) {
      rec = this.newRecord(now)
      this.peers.set(peer, rec)
    }
    if (rec.state === 'left') return undefined
    rec.leftAt = now
    return this.move(peer, rec, 'left', now)
  }

  /** Member `by` (another peer, or an indirect-probe helper) suspects `peer`. */
  recordSuspicionFrom (peer: string, by: string, now: number): void {
    const rec = this.peers.get(peer)
    if (rec == null || by === peer || rec.state === 'dead' || rec.state === 'left') return
    rec.confirmations.set(by, now)
  }

  /** This node's own timers or event loop ran `lagMs` late. */
  recordLocalLag (lagMs: number, now: number): void {
    if (!(lagMs >= this.init.localLagThresholdMs)) return
    const raised = this.localHealth(now) + 1 + Math.floor(lagMs / 1000)
    this.health = Math.min(this.init.maxLocalHealth, raised)
    this.healthAt = now
    // while this node was stalled it could observe nothing: restart running suspicions
    for (const rec of this.peers.values()) {
      if (rec.state === 'suspect') rec.suspectSince = Math.max(rec.suspectSince, now)
    }
  }

  /** Lifeguard local-health multiplier input, 0..maxLocalHealth, decaying with time. */
  localHealth (now: number): number {
    const elapsed = Math.max(0, now - this.healthAt)
    return Math.max(0, this.health - elapsed / this.init.localHealthDecayMs)
  }

  /** Time-driven transitions: alive → suspect, suspect → dead. */
  evaluate (now: number): Transition[] {
    const out: Transition[] = []
    for (const [peer, rec] of this.peers) {
      if (rec.state === 'alive' && this.phiOf(rec, now) >= this.init.phiThreshold) {
        rec.suspectSince = now
        rec.probeFailed = false
        out.push(this.move(peer, rec, 'suspect', now))
      } else if (rec.state === 'suspect' && now - rec.suspectSince >= this.timeoutOf(rec, now)) {
        out.push(this.move(peer, rec, 'dead', now))
      }
    }
    return out
  }

  state (peer: string): PeerState | undefined {
    return this.peers.get(peer)?.state
  }

  /** Suspicion level of `peer` at `now` (0 for an unknown peer). */
  phi (peer: string, now: number): number {
    const rec = this.peers.get(peer)
    return rec == null ? 0 : this.phiOf(rec, now)
  }

  /** The suspicion timeout that applies to `peer` now (ms), confirmations and local health included. */
  suspicionTimeout (peer: string, now: number): number {
    const rec = this.peers.get(peer)
    return rec == null ? Number.NaN : this.timeoutOf(rec, now)
  }

  /** Time of the last heartbeat or successful probe. */
  lastSeen (peer: string): number | undefined {
    return this.peers.get(peer)?.lastSignOfLife
  }

  peerIds (): string[] {
    return [...this.peers.keys()]
  }

  /** Forget `peer` (removed from the team). */
  remove (peer: string): boolean {
    return this.peers.delete(peer)
  }

  private newRecord (now: number): PeerRecord {
    return {
      state: 'alive',
      window: new IntervalWindow(this.init.windowSize, this.init.heartbeatIntervalMs),
      lastHeartbeat: now,
      lastSignOfLife: now,
      suspectSince: 0,
      probeFailed: false,
      confirmations: new Map(),
      leftAt: 0
    }
  }

  private phiOf (rec: PeerRecord, now: number): number {
    const mean = rec.window.mean() + this.init.acceptablePauseMs
    const sd = Math.max(rec.window.stdDev(), this.init.minStdDevMs)
    return phiOf(now - rec.lastSignOfLife, mean, sd)
  }

  private timeoutOf (rec: PeerRecord, now: number): number {
    const { suspicionMaxMs: max, suspicionMinMs: min, suspicionConfirmations: k } = this.init
    let confirmed = k
    if (!rec.probeFailed) {
      const since = rec.state === 'suspect' ? rec.suspectSince : now
      confirmed = 0
      for (const at of rec.confirmations.values()) if (at >= since - max) confirmed++
    }
    const fraction = k <= 0 ? 1 : Math.min(1, Math.log(confirmed + 1) / Math.log(k + 1))
    const base = Math.max(min, max - (max - min) * fraction)
    const scale = Math.max(1, rec.window.mean() / this.init.heartbeatIntervalMs)
    return base * scale * (1 + this.localHealth(now))
  }

  private toAlive (peer: string, rec: PeerRecord, now: number): Transition | undefined {
    if (rec.state === 'alive') return undefined
    rec.confirmations.clear()
    rec.probeFailed = false
    return this.move(peer, rec, 'alive', now)
  }

  private move (peer: string, rec: PeerRecord, to: PeerState, now: number): Transition {
    const from = rec.state
    rec.state = to
    if (to === 'dead' || to === 'left') rec.lastHeartbeat = undefined
    return { peer, from, to, at: now }
  }
}

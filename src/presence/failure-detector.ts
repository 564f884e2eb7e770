/**
 * A pure per-peer failure detector: phi accrual over heartbeat inter-arrival times decides
 * when a peer becomes `suspect`; SWIM-style suspicion with Lifeguard's refinements decides
 * when a suspect becomes `dead`. No timers and no I/O: the shell feeds it heartbeats,
 * probe results and its own lag, each with `now` in ms from a monotonic clock, and calls
 * {@link FailureDetector.evaluate} when {@link FailureDetector.nextCheck} says (polling works
 * too, at the cost of a wakeup per poll).
 *
 * ## The shell's part
 * - Sleep until {@link FailureDetector.nextCheck} (or its own next heartbeat) rather than
 *   polling; evaluate then, and ask again after anything it records.
 * - On `alive → suspect`, send one direct probe (a libp2p ping over a fresh stream, timeout
 *   {@link DEFAULT_PROBE_TIMEOUT_MS}) and report it with `recordProbe`. In larger teams, also
 *   ask a few other members to probe indirectly: a helper that reaches the peer reports
 *   `recordProbe(peer, true)`, one that cannot reports `recordSuspicionFrom(peer, helper)`.
 * - When a member's last connection closes, probe it at once and report that too: a refused
 *   probe of an alive peer makes it suspect, already confirmed.
 * - Suspicion gossip from other members goes to `recordSuspicionFrom`.
 * - Any other traffic a peer sends (gossip it relays, a connection it opens) goes to
 *   `recordSignOfLife`: a peer that still talks is not dead, whatever its heartbeats do.
 * - Measure local timer lag (a timer that fires late) and report it with `recordLocalLag`,
 *   and the event loop's utilization with `recordLocalLoad`, so the detector knows when
 *   this node is itself too slow to judge anyone.
 *
 * ## Why the defaults (3 s heartbeat; the figures in brackets are for 1 s)
 * - Suspect when phi ≥ 8 (P(a heartbeat this late) < 1e-8) against a normal model with
 *   mean + 500 ms acceptable pause and σ ≥ 100 ms, i.e. a silence of mean + 500 ms + 5.23·σ.
 *   For a peer jittering ±20 % (σ ≈ 350 ms [115]) that is ≈ 3000 + 500 + 5.2·350 ≈ 5.3 s
 *   [2.1 s] after its last heartbeat, ≈ 4 s for a daemon's own steady timer; for ±50 %
 *   jitter (σ ≈ 870 ms [290]) ≈ 8 s [3 s], far past its longest gap (4.5 s [1.5 s]), so
 *   jitter alone never even makes it suspect.
 * - A killed process (kill -9) closes its sockets: the shell sees the connection close and
 *   probes at once; the probe is refused within milliseconds, which makes the peer suspect
 *   with full confirmation, leaving only the 500 ms floor: dead ≈ 0.6 s after the kill,
 *   whatever the interval (simulated: p50 0.58 s, max 0.65 s over 1,000 runs). Should the
 *   close go unseen, missed heartbeats still find it: p50 4.6 s [2.3 s], max 6.2 s [2.9 s].
 * - A machine that vanishes silently (no close; the probe times out, or no probe at all) is
 *   dead after the unconfirmed 3 s timeout: ≈ 8.3 s [5 s] after its last heartbeat at most
 *   (simulated max 8.7 s [5.4 s] from the failure), below 10 s.
 * - A peer stopped for 2 s (SIGSTOP) keeps its connections, and sends its next heartbeat at
 *   most interval + 2 s after the previous one; the probe sent at suspicion hangs and then
 *   succeeds when it resumes. Unconfirmed, it could only be declared dead 3 s after becoming
 *   suspect, so it is never declared dead even without probes. Each such pause also widens
 *   σ, so later pauses raise less suspicion.
 * - A throttled peer whose heartbeats are up to 4× late keeps answering probes (slowly); a
 *   successful probe counts as a sign of life, so suspicion restarts from it.
 * - Lifeguard: the suspicion timeout is `max(min, max − (max − min)·log(C+1)/log(K+1))`
 *   for C independent confirmations (K = 3), times `1 + localHealth`: a node whose own
 *   timers run late (0..8) waits up to 9× longer before accusing anyone, and a lag over
 *   the threshold restarts running suspicions, since nothing could be observed meanwhile.
 *   Timeouts also scale with a peer's mean interval when the team's interval grows.
 * - A whole box saturated (20 daemons joining on 2 cores, a build on every core) makes
 *   every sender's heartbeat late at once, and every probe slow: a busy observer (loop
 *   ≥ 90 % busy, or lagging) widens phi's pause by the same factor, ignores a probe that
 *   timed out while it lagged, and restarts running suspicions while it stays so (all
 *   but those a refused connection confirmed). Only a refusal (nothing listens where the
 *   peer was: its process is gone) confirms fully; a probe that failed otherwise (a
 *   timeout, a reset of a dial or a stream) counts as one confirmation, like a peer's.
 * - A peer's window is seeded, and reseeded when it changes, with the interval its
 *   heartbeats announce: a team that grows from 10 to 20 members moves every sender from
 *   3 s to 5.85 s at once, and a window of 3 s gaps would find the first longer gap suspect.
 */
import { resolveInit, type FailureDetectorInit } from './detector-init.js'
import { IntervalWindow, phiOf, thresholdCrossing } from './phi.js'

export type { FailureDetectorInit } from './detector-init.js'

export type PeerState = 'alive' | 'suspect' | 'dead' | 'left'

/**
 * How a probe ended: `ok` answered; `refused` the connection was refused (nothing listens
 * where the peer was: its process is gone), full confirmation; `failed` anything else (a
 * timeout, a reset, a closed stream), one confirmation unless this node lagged meanwhile.
 * `true` and `false` stand for `ok` and `refused`.
 */
export type ProbeOutcome = 'ok' | 'refused' | 'failed'

/** the confirmer a failed (not refused) probe counts as */
const PROBE_CONFIRMER = '\u0000probe'

/** A state change; `from` is undefined the first time a peer is seen. */
export interface Transition {
  peer: string
  from: PeerState | undefined
  to: PeerState
  at: number
}


interface PeerRecord {
  state: PeerState
  window: IntervalWindow
  /** last heartbeat since the peer was last alive; undefined after dead/left (no gap sample) */
  lastHeartbeat: number | undefined
  /** last heartbeat, successful probe or other traffic */
  lastSignOfLife: number
  suspectSince: number
  /** a probe was refused: full confirmation */
  probeFailed: boolean
  /** the heartbeat interval the peer announced last (its window was seeded with it) */
  announcedMs: number
  /** confirmer → time it reported its suspicion */
  confirmations: Map<string, number>
  leftAt: number
}

export class FailureDetector {
  private readonly init: Required<FailureDetectorInit>
  private readonly peers = new Map<string, PeerRecord>()
  private health = 0
  private healthAt = 0
  /** the last time this node's own lag or load made it unhealthy */
  private unhealthyAt = -Infinity
  /** the team's heartbeat interval as this node sees it: no peer is expected sooner */
  private teamIntervalMs: number
  /** silence, in standard deviations past the mean, at which phi reaches the threshold */
  private readonly thresholdZ: number

  constructor (init: FailureDetectorInit = {}) {
    this.init = resolveInit(init)
    this.teamIntervalMs = this.init.heartbeatIntervalMs
    this.thresholdZ = thresholdCrossing(this.init.phiThreshold)
  }

  /**
   * A heartbeat from `peer` arrived, announcing `intervalMs` (its sender's period; default
   * the detector's). Returns the transition it caused, if any.
   */
  recordHeartbeat (peer: string, now: number, intervalMs = this.init.heartbeatIntervalMs): Transition | undefined {
    const rec = this.peers.get(peer)
    if (rec == null) {
      this.peers.set(peer, this.newRecord(now, intervalMs))
      return { peer, from: undefined, to: 'alive', at: now }
    }
    if (rec.state === 'left' && now - rec.leftAt < this.init.leftGraceMs) return undefined
    // a new period makes the old gaps wrong both ways (a 3 s window finds 5.85 s suspect)
    if (Math.abs(intervalMs - rec.announcedMs) > rec.announcedMs / 10) {
      rec.window = new IntervalWindow(this.init.windowSize, intervalMs)
      rec.announcedMs = intervalMs
    } else if (rec.lastHeartbeat != null && now > rec.lastHeartbeat) rec.window.add(now - rec.lastHeartbeat)
    rec.lastHeartbeat = now
    rec.lastSignOfLife = Math.max(rec.lastSignOfLife, now)
    return this.toAlive(peer, rec, now)
  }

  /**
   * A direct (or indirect, by a helper) probe of `peer` answered (`ok`) or failed. A failed
   * probe of a peer still `alive` (the shell probes a member whose last connection closed)
   * makes it `suspect` at once, already fully confirmed: a killed process closes its
   * sockets, so this is how kill -9 is detected in well under a second, independently of
   * the heartbeat interval. A heartbeat or a good probe still refutes it.
   */
  recordProbe (peer: string, result: boolean | ProbeOutcome, now: number, startedAt = now): Transition | undefined {
    const rec = this.peers.get(peer)
    const outcome = result === true ? 'ok' : result === false ? 'refused' : result
    if (rec == null || rec.state === 'left') return undefined
    if (outcome === 'failed') {
      // a probe that failed while this node itself lagged tells about this node, not the peer
      if (this.unhealthyAt < startedAt && rec.state !== 'dead') rec.confirmations.set(PROBE_CONFIRMER, now)
      return undefined
    }
    if (outcome === 'refused') {
      if (rec.state === 'alive') {
        rec.suspectSince = now
        rec.probeFailed = true
        return this.move(peer, rec, 'suspect', now)
      }
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

  /**
   * `peer` sent something other than a heartbeat (gossip, a stream, a new connection): it
   * is alive. Refutes a suspicion, and moves phi's clock like a heartbeat, without a gap
   * sample. It does not undo a refused probe or a `dead`, `left` (a killed peer's last
   * messages may still be queued here after its port refused us; a member back from the
   * dead gets probed over its new connection, and a heartbeat or that probe revives it).
   */
  recordSignOfLife (peer: string, now: number): Transition | undefined {
    const rec = this.peers.get(peer)
    if (rec == null || rec.state === 'left' || rec.state === 'dead') return undefined
    rec.lastSignOfLife = Math.max(rec.lastSignOfLife, now)
    return rec.probeFailed ? undefined : this.toAlive(peer, rec, now)
  }

  /**
   * The team's heartbeat interval changed (it grew or shrank): every peer will beat at it.
   * A peer's first longer gap is judged against it, not against its window of shorter ones
   * (the peer's own heartbeats announce it only once that gap is over).
   */
  setTeamInterval (ms: number): void {
    if (ms > 0) this.teamIntervalMs = ms
  }

  /** This node's own timers or event loop ran `lagMs` late. */
  recordLocalLag (lagMs: number, now: number): void {
    if (!(lagMs >= this.init.localLagThresholdMs)) return
    this.raiseHealth(this.localHealth(now) + 1 + Math.floor(lagMs / 1000), now)
  }

  /**
   * This node's event loop was busy for `utilization` (0..1) of the time since the last
   * report (`performance.eventLoopUtilization()`): saturated, it is as unhealthy as a
   * stall of a few seconds, and stays so while it stays saturated.
   */
  recordLocalLoad (utilization: number, now: number): void {
    if (!(utilization >= this.init.saturatedUtilization)) return
    this.raiseHealth(Math.max(this.localHealth(now), this.init.saturatedHealth), now)
  }

  private raiseHealth (to: number, now: number): void {
    this.health = Math.min(this.init.maxLocalHealth, to)
    this.healthAt = now
    this.unhealthyAt = now
    // while this node was stalled it could observe nothing: restart running suspicions,
    // but for a refused probe, which no slowness of ours explains
    for (const rec of this.peers.values()) {
      if (rec.state === 'suspect' && !rec.probeFailed) rec.suspectSince = Math.max(rec.suspectSince, now)
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

  /**
   * The earliest time at which {@link evaluate} can return a transition if nothing else is
   * recorded meanwhile (`Infinity` when it cannot), so the shell sleeps until then instead
   * of polling: for an alive peer, the moment its phi reaches the threshold; for a suspect,
   * the end of its suspicion timeout as it stands `now` (local health only shortens it as
   * it decays, so while anyone is suspect this is capped at `now + suspectRecheckMs`).
   * New heartbeats only move these times later; a transition or a probe result can bring
   * them closer, and the shell asks again after each.
   */
  nextCheck (now: number): number {
    let next = Infinity
    for (const rec of this.peers.values()) {
      if (rec.state === 'alive') {
        const { mean, sd } = this.model(rec, now)
        next = Math.min(next, rec.lastSignOfLife + mean + this.thresholdZ * sd)
      } else if (rec.state === 'suspect') {
        // (+1 µs: `t − suspectSince` must not round below the timeout at t)
        next = Math.min(next, rec.suspectSince + this.timeoutOf(rec, now) + 0.001, now + this.init.suspectRecheckMs)
      }
    }
    return next
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

  private newRecord (now: number, intervalMs = this.init.heartbeatIntervalMs): PeerRecord {
    return {
      state: 'alive',
      window: new IntervalWindow(this.init.windowSize, intervalMs),
      lastHeartbeat: now,
      lastSignOfLife: now,
      suspectSince: 0,
      probeFailed: false,
      announcedMs: intervalMs,
      confirmations: new Map(),
      leftAt: 0
    }
  }

  /** the normal model a peer's silence is judged against; a lagging observer allows longer pauses */
  private model (rec: PeerRecord, now: number): { mean: number, sd: number } {
    const pause = this.init.acceptablePauseMs * (1 + this.localHealth(now))
    return { mean: Math.max(rec.window.mean(), this.teamIntervalMs) + pause, sd: Math.max(rec.window.stdDev(), this.init.minStdDevMs) }
  }

  private phiOf (rec: PeerRecord, now: number): number {
    const { mean, sd } = this.model(rec, now)
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
    // a refused connection is the peer's doing, not ours: no slowness of ours stretches it
    if (rec.probeFailed) return base
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

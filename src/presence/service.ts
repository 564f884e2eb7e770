/**
 * The presence shell: publishes this daemon's signed heartbeat (with its capacity) on the
 * team's presence topic at an interval that grows with the team, feeds the others'
 * heartbeats into the failure detector, probes a suspect (and a member whose connection
 * just closed) directly, announces a graceful stop as `left`, and reports its own timer
 * lag (Lifeguard's self-awareness).
 *
 * Idle cost is the design constraint here: in a steady team this wakes once per heartbeat
 * interval (no polling), relays a heartbeat only when its sender does not reach everyone
 * itself, and keeps members' public keys ready for verifying.
 */
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { presenceTopic } from '../node/constants.js'
import { decodeFrame } from '../protocol/frames.js'
import { MAX_DIRECT_TAGS, heartbeat, type HeartbeatShape } from '../protocol/schemas/gossip.js'
import type { Capacity, PowerInfo } from './capacity.js'
import { DEFAULT_PROBE_TIMEOUT_MS } from './constants.js'
import { hostMachine, monotonicClock, type PresenceMachine } from './edges.js'
import type { Clock, Timer } from '../model/clock.js'
import { FailureDetector, type PeerState, type ProbeOutcome, type Transition } from './failure-detector.js'
import { heartbeatInterval } from './interval.js'
import { LoadWatch, eventLoopMeter } from './load-watch.js'
import { probeOutcome } from './probe-outcome.js'
import { SignsOfLife } from './signs-of-life.js'
import { needsRelay, peerTag } from './relay.js'
import { StaleConnections } from './stale-connections.js'
import type { PresenceInit } from './presence-init.js'
import { signHeartbeat, verifyHeartbeat, type Heartbeat } from './heartbeat.js'

export { signHeartbeat, verifyHeartbeat, type Heartbeat } from './heartbeat.js'
export type { PresenceInit } from './presence-init.js'

const log = logger('paired:presence')

/**
 * The presence timer is armed for the next thing due (our next heartbeat, or the moment
 * the detector could change a peer's state: {@link FailureDetector.nextCheck}) instead of
 * polling every 200 ms: an idle daemon in a steady team then wakes once per heartbeat
 * interval, not five times a second (each wakeup costs ~0.1–0.4 ms of CPU here). It never
 * sleeps less than this, so a rounding edge cannot spin (ms).
 */
const MIN_WAIT_MS = 20
/**
 * A new subscriber on the presence topic (a member that just connected) gets a heartbeat
 * from us this soon, and one more a second later, instead of up to a whole interval
 * later: the first tells it we are here, the second covers a hello still in flight (its
 * validator ignores us until we are verified). Never two beats closer than the gap (ms).
 */
const NEW_PEER_BEAT_DELAY_MS = 100
const NEW_PEER_FOLLOW_UP_MS = 1000
const MIN_BEAT_GAP_MS = 500
/** the power source (plugged in or not) is read again after this */
const POWER_TTL_MS = 30_000
const MAX_HEARTBEAT_BYTES = 16 * 1024
// a beat lists the members it reaches directly only up to MAX_DIRECT_TAGS (its schema's
// limit); beyond, it says nothing and every receiver relays it, as gossipsub always does
const encoder = new TextEncoder()

export class PresenceService {
  readonly detector: FailureDetector
  /** hangs up on members declared dead, and on the silent connections of those that come back */
  private readonly stale: StaleConnections
  private readonly capacities = new Map<string, Capacity>()
  private readonly lastSeq = new Map<string, number>()
  /** the probe in flight per peer (a token: a newer probe supersedes it) */
  private readonly probes = new Map<string, object>()
  /** members suspect now: while any is, or a probe is out, this node's load is watched closely */
  private readonly suspects = new Set<string>()
  private readonly load: LoadWatch
  private readonly signs: SignsOfLife
  private seq = Date.now() * 1000
  private topic = ''
  private readonly clock: Clock
  private readonly machine: PresenceMachine
  private timer?: Timer
  /** when the armed timer is due (clock ms) */
  private timerAt = Infinity
  private nextBeatAt = 0
  private lastBeatAt = -Infinity
  /** the next beat comes {@link NEW_PEER_FOLLOW_UP_MS} after this one, not an interval */
  private followUp = false
  private started = false
  private myCapacity?: Capacity
  private power?: { info: PowerInfo, at: number }
  /** the peers our last heartbeat was actually handed to (an open gossipsub stream each) */
  private reached?: Set<string>

  constructor (private readonly init: PresenceInit) {
    this.clock = init.clock ?? monotonicClock
    this.machine = init.machine ?? hostMachine
    this.detector = new FailureDetector({ heartbeatIntervalMs: this.intervalMs() })
    this.stale = new StaleConnections({
      node: init.node,
      state: peer => this.detector.state(peer),
      // a suspect or dead member is back on a new connection: a ping over it shows it at
      // once, without waiting for gossipsub's streams and the member's next heartbeat
      onReturn: peer => { if (this.started) void this.probe(peer, { again: true }) }
    })
    this.load = new LoadWatch({
      clock: this.clock,
      meter: init.meter ?? eventLoopMeter(),
      onLag: (ms, now) => { this.detector.recordLocalLag(ms, now) },
      onLoad: (utilization, now) => { this.detector.recordLocalLoad(utilization, now) }
    })
    this.signs = new SignsOfLife(init.node, this.clock.now, peer => { this.onSignOfLife(peer) })
  }

  /**
   * `peer` sent us something (a stream, a message): it is alive, and a suspicion of it is
   * refuted. Cheap: at most one detector update per member per 100 ms.
   */
  signOfLife (peer: string): void { this.signs.seen(peer) }

  private onSignOfLife (peer: string): void {
    if (!this.started || peer === this.init.signer.peerId || !this.init.isMember(peer)) return
    const t = this.detector.recordSignOfLife(peer, this.clock.now())
    if (t != null) this.transition(t)
  }

  /**
   * `peer` passed the hello with us just now: as good a sign of life as a heartbeat, and
   * its first heartbeat comes only after its gossip streams and subscriptions are up
   */
  helloed (peer: string): void {
    if (!this.started || this.detector.state(peer) != null || !this.init.isMember(peer)) return
    const t = this.detector.recordHeartbeat(peer, this.clock.now(), this.intervalMs())
    if (t != null) this.transition(t)
  }

  intervalMs (): number {
    return heartbeatInterval(Math.max(1, this.init.teamSize()))
  }

  state (peer: string): PeerState | undefined { return this.detector.state(peer) }

  /** member `by` says `peer` died (src/presence/dead-notice.ts): one suspicion; our own probe decides */
  heardDeath (peer: string, by: string): void {
    const s = this.detector.state(peer)
    if (!this.started || peer === this.init.signer.peerId || !this.init.isMember(peer) || (s !== 'alive' && s !== 'suspect')) return
    this.detector.recordSuspicionFrom(peer, by, this.clock.now())
    void this.probe(peer)
  }

  capacity (peer: string): Capacity | undefined { return this.capacities.get(peer) }
  get ownCapacity (): Capacity | undefined { return this.myCapacity }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const { node, teamId } = this.init
    this.topic = presenceTopic(teamId)
    node.services.pubsub.topicValidators.set(this.topic, this.validate)
    node.services.pubsub.subscribe(this.topic)
    node.addEventListener('peer:disconnect', this.onDisconnect)
    node.services.pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    this.stale.start()
    // after the stale connections' listener: a suspect back on a new connection first has
    // its silent ones hung up, then counts as alive
    this.signs.start()
    this.nextBeatAt = 0
    this.schedule()
  }

  /** announce `left`, then stop; bounded by `waitMs` */
  async stop (options: { announce: boolean, waitMs?: number } = { announce: true }): Promise<void> {
    if (!this.started) return
    this.started = false
    this.timer?.clear()
    this.timer = undefined
    this.timerAt = Infinity
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.init.node.services.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    this.stale.stop()
    this.signs.stop()
    this.load.watch(false)
    if (options.announce) {
      await this.publish('left')
      await new Promise<void>(resolve => { this.clock.setTimeout(resolve, options.waitMs ?? 100) })
    }
  }

  /**
   * Arm the timer for whatever is due next. Called after every change that moves a
   * deadline: a heartbeat received (its sender's deadline moves later, so the timer is
   * pushed back rather than waking for nothing), a transition, our own beat.
   */
  private schedule (): void {
    if (!this.started) return
    const now = this.clock.now()
    const due = Math.max(now + MIN_WAIT_MS, Math.min(this.nextBeatAt, this.detector.nextCheck(now)))
    if (this.timer != null && Math.abs(due - this.timerAt) < MIN_WAIT_MS) return
    this.timer?.clear()
    this.timerAt = due
    this.timer = this.clock.setTimeout(this.onTimer, due - now).unref()
  }

  private readonly onTimer = (): void => {
    const now = this.clock.now()
    // a timer that fires late means this machine is slow or was paused: be slower to accuse
    const lag = now - this.timerAt
    this.timer = undefined
    this.timerAt = Infinity
    if (lag > 0) this.detector.recordLocalLag(lag, now)
    this.detector.setTeamInterval(this.intervalMs())
    this.load.sample(now)
    // libuv rounds timers to whole ms on its own clock: a beat due within the slack is due
    if (now + MIN_WAIT_MS >= this.nextBeatAt) {
      this.lastBeatAt = now
      this.nextBeatAt = now + (this.followUp ? NEW_PEER_FOLLOW_UP_MS : this.intervalMs())
      this.followUp = false
      this.publish('beat').catch(err => { log('heartbeat failed: %s', (err as Error).message) })
    }
    for (const t of this.detector.evaluate(now)) this.transition(t)
    this.schedule()
  }

  private transition (t: Transition): void {
    if (t.to === 'suspect') this.suspects.add(t.peer)
    else this.suspects.delete(t.peer)
    if (t.to === 'left') this.signs.forget(t.peer)
    this.stale.onTransition(t)
    this.init.onTransition(t)
    if (t.to === 'suspect') void this.probe(t.peer)
    this.watchLoad()
    // a new suspect has a deadline of its own, maybe sooner than the armed timer
    this.schedule()
  }

  /**
   * Ping `peer` and report the outcome to the detector. One probe per peer at a time,
   * except `again`: a member back on a new connection is probed over it at once, and an
   * older probe still waiting on the connection that went silent no longer counts (its
   * failure would declare dead a member that just proved it is back).
   */
  private async probe (peer: string, options: { again: boolean, retry?: boolean } = { again: false }): Promise<void> {
    const current = this.probes.get(peer)
    if (current != null && !options.again) return
    const mine = {}
    this.probes.set(peer, mine)
    this.watchLoad()
    const startedAt = this.clock.now()
    let outcome: ProbeOutcome | undefined = 'ok'
    const abort = new AbortController()
    // a slow observer gives the answer as much longer as it gives everything else
    const timeout = this.clock.setTimeout(() => {
      abort.abort(new DOMException('the probe timed out', 'TimeoutError'))
    }, DEFAULT_PROBE_TIMEOUT_MS * (1 + this.detector.localHealth(startedAt))).unref()
    try {
      await this.init.node.services.ping.ping(peerIdFromString(peer), { signal: abort.signal })
    } catch (err) {
      outcome = probeOutcome(err)
      log('probe of %s failed (%s): %s', peer, outcome ?? 'no evidence', (err as Error).message)
    } finally {
      timeout.clear()
    }
    if (this.probes.get(peer) !== mine) return
    this.probes.delete(peer)
    this.watchLoad()
    if (!this.started || outcome == null) return
    // a heartbeat arrived while the probe waited (a partition healed; the probe's stream
    // sat behind the silent connection's retransmissions): its failure is stale news, and
    // would make a member that just came back suspect again, already confirmed
    if (outcome !== 'ok' && (this.detector.lastSeen(peer) ?? -Infinity) >= startedAt) return
    this.init.onProbe?.(peer, outcome)
    const t = this.detector.recordProbe(peer, outcome, this.clock.now(), startedAt)
    if (t != null) this.transition(t)
    // the probe's stream died with the member's last connection (killed while suspect):
    // one fresh dial tells a dead process (refused at once) from a live one
    if (outcome === 'failed' && options.retry !== true && !this.connected(peer)) void this.probe(peer, { again: false, retry: true })
  }

  private connected (peer: string): boolean {
    return this.init.node.getConnections().some(c => c.remotePeer.toString() === peer)
  }

  /** sample this node's load every 100 ms while a verdict hangs on it */
  private watchLoad (): void { this.load.watch(this.started && (this.suspects.size > 0 || this.probes.size > 0)) }

  /** a peer subscribed to the presence topic: let it hear from us soon (see {@link NEW_PEER_BEAT_DELAY_MS}) */
  private readonly onSubscriptionChange = (evt: CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (!this.started || !evt.detail.subscriptions.some(sub => sub.topic === this.topic && sub.subscribe)) return
    const now = this.clock.now()
    const soon = Math.max(now + NEW_PEER_BEAT_DELAY_MS, this.lastBeatAt + MIN_BEAT_GAP_MS)
    if (soon < this.nextBeatAt) {
      this.nextBeatAt = soon
      this.followUp = true
      this.schedule()
    }
  }

  /**
   * A member's last connection closed. A killed process closes its sockets, so probe it
   * now instead of waiting for its heartbeats to stop: a refused probe makes it suspect,
   * confirmed, and dead ~0.5 s later (see {@link FailureDetector.recordProbe}). A paused or
   * throttled peer keeps its connections, so this never fires for it.
   */
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    if (this.started && this.detector.state(peer) === 'alive' && this.init.isMember(peer)) void this.probe(peer)
  }

  private async publish (type: 'beat' | 'left'): Promise<void> {
    const work = this.init.work()
    if (type === 'beat') {
      const now = this.clock.now()
      if (this.power == null || now - this.power.at > POWER_TTL_MS) this.power = { info: await this.machine.readPower(), at: now }
      this.myCapacity = await this.machine.readCapacity({ ...work, power: this.power.info })
    }
    const digest = type === 'beat' ? this.init.digest?.() : undefined
    const addrs = type === 'beat' ? this.init.addresses?.() ?? [] : []
    // gossipsub's flood publish sends to every subscriber it has an open stream to: those
    // need no relay. Being subscribed is not enough: when the connection that carried
    // gossipsub's outbound stream to a peer closes while another connection stays (a
    // duplicate being cleaned up), gossipsub opens no new stream, and that peer then
    // hears from us only through relays. So list the subscribers our last publish really
    // reached; a new subscriber is missing for one beat and gets relayed copies meanwhile.
    const pubsub = this.init.node.services.pubsub
    const reached = this.reached
    const direct = reached == null
      ? undefined
      : pubsub.getSubscribers(this.topic).map(p => p.toString()).filter(p => reached.has(p)).map(peerTag)
    const hb = signHeartbeat({
      v: 1,
      type,
      peerId: this.init.signer.peerId,
      seq: ++this.seq,
      intervalMs: this.intervalMs(),
      ...(type === 'beat' && this.myCapacity != null ? { capacity: this.myCapacity } : {}),
      ...(digest != null ? { digest } : {}),
      ...(direct != null && direct.length <= MAX_DIRECT_TAGS ? { direct } : {}),
      ...(addrs.length > 0 ? { addrs } : {})
    }, this.init.signer)
    const { recipients } = await pubsub.publish(this.topic, encoder.encode(JSON.stringify(hb)))
    this.reached = new Set(recipients.map(p => p.toString()))
  }

  /**
   * Every heartbeat is handled here, in the topic validator, rather than on `message`:
   * the validator sees each message once (gossipsub drops duplicates before it) and its
   * answer decides the relay. `Accept` makes gossipsub forward the heartbeat to every mesh
   * peer but its source; in a team where everyone is connected to everyone, each daemon
   * would then send and receive n − 1 copies of every heartbeat instead of one (in a team
   * of five, 16 frames per heartbeat instead of 4, each a wakeup and a yamux window update
   * back, though every member already had it from the sender). So a heartbeat is relayed
   * (`Accept`) only when one of our subscribers is missing from the sender's `direct` list,
   * and otherwise `Ignore`d: no forward, no penalty, no `message` event.
   */
  private readonly validate = (from: PeerId, msg: { data: Uint8Array }): TopicValidatorResult => {
    // a member's first heartbeats can beat its hello on a new connection: not yet verified
    // is not misbehaving, so no penalty (a Reject costs the sender its mesh places for
    // minutes, and the team then pays for IHAVE gossip to it every heartbeat)
    if (!this.init.isVerified(from.toString())) return TopicValidatorResult.Ignore
    // whatever it carries, a member handing us a heartbeat is itself alive
    this.signOfLife(from.toString())
    if (msg.data.byteLength > MAX_HEARTBEAT_BYTES) return TopicValidatorResult.Reject
    let hb: HeartbeatShape
    try { hb = decodeFrame(this.topic, msg.data, heartbeat) } catch { return TopicValidatorResult.Reject }
    // an old heartbeat replayed is not news: ignore without penalty (and without verifying)
    if (hb.seq <= (this.lastSeq.get(hb.peerId) ?? 0)) return TopicValidatorResult.Ignore
    // membership first: it is cheap, and only members' keys are ever cached. A sender not a
    // member here (yet: its certificate may still be on its way) is no fault of the relay
    if (!this.init.isMember(hb.peerId)) return TopicValidatorResult.Ignore
    if (!verifyHeartbeat(hb)) {
      log('rejected a heartbeat relayed by %s (a bad signature)', from)
      return TopicValidatorResult.Reject
    }
    if (hb.peerId === this.init.signer.peerId) return TopicValidatorResult.Ignore
    if (this.started) this.receive(hb)
    const subscribers = this.init.node.services.pubsub.getSubscribers(this.topic).map(p => p.toString())
    return needsRelay(hb.direct, subscribers, hb.peerId, from.toString()) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
  }

  private receive (hb: Heartbeat): void {
    this.lastSeq.set(hb.peerId, hb.seq)
    const now = this.clock.now()
    const t = hb.type === 'left' ? this.detector.recordLeft(hb.peerId, now) : this.detector.recordHeartbeat(hb.peerId, now, hb.intervalMs)
    if (hb.type === 'beat' && hb.capacity != null) this.capacities.set(hb.peerId, hb.capacity)
    if (hb.type === 'beat' && typeof hb.digest === 'string') this.init.onDigest?.(hb.peerId, hb.digest)
    if (hb.type === 'beat' && hb.addrs != null && hb.addrs.length > 0 && !this.connected(hb.peerId)) this.init.onAddresses?.(hb.peerId, hb.addrs)
    if (t != null) this.transition(t)
    else this.schedule()
  }
}

/**
 * The presence shell: publishes this daemon's signed heartbeat (with its capacity) on the
 * team's presence topic at an interval that grows with the team, feeds the others'
 * heartbeats into the failure detector, probes a suspect directly, announces a graceful
 * stop as `left`, and reports its own timer lag (Lifeguard's self-awareness).
 */
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PairedLibp2p } from '../node/create-node.js'
import { presenceTopic } from '../node/constants.js'
import { isObject } from '../protocol/frames.js'
import { canonicalJson, peerPublicKey, verifyEd25519, type Signer } from '../team/index.js'
import { readCapacity, readPower, type Capacity, type PowerInfo } from './capacity.js'
import { DEFAULT_PROBE_TIMEOUT_MS } from './constants.js'
import { FailureDetector, type PeerState, type Transition } from './failure-detector.js'
import { heartbeatInterval } from './interval.js'

const log = logger('paired:presence')

export interface Heartbeat {
  v: 1
  type: 'beat' | 'left'
  peerId: string
  /** strictly increasing per sender, also across restarts (it starts from the clock) */
  seq: number
  intervalMs: number
  capacity?: Capacity
  /** digest of the sender's replicated-state version vector: a difference means sync */
  digest?: string
  sig: string
}

const DOMAIN = 'paired/presence/v1\n'
/** failure detection runs this often; 5 wakeups a second keep an idle daemon idle */
const TICK_MS = 200
/** the power source (plugged in or not) is read again after this */
const POWER_TTL_MS = 30_000
const MAX_HEARTBEAT_BYTES = 16 * 1024

function payload (hb: Omit<Heartbeat, 'sig'>): Uint8Array {
  const { sig: _sig, ...body } = hb as Heartbeat
  return new TextEncoder().encode(DOMAIN + canonicalJson(body))
}

export function signHeartbeat (body: Omit<Heartbeat, 'sig'>, signer: Signer): Heartbeat {
  return { ...body, sig: Buffer.from(signer.sign(payload(body))).toString('base64url') }
}

export function verifyHeartbeat (value: unknown): value is Heartbeat {
  if (!isObject(value) || value.v !== 1 || (value.type !== 'beat' && value.type !== 'left')) return false
  if (typeof value.peerId !== 'string' || typeof value.sig !== 'string') return false
  if (typeof value.seq !== 'number' || !Number.isSafeInteger(value.seq)) return false
  if (typeof value.intervalMs !== 'number' || !(value.intervalMs > 0)) return false
  const key = peerPublicKey(value.peerId)
  if (key == null) return false
  try {
    return verifyEd25519(key, payload(value as unknown as Heartbeat), Buffer.from(value.sig, 'base64url'))
  } catch {
    return false
  }
}

export interface PresenceInit {
  node: PairedLibp2p
  teamId: string
  signer: Signer
  isVerified: (peer: string) => boolean
  isMember: (peer: string) => boolean
  teamSize: () => number
  /** what goes into this daemon's capacity */
  work: () => { slots: number, running: number, queued: number, agents: string[], labels: Record<string, string> }
  onTransition: (t: Transition) => void
  /** this daemon's state digest to put in heartbeats */
  digest?: () => string | undefined
  /** a member's heartbeat carried this digest */
  onDigest?: (peer: string, digest: string) => void
}

export class PresenceService {
  readonly detector: FailureDetector
  private readonly capacities = new Map<string, Capacity>()
  private readonly lastSeq = new Map<string, number>()
  private readonly probing = new Set<string>()
  private seq = Date.now() * 1000
  private tick?: ReturnType<typeof setInterval>
  private expectedTick = 0
  private nextBeatAt = 0
  private started = false
  private myCapacity?: Capacity
  private power?: { info: PowerInfo, at: number }

  constructor (private readonly init: PresenceInit) {
    this.detector = new FailureDetector({ heartbeatIntervalMs: this.intervalMs() })
  }

  intervalMs (): number {
    return heartbeatInterval(Math.max(1, this.init.teamSize()))
  }

  state (peer: string): PeerState | undefined { return this.detector.state(peer) }
  capacity (peer: string): Capacity | undefined { return this.capacities.get(peer) }
  get ownCapacity (): Capacity | undefined { return this.myCapacity }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const { node, teamId } = this.init
    const topic = presenceTopic(teamId)
    node.services.pubsub.topicValidators.set(topic, (from, msg) => {
      if (!this.init.isVerified(from.toString()) || msg.data.byteLength > MAX_HEARTBEAT_BYTES) return TopicValidatorResult.Reject
      let hb: unknown
      try { hb = JSON.parse(new TextDecoder().decode(msg.data)) } catch { return TopicValidatorResult.Reject }
      if (!verifyHeartbeat(hb) || !this.init.isMember(hb.peerId)) return TopicValidatorResult.Reject
      // an old heartbeat replayed is not news: ignore without penalty
      return hb.seq > (this.lastSeq.get(hb.peerId) ?? 0) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    })
    node.services.pubsub.subscribe(topic)
    node.services.pubsub.addEventListener('message', this.onMessage)
    this.expectedTick = performance.now() + TICK_MS
    this.tick = setInterval(() => { void this.onTick() }, TICK_MS)
    this.tick.unref?.()
  }

  /** announce `left`, then stop; bounded by `waitMs` */
  async stop (options: { announce: boolean, waitMs?: number } = { announce: true }): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.tick)
    if (options.announce) {
      await this.publish('left')
      await new Promise(resolve => setTimeout(resolve, options.waitMs ?? 100))
    }
    this.init.node.services.pubsub.removeEventListener('message', this.onMessage)
  }

  private async onTick (): Promise<void> {
    const now = performance.now()
    // a timer that fires late means this machine is slow or was paused: be slower to accuse
    const lag = now - this.expectedTick
    this.expectedTick = now + TICK_MS
    if (lag > 0) this.detector.recordLocalLag(lag, now)
    if (now >= this.nextBeatAt) {
      this.nextBeatAt = now + this.intervalMs()
      await this.publish('beat').catch(err => { log('heartbeat failed: %s', (err as Error).message) })
    }
    for (const t of this.detector.evaluate(now)) this.transition(t)
  }

  private transition (t: Transition): void {
    this.init.onTransition(t)
    if (t.to === 'suspect') void this.probe(t.peer)
  }

  private async probe (peer: string): Promise<void> {
    if (this.probing.has(peer)) return
    this.probing.add(peer)
    let ok = false
    try {
      await this.init.node.services.ping.ping(peerIdFromString(peer), { signal: AbortSignal.timeout(DEFAULT_PROBE_TIMEOUT_MS) })
      ok = true
    } catch (err) {
      log('probe of %s failed: %s', peer, (err as Error).message)
    } finally {
      this.probing.delete(peer)
    }
    if (!this.started) return
    const t = this.detector.recordProbe(peer, ok, performance.now())
    if (t != null) this.transition(t)
  }

  private async publish (type: 'beat' | 'left'): Promise<void> {
    const work = this.init.work()
    if (type === 'beat') {
      const now = performance.now()
      if (this.power == null || now - this.power.at > POWER_TTL_MS) this.power = { info: await readPower(), at: now }
      this.myCapacity = await readCapacity({ ...work, power: this.power.info })
    }
    const digest = type === 'beat' ? this.init.digest?.() : undefined
    const hb = signHeartbeat({
      v: 1,
      type,
      peerId: this.init.signer.peerId,
      seq: ++this.seq,
      intervalMs: this.intervalMs(),
      ...(type === 'beat' && this.myCapacity != null ? { capacity: this.myCapacity } : {}),
      ...(digest != null ? { digest } : {})
    }, this.init.signer)
    await this.init.node.services.pubsub.publish(presenceTopic(this.init.teamId), new TextEncoder().encode(JSON.stringify(hb)))
  }

  private readonly onMessage = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== presenceTopic(this.init.teamId)) return
    let hb: Heartbeat
    try { hb = JSON.parse(new TextDecoder().decode(evt.detail.data)) as Heartbeat } catch { return }
    if (hb.seq <= (this.lastSeq.get(hb.peerId) ?? 0)) return
    this.lastSeq.set(hb.peerId, hb.seq)
    const now = performance.now()
    const t = hb.type === 'left' ? this.detector.recordLeft(hb.peerId, now) : this.detector.recordHeartbeat(hb.peerId, now)
    if (hb.type === 'beat' && hb.capacity != null) this.capacities.set(hb.peerId, hb.capacity)
    if (hb.type === 'beat' && typeof hb.digest === 'string') this.init.onDigest?.(hb.peerId, hb.digest)
    if (t != null) this.transition(t)
  }
}

/**
 * Signed death notices: how a member that is not connected to a member that died learns
 * it within a second, in a large team where each daemon keeps connections only to its
 * overlay neighbours (src/daemon/overlay.ts). Those neighbours see a killed process's
 * connections close and have its port refuse their probe at once; each tells the team,
 * on a topic of its own, in a notice it signs.
 *
 * A notice is never taken as a verdict: its receiver counts it as one member's suspicion
 * and probes the accused itself (a dial: a refused port is its own proof, as for a
 * neighbour). So one flaky observer cannot make anyone dead: the probe of a live member
 * succeeds, and its heartbeats refute whatever was said. A notice from a non-member or
 * with a bad signature is rejected (gossipsub then scores down whoever relayed it).
 *
 * Cost: only the first notice about a member within {@link NOTICE_QUIET_MS} is relayed
 * (gossipsub floods it through the mesh); the notices of its other neighbours, which saw
 * the same death at the same moment, reach only their own direct subscribers. A daemon
 * that heard a notice does not publish one of its own for what its probe then confirms.
 */
import type { PeerId } from '@libp2p/interface'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import Type from 'typebox'
import { validator } from '../model/schema.js'
import { canonicalJson, peerPublicKey, verifyEd25519, type Signer } from '../team/index.js'
import { PeerIdSchema } from '../protocol/schemas/common.js'
import type { PresenceValidator } from './edges.js'

/** the team's topic for death notices */
export function noticeTopic (teamId: string): string {
  return `/paired/${teamId}/presence-notice/1`
}

/**
 * after a notice about a member this daemon relays no other about it for this long, and
 * publishes none of its own (ms): the notices of one death all come within a second or
 * so, and a false one must not keep a real death soon after from being told
 */
export const NOTICE_QUIET_MS = 3_000
const MAX_NOTICE_BYTES = 2048
const DOMAIN = 'paired/presence-notice/v1\n'

const DeadNoticeSchema = Type.Object({
  v: Type.Literal(1),
  type: Type.Literal('dead'),
  /** the member that died */
  peer: PeerIdSchema,
  /** the member that saw it, and signed this */
  by: PeerIdSchema,
  /** when, by its wall clock (ms): only makes two deaths of one member two messages */
  at: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  sig: Type.String({ maxLength: 256 })
})
const deadNotice = validator(DeadNoticeSchema)

export interface DeadNotice {
  v: 1
  type: 'dead'
  peer: string
  by: string
  at: number
  sig: string
}

const encoder = new TextEncoder()

function payload (n: Omit<DeadNotice, 'sig'>): Uint8Array {
  const { sig: _sig, ...body } = n as DeadNotice
  return encoder.encode(DOMAIN + canonicalJson(body))
}

export function signDeadNotice (body: Omit<DeadNotice, 'sig' | 'v' | 'type' | 'by'>, signer: Signer): DeadNotice {
  const full = { v: 1 as const, type: 'dead' as const, ...body, by: signer.peerId }
  return { ...full, sig: Buffer.from(signer.sign(payload(full))).toString('base64url') }
}

/** a well-formed notice signed by the member it names as `by` */
export function verifyDeadNotice (value: unknown): value is DeadNotice {
  if (!deadNotice.check(value)) return false
  const raw = peerPublicKey(value.by)
  return raw != null && verifyEd25519(raw, payload(value as DeadNotice), Buffer.from(value.sig, 'base64url'))
}

/** the gossipsub surface the notices use (a `GossipSub` is one) */
export interface NoticePubsub {
  topicValidators: { set: (topic: string, validator: PresenceValidator) => unknown, delete: (topic: string) => unknown }
  subscribe: (topic: string) => void
  unsubscribe: (topic: string) => void
  publish: (topic: string, data: Uint8Array) => Promise<unknown>
}

export interface DeadNoticesInit {
  pubsub: NoticePubsub
  teamId: string
  signer: Signer
  /** passed the hello on its connection: whom we take gossip from */
  isVerified: (peer: string) => boolean
  isMember: (peer: string) => boolean
  /** whether this daemon's own sightings go out (a team too large for every member to see every death itself) */
  shouldTell: () => boolean
  /** member `by` says `peer` died: count it, and see for ourselves */
  onNotice: (peer: string, by: string) => void
  /** a monotonic clock for the quiet periods (ms); @default performance.now */
  now?: () => number
  /** the wall clock stamped into notices; @default Date.now */
  wallClock?: () => number
}

export class DeadNotices {
  /** member → when this daemon last heard or told of its death */
  private readonly quietUntil = new Map<string, number>()
  private topic = ''
  private started = false
  private readonly now: () => number

  constructor (private readonly init: DeadNoticesInit) {
    this.now = init.now ?? (() => performance.now())
  }

  start (): void {
    if (this.started) return
    this.started = true
    this.topic = noticeTopic(this.init.teamId)
    this.init.pubsub.topicValidators.set(this.topic, this.validate)
    this.init.pubsub.subscribe(this.topic)
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.init.pubsub.unsubscribe(this.topic)
    this.init.pubsub.topicValidators.delete(this.topic)
    this.quietUntil.clear()
  }

  /**
   * this daemon itself saw `peer` die (its port refused our probe, or our detector
   * declared it dead): tell the team, unless it was told already
   */
  saw (peer: string): void {
    if (!this.started || peer === this.init.signer.peerId || !this.init.shouldTell() || this.quiet(peer)) return
    this.hush(peer)
    const notice = signDeadNotice({ peer, at: Math.round(this.init.wallClock?.() ?? Date.now()) }, this.init.signer)
    void this.init.pubsub.publish(this.topic, encoder.encode(JSON.stringify(notice))).catch(() => {})
  }

  private quiet (peer: string): boolean {
    const until = this.quietUntil.get(peer)
    if (until == null) return false
    if (until > this.now()) return true
    this.quietUntil.delete(peer)
    return false
  }

  private hush (peer: string): void {
    // forget the expired ones now and then: a member's entry is a few bytes, deaths are rare
    if (this.quietUntil.size > 1024) for (const [p, until] of this.quietUntil) if (until <= this.now()) this.quietUntil.delete(p)
    this.quietUntil.set(peer, this.now() + NOTICE_QUIET_MS)
  }

  /** every notice is judged here, once (gossipsub drops duplicates first); the answer decides its relay */
  private readonly validate = (from: PeerId, msg: { data: Uint8Array }): TopicValidatorResult => {
    if (!this.started || !this.init.isVerified(from.toString())) return TopicValidatorResult.Ignore
    if (msg.data.byteLength > MAX_NOTICE_BYTES) return TopicValidatorResult.Reject
    let value: unknown
    try { value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(msg.data)) } catch { return TopicValidatorResult.Reject }
    if (!verifyDeadNotice(value) || !this.init.isMember(value.by)) return TopicValidatorResult.Reject
    // about us (we are alive: our heartbeats say so), or about someone no longer a member
    if (value.peer === this.init.signer.peerId || value.by === this.init.signer.peerId || !this.init.isMember(value.peer)) return TopicValidatorResult.Ignore
    if (this.quiet(value.peer)) return TopicValidatorResult.Ignore
    this.hush(value.peer)
    this.init.onNotice(value.peer, value.by)
    return TopicValidatorResult.Accept
  }
}

/**
 * One SWIM member with Lifeguard's refinements, as a pure state machine: it reacts to
 * messages and timers handed in with the virtual time, and acts only through `NodeIo`.
 * The suspicion math is the daemon's own `FailureDetector` (src/presence), not a copy.
 *
 * ## Protocol
 * - Probing: every `probeIntervalMs` the node pings the next member of a shuffled
 *   round-robin (`ProbeOrder`). No ack within `probeTimeoutMs`: it asks `indirectProbes`
 *   random members to ping the target for it (ping-req) and relay the ack. No ack by the
 *   end of `indirectTimeoutMs` either: it suspects the target, tells the target directly
 *   (so it can refute at once) and gossips the suspicion.
 * - Suspicion: a suspect member enters this node's `FailureDetector` as a peer silent for
 *   long (so `evaluate` turns it `suspect`, unconfirmed); each further originator of the
 *   same suspicion goes to `recordSuspicionFrom` (Lifeguard's timeout, widened by local
 *   health). The detector's `dead` is this node's declaration; a refutation ends it.
 * - Refutation: a node that hears itself suspected or dead at incarnation ≥ its own
 *   answers alive(incarnation + 1). Buddy system (Lifeguard): a ping (direct or for a
 *   ping-req) to a member the sender holds suspect carries the suspicion, so the member
 *   refutes on its next turn and the ack brings the answer back.
 * - Dissemination: updates ride on pings and acks, and every `gossipIntervalMs` a node
 *   with something queued sends it to `gossipFanout` random members, each update at most
 *   λ·ceil(log10(n + 1)) times; refutations of suspicions someone is timing go first
 *   (`UpdateQueue`). KV writes spread the same way.
 * - Anti-entropy: every `syncIntervalMs` a push-pull of the whole state with a random
 *   member, dead ones included: how the sides of a healed partition meet again. A death
 *   learned there counts as a suspicion (memberlist's rule) that starts no timer and goes
 *   only to the member, to refute: gossiped, the minority's stale view would flood the team.
 * - Joins: a joiner sends `join` to a seed, which adds it and answers with its full state
 *   (a push-pull); gossip spreads the join. No answer in `joinRetryMs`: the next seed.
 * - Local health (Lifeguard): timer lag goes to `recordLocalLag` (wider suspicion timeouts,
 *   running ones restarted); a late probe timeout is re-armed `× (1 + local health)`
 *   instead of accusing (the ack may be waiting behind the stall); a late suspicion check
 *   first reads the messages that waited, as a `setImmediate` would. `localHealth: false`
 *   turns all three off, for comparison.
 * - Not modelled: signatures (the sim's nodes are honest), leaves, Lifeguard's nacks.
 */
import { FailureDetector, type Transition } from '../presence/failure-detector.js'
import { HlcClock } from '../state/crdt/hlc.js'
import { lwwApply, lwwEmpty, type LwwMap } from '../state/crdt/lww-map.js'
import {
  BroadcastQueue, ProbeOrder, RANK_ALIVE, RANK_DEAD, RANK_SUSPECT, RANK_UNKNOWN, UpdateQueue, View,
  incarnationOf, isLive, keyOf, rankOf, retransmitLimit, type Update
} from './membership.js'
import type { KvUpdate, Message, NodeIo, TimerKind } from './messages.js'
import type { Rng } from './rng.js'
import { SIM_EPOCH_MS, type SwimConfig } from './swim-config.js'

export { DEFAULT_SWIM, type SwimConfig } from './swim-config.js'

/** a new suspicion enters the detector as a peer silent this long: past any phi threshold */
const SUSPICION_ENTRY_SILENCE_MS = 1e7
/** a helper forgets relays it never got an ack for past this many */
const MAX_RELAYS = 32

interface Probe { seq: number, target: number, indirect: boolean, done: boolean, timeoutMs: number }

export class SwimNode {
  readonly view: View
  kv: LwwMap<number> = lwwEmpty()
  joined: boolean
  private incarnation = 0
  private seq = 0
  private probe: Probe | undefined
  private readonly relays = new Map<number, { to: number, seq: number, target: number }>()
  private readonly order: ProbeOrder
  private readonly updates = new UpdateQueue()
  private readonly kvUpdates = new BroadcastQueue<KvUpdate>()
  private readonly fd: FailureDetector
  /** originators of the current suspicion of each suspect member */
  private readonly suspecters = new Map<number, Set<number>>()
  private readonly clock: HlcClock
  private gossipArmed = false
  private fdToken = 0
  private fdAt = Infinity
  private seeds: number[] = []

  constructor (
    readonly id: number,
    private readonly universe: number,
    base: Int32Array,
    baseAlive: number,
    private readonly cfg: SwimConfig,
    private readonly io: NodeIo,
    private readonly rng: Rng
  ) {
    this.view = new View(base, baseAlive)
    this.joined = isLive(base[id])
    if (!this.joined) this.view.merge(id, keyOf(0, RANK_ALIVE))
    this.order = new ProbeOrder(universe, () => rng.next())
    this.fd = new FailureDetector({ heartbeatIntervalMs: cfg.probeIntervalMs, ...cfg.detector })
    this.clock = new HlcClock({ node: `n${id}` })
  }

  /** a member of the starting roster begins its timers, staggered */
  start (now: number): void {
    this.io.timer(now + this.rng.next() * this.cfg.probeIntervalMs, 'probe', 0)
    this.io.timer(now + this.rng.next() * this.cfg.syncIntervalMs, 'sync', 0)
  }

  /** a new member asks the first of `seeds` to let it in */
  join (seeds: number[], now: number): void {
    this.seeds = seeds
    this.tryJoin(now)
  }

  write (key: string, value: number, now: number): void {
    const entry = { value, hlc: this.clock.now(SIM_EPOCH_MS + now), author: `n${this.id}` }
    this.kv = lwwApply(this.kv, key, entry)
    this.kvUpdates.put(key, { key, entry })
    this.armGossip(now)
  }

  fire (kind: TimerKind, token: number, scheduledAt: number, now: number): void {
    const lag = now - scheduledAt
    if (this.cfg.localHealth) this.fd.recordLocalLag(lag, now)
    switch (kind) {
      case 'probe': return this.probeTick(now)
      case 'probe-timeout': return this.probeTimeout(token, lag, now)
      case 'gossip': return this.gossipTick(now)
      case 'sync': return this.syncTick(now)
      case 'fd':
        // a late check first reads what arrived meanwhile: a refutation may be waiting
        if (this.cfg.localHealth && lag > 0) return this.io.timer(now, 'fd', token, true)
        return this.fdTick(token, now)
      case 'join-retry': if (!this.joined) this.tryJoin(now); return
    }
  }

  handle (from: number, msg: Message, now: number): void {
    // anything straight from a suspect is a sign of life: hold the timer until it falls silent again
    if (this.suspecters.has(from)) this.fd.recordProbe(String(from), true, now)
    switch (msg.kind) {
      case 'ping':
        this.mergeUpdates(msg.updates, now)
        this.io.send(from, { kind: 'ack', seq: msg.seq, subject: this.id, updates: this.piggy() })
        return
      case 'ack': return this.onAck(msg.seq, msg.subject, msg.updates, now)
      case 'ping-req': {
        this.mergeUpdates(msg.updates, now)
        const seq = ++this.seq
        this.relays.set(seq, { to: from, seq: msg.seq, target: msg.target })
        if (this.relays.size > MAX_RELAYS) this.relays.delete(this.relays.keys().next().value as number)
        this.io.send(msg.target, { kind: 'ping', seq, updates: this.piggyTo(msg.target) })
        return
      }
      case 'gossip':
        this.mergeUpdates(msg.updates, now)
        this.mergeKv(msg.kv, now)
        return
      case 'join':
        this.merge(from, keyOf(0, RANK_ALIVE), from, now)
        this.io.send(from, this.syncMessage(true))
        return
      case 'sync':
        // memberlist's rule: a death learned in a push-pull only makes the member suspect,
        // so a member declared dead on the other side of a partition can still refute it
        for (const [member, key] of msg.entries) this.merge(member, rankOf(key) === RANK_DEAD ? key - 1 : key, -1, now)
        this.mergeKv(msg.kv, now)
        if (!msg.reply) this.io.send(from, this.syncMessage(true))
        else if (!this.joined) this.becomeMember(now)
    }
  }

  private tryJoin (now: number): void {
    const seed = this.seeds.shift()
    if (seed === undefined) return
    this.seeds.push(seed)
    this.io.send(seed, { kind: 'join' })
    this.io.timer(now + this.cfg.joinRetryMs, 'join-retry', 0)
  }

  private becomeMember (now: number): void {
    this.joined = true
    this.start(now)
    if (this.updates.size > 0 || this.kvUpdates.size > 0) this.armGossip(now)
  }

  private limit (): number {
    return retransmitLimit(this.cfg.retransmitMult, this.view.liveCount)
  }

  private piggy (): Update[] {
    return this.updates.take(this.cfg.piggyback, this.limit())
  }

  /**
   * Lifeguard's buddy system: a ping to a member this node holds suspect carries the
   * suspicion first, so the member refutes on its next turn and its ack brings the answer
   */
  private piggyTo (target: number): Update[] {
    const out = this.piggy()
    const cur = this.view.get(target)
    if (rankOf(cur) === RANK_SUSPECT) out.unshift({ member: target, key: cur, from: this.suspecters.has(target) ? this.id : -1, urgent: false })
    return out
  }

  private syncMessage (reply: boolean): Message {
    const kv: KvUpdate[] = []
    for (const [key, entry] of this.kv) kv.push({ key, entry })
    return { kind: 'sync', reply, entries: this.view.deltaEntries(), kv }
  }

  private probeTick (now: number): void {
    this.io.timer(now + this.cfg.probeIntervalMs, 'probe', 0)
    if (!this.joined || (this.probe != null && !this.probe.done)) return
    const target = this.order.next(i => i !== this.id && isLive(this.view.get(i)))
    if (target < 0) return
    const seq = ++this.seq
    this.probe = { seq, target, indirect: false, done: false, timeoutMs: this.cfg.probeTimeoutMs }
    this.io.send(target, { kind: 'ping', seq, updates: this.piggyTo(target) })
    this.io.timer(now + this.cfg.probeTimeoutMs, 'probe-timeout', seq)
  }

  private probeTimeout (seq: number, lag: number, now: number): void {
    const p = this.probe
    if (p == null || p.seq !== seq || p.done) return
    if (this.cfg.localHealth && lag >= (this.cfg.detector.localLagThresholdMs ?? 200)) {
      // fired late: the ack may be queued behind the stall; give it a fresh, wider wait
      this.io.timer(now + p.timeoutMs * (1 + this.fd.localHealth(now)), 'probe-timeout', seq)
      return
    }
    if (!p.indirect) {
      p.indirect = true
      p.timeoutMs = this.cfg.indirectTimeoutMs
      for (const helper of this.randomMembers(this.cfg.indirectProbes, p.target)) {
        this.io.send(helper, { kind: 'ping-req', seq, target: p.target, updates: this.piggy() })
      }
      this.io.timer(now + this.cfg.indirectTimeoutMs, 'probe-timeout', seq)
      return
    }
    p.done = true
    const cur = this.view.get(p.target)
    if (rankOf(cur) !== RANK_ALIVE) return
    const key = keyOf(incarnationOf(cur), RANK_SUSPECT)
    this.io.accused(p.target)
    this.merge(p.target, key, this.id, now)
    this.io.send(p.target, { kind: 'gossip', updates: [{ member: p.target, key, from: this.id, urgent: false }], kv: [] })
  }

  private onAck (seq: number, subject: number, updates: Update[], now: number): void {
    this.mergeUpdates(updates, now)
    const p = this.probe
    if (p != null && p.seq === seq && p.target === subject) {
      p.done = true
      return
    }
    const relay = this.relays.get(seq)
    if (relay != null && relay.target === subject) {
      this.relays.delete(seq)
      this.io.send(relay.to, { kind: 'ack', seq: relay.seq, subject, updates: this.piggy() })
    }
  }

  /** the gossip timer runs only while something is queued: an idle team costs no wakeups */
  private armGossip (now: number): void {
    if (this.gossipArmed || !this.joined) return
    this.gossipArmed = true
    this.io.timer(now + this.cfg.gossipIntervalMs, 'gossip', 0)
  }

  private gossipTick (now: number): void {
    this.gossipArmed = false
    const limit = this.limit()
    for (const to of this.randomMembers(this.cfg.gossipFanout, -1)) {
      const updates = this.updates.take(this.cfg.gossipUpdates, limit)
      const kv = this.kvUpdates.take(this.cfg.gossipUpdates, limit)
      if (updates.length === 0 && kv.length === 0) break
      this.io.send(to, { kind: 'gossip', updates, kv })
    }
    if (this.updates.size > 0 || this.kvUpdates.size > 0) this.armGossip(now)
  }

  private syncTick (now: number): void {
    this.io.timer(now + this.cfg.syncIntervalMs, 'sync', 0)
    if (!this.joined) return
    // every other time with a member held dead, as memberlist gossips to the dead: after a
    // partition heals, nothing else crosses to the other side
    const dead = this.rng.chance(0.5) ? this.view.deadMembers() : []
    if (dead.length > 0) {
      this.io.send(dead[this.rng.int(dead.length)], this.syncMessage(false))
      return
    }
    for (let tries = 0; tries < 16; tries++) {
      const to = this.rng.int(this.universe)
      if (to !== this.id && rankOf(this.view.get(to)) !== RANK_UNKNOWN) {
        this.io.send(to, this.syncMessage(false))
        return
      }
    }
  }

  /** up to `n` distinct random live members other than this node and `except` */
  private randomMembers (n: number, except: number): number[] {
    const out: number[] = []
    for (let tries = 0; tries < n * 8 && out.length < n; tries++) {
      const i = this.rng.int(this.universe)
      if (i !== this.id && i !== except && !out.includes(i) && isLive(this.view.get(i))) out.push(i)
    }
    return out
  }

  private mergeUpdates (updates: Update[], now: number): void {
    for (const u of updates) this.merge(u.member, u.key, u.from, now, u.urgent)
  }

  private mergeKv (updates: KvUpdate[], now: number): void {
    for (const u of updates) {
      if (this.kv.get(u.key) === u.entry) continue
      const next = lwwApply(this.kv, u.key, u.entry)
      if (next === this.kv) continue
      this.kv = next
      try {
        this.clock.receive(u.entry.hlc, SIM_EPOCH_MS + now)
      } catch {}
      this.kvUpdates.put(u.key, u)
      this.armGossip(now)
    }
  }

  /** merge one membership entry learned from `from` (−1: from a push-pull, no originator) */
  private merge (member: number, key: number, from: number, now: number, urgent = false): void {
    if (member === this.id) return this.aboutMe(key, from, now)
    const old = this.view.merge(member, key)
    if (old < 0) {
      if (key === this.view.get(member) && rankOf(key) === RANK_SUSPECT && from >= 0) this.confirm(member, from, now)
      return
    }
    this.io.viewChanged(member, old, key)
    // a push-pull's suspicion (stale, no timer anywhere) goes to the member only, to refute
    if (from < 0 && rankOf(key) === RANK_SUSPECT) this.io.send(member, { kind: 'gossip', updates: [{ member, key, from, urgent: false }], kv: [] })
    else this.updates.put({ member, key, from, urgent: urgent && rankOf(key) === RANK_ALIVE })
    this.armGossip(now)
    const peer = String(member)
    this.suspecters.delete(member)
    this.fd.remove(peer)
    if (rankOf(key) !== RANK_SUSPECT) return
    // a suspicion with no originator (from a push-pull) is old news: it is passed on so the
    // member can refute it, but starts no timer; if the member is really gone, a probe finds it
    if (from < 0) return
    this.fd.recordHeartbeat(peer, now - SUSPICION_ENTRY_SILENCE_MS)
    this.suspecters.set(member, new Set())
    this.onTransitions(this.fd.evaluate(now), now)
    this.confirm(member, from, now)
  }

  private confirm (member: number, from: number, now: number): void {
    const seen = this.suspecters.get(member)
    if (seen == null || seen.has(from)) return
    seen.add(from)
    if (from !== this.id) this.fd.recordSuspicionFrom(String(member), String(from), now)
    // a new independent suspicion is news: pass it on, as memberlist does
    this.updates.put({ member, key: this.view.get(member), from, urgent: false })
    this.armGossip(now)
    this.scheduleFd(now)
  }

  /**
   * A suspicion with an originator has a timer running somewhere: its refutation is urgent,
   * even if an older one already answers it (that one may still be queued, or spent).
   */
  private aboutMe (key: number, from: number, now: number): void {
    const rank = rankOf(key)
    const old = incarnationOf(key) < this.incarnation
    if ((rank !== RANK_SUSPECT && rank !== RANK_DEAD) || (old && from < 0)) return
    if (!old) {
      this.incarnation = incarnationOf(key) + 1
      this.io.refuted()
    }
    const mine = keyOf(this.incarnation, RANK_ALIVE)
    this.view.merge(this.id, mine)
    this.updates.put({ member: this.id, key: mine, from: this.id, urgent: from >= 0 })
    this.armGossip(now)
  }

  private scheduleFd (now: number): void {
    const at = this.fd.nextCheck(now)
    if (!(at < this.fdAt)) return
    this.fdAt = at
    this.io.timer(at, 'fd', ++this.fdToken)
  }

  private fdTick (token: number, now: number): void {
    if (token !== this.fdToken) return
    this.fdAt = Infinity
    this.onTransitions(this.fd.evaluate(now), now)
    this.scheduleFd(now)
  }

  private onTransitions (transitions: Transition[], now: number): void {
    for (const t of transitions) {
      if (t.to !== 'dead') continue
      const member = Number(t.peer)
      const cur = this.view.get(member)
      if (rankOf(cur) !== RANK_SUSPECT) continue
      this.io.declared(member, [...this.suspecters.get(member) ?? []])
      this.merge(member, keyOf(incarnationOf(cur), RANK_DEAD), this.id, now)
    }
  }
}

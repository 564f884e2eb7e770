/**
 * The shell around the pure nodes: virtual time, the event queue, the network, slow
 * members' stalls, the scenario's actions, and the figures. Everything random comes from
 * one seed through forked `Rng`s, and events at the same virtual ms run in the order they
 * were scheduled, so a run is a function of its scenario.
 */
import { stateHash } from '../state/crdt/hash.js'
import { compareLwwEntries, lwwEntries } from '../state/crdt/lww-map.js'
import { RANK_ALIVE, keyOf } from './membership.js'
import type { Message, NodeIo, TimerKind } from './messages.js'
import { Metrics, type Verdict } from './metrics.js'
import { Network } from './network.js'
import { EventQueue } from './queue.js'
import { Rng } from './rng.js'
import type { Scenario } from './scenario.js'
import { SwimNode } from './swim-node.js'

type Ev =
  | { t: 'msg', to: number, from: number, msg: Message }
  | { t: 'timer', node: number, kind: TimerKind, token: number, at: number }
  | { t: 'call', fn: () => void }

/** deferred after a stall: timers run before messages, as in Node's event loop */
const CLS_TIMER_AFTER_STALL = 0
const CLS_MSG_AFTER_STALL = 2
/** a `setImmediate`: after the messages that were waiting */
const CLS_AFTER_INPUT = 3
const SAMPLE_MS = 50

export interface WorldResult {
  metrics: Metrics
  endedAt: number
  firstJoinAt: number
  joinLatencyMs: number[]
  convergedAt: number
  minority: number
  healConvergedAt: number
  stateConvergedAt: number
  digests: number
  keys: number
  events: number
  messages: number
  lost: number
}

export class World {
  readonly nodes: SwimNode[]
  readonly up: Uint8Array
  readonly metrics: Metrics
  private readonly q = new EventQueue<Ev>()
  private readonly net: Network
  private readonly slow: Uint8Array
  private readonly stallUntil: Float64Array
  private readonly nextStall: Float64Array
  private readonly stallRng: Rng
  private readonly rng: Rng
  private readonly sides: Uint8Array
  private partitionedEver = false
  private now = 0
  private events = 0
  private messages = 0
  private lost = 0
  private readonly joinStart = new Map<number, number>()
  private readonly joinLatency: number[] = []
  private convergedAt = NaN
  private healConvergedAt = NaN
  private stateConvergedAt = NaN
  private stopped = false
  private minority = 0

  constructor (private readonly sc: Scenario) {
    const n = sc.peers
    const root = new Rng(sc.seed)
    this.rng = root.fork()
    this.net = new Network(sc.net, root.fork())
    this.stallRng = root.fork()
    const initial = n - sc.joiners
    const base = new Int32Array(n)
    for (let i = 0; i < initial; i++) base[i] = keyOf(0, RANK_ALIVE)
    this.up = new Uint8Array(n).fill(1)
    this.slow = new Uint8Array(n)
    this.sides = new Uint8Array(n)
    this.stallUntil = new Float64Array(n)
    this.nextStall = new Float64Array(n).fill(Infinity)
    this.nodes = []
    for (let i = 0; i < n; i++) this.nodes.push(new SwimNode(i, n, base, initial, sc.swim, this.io(i), root.fork()))
    this.metrics = new Metrics(n, i => this.nodes[i].view)
    this.metrics.startWith(initial)
    this.plan(initial)
  }

  /** pick who is killed, cut off and slow (distinct members of the starting roster), and schedule it */
  private plan (initial: number): void {
    const sc = this.sc
    const order = this.rng.shuffle(Array.from({ length: initial }, (_, i) => i))
    const kills = order.splice(0, Math.min(sc.kills, Math.max(0, initial - 1)))
    this.minority = sc.partitionFraction > 0 ? Math.min(order.length - 1, Math.max(2, Math.round(sc.peers * sc.partitionFraction))) : 0
    if (sc.partitionMax > 0) this.minority = Math.min(this.minority, sc.partitionMax)
    const cut = order.splice(0, Math.max(0, this.minority))
    const slow = order.splice(0, Math.round(sc.peers * sc.slowFraction))
    for (const s of slow) {
      this.slow[s] = 1
      this.nextStall[s] = this.stallRng.exp(sc.stallGapMs)
    }
    for (let i = 0; i < initial; i++) this.nodes[i].start(0)
    for (let j = initial; j < sc.peers; j++) {
      const at = sc.joinAtMs + this.rng.next() * sc.joinSpreadMs
      const seeds = [0, 1, 2].map(() => this.rng.int(initial))
      this.call(at, () => {
        this.joinStart.set(j, this.now)
        this.nodes[j].join(seeds, this.now)
      })
    }
    kills.forEach((k, i) => this.call(sc.killAtMs + i * 500, () => {
      this.up[k] = 0
      this.metrics.killed(k, this.now)
    }))
    if (cut.length > 0) {
      this.call(sc.partitionAtMs, () => {
        for (const c of cut) this.sides[c] = 1
        this.partitionedEver = true
        this.net.split(this.sides)
      })
      this.call(sc.healAtMs, () => this.net.heal())
    }
    const writesUntil = cut.length > 0 ? sc.healAtMs : sc.endMs
    if (sc.writesPerSec > 0) {
      const gap = 1000 / sc.writesPerSec
      for (let t = sc.writeFromMs, v = 1; t < writesUntil; t += gap, v++) {
        const value = v
        this.call(t, () => {
          const w = this.rng.int(sc.peers)
          if (this.up[w] === 1 && this.nodes[w].joined) this.nodes[w].write(`k${this.rng.int(sc.writeKeys)}`, value, this.now)
        })
      }
    }
    this.call(sc.joinAtMs, () => this.sample())
  }

  private call (at: number, fn: () => void): void {
    this.q.push(at, { t: 'call', fn })
  }

  private io (i: number): NodeIo {
    return {
      send: (to, msg) => {
        this.messages++
        const d = this.net.delay(i, to)
        if (d < 0) this.lost++
        else this.q.push(this.now + d, { t: 'msg', to, from: i, msg })
      },
      timer: (at, kind, token, afterInput) => this.q.push(at, { t: 'timer', node: i, kind, token, at }, afterInput === true ? CLS_AFTER_INPUT : 1),
      viewChanged: (member, oldKey, newKey) => this.metrics.viewChanged(i, member, oldKey, newKey, this.now),
      accused: member => this.metrics.accused(this.verdict(i, member), this.slow[i] === 1 && this.slow[member] === 0, this.slow[member] === 1),
      declared: (member, originators) => this.metrics.declared(this.declaredVerdict(i, member, originators), this.slow[i] === 1 && this.slow[member] === 0,
        this.slow[member] === 1, this.partitionedEver && !this.net.partitioned),
      refuted: () => this.metrics.refutations++
    }
  }

  private verdict (by: number, member: number): Verdict {
    if (this.up[member] === 0) return 'true'
    if (this.partitionedEver && this.sides[by] !== this.sides[member]) return 'partition'
    return 'false'
  }

  /**
   * A death declared from a suspicion that someone raised across the partition is the
   * partition's doing, even when the declarer is on the member's side (the stale suspicion
   * reached it after the heal), not a false positive of the detector.
   */
  private declaredVerdict (by: number, member: number, originators: number[]): Verdict {
    const v = this.verdict(by, member)
    if (v !== 'false' || !this.partitionedEver) return v
    return originators.some(o => this.sides[o] !== this.sides[member]) ? 'partition' : v
  }

  /** whether node `i` is stalled at `now`, rolling its stall schedule forward */
  private stalled (i: number): boolean {
    if (this.slow[i] === 0) return false
    while (this.nextStall[i] <= this.now) {
      const end = this.nextStall[i] + this.sc.stallMinMs + this.stallRng.next() * (this.sc.stallMaxMs - this.sc.stallMinMs)
      this.stallUntil[i] = Math.max(this.stallUntil[i], end)
      this.nextStall[i] = end + this.stallRng.exp(this.sc.stallGapMs)
    }
    return this.now < this.stallUntil[i]
  }

  run (): WorldResult {
    const end = this.sc.endMs
    while (!this.stopped && this.q.size > 0 && this.q.peekTime() <= end) {
      const item = this.q.pop()
      if (item === undefined) break
      this.now = item.at
      this.events++
      const ev = item.event
      if (ev.t === 'call') {
        ev.fn()
      } else if (ev.t === 'msg') {
        if (this.up[ev.to] === 0) continue
        if (this.stalled(ev.to)) {
          this.q.push(this.stallUntil[ev.to], ev, CLS_MSG_AFTER_STALL)
          continue
        }
        const node = this.nodes[ev.to]
        const was = node.joined
        node.handle(ev.from, ev.msg, this.now)
        if (!was && node.joined) {
          this.metrics.joined(ev.to)
          this.joinLatency.push(this.now - (this.joinStart.get(ev.to) ?? this.now))
        }
      } else {
        if (this.up[ev.node] === 0) continue
        if (this.stalled(ev.node)) {
          this.q.push(this.stallUntil[ev.node], ev, CLS_TIMER_AFTER_STALL)
          continue
        }
        this.nodes[ev.node].fire(ev.kind, ev.token, ev.at, this.now)
      }
    }
    return this.result()
  }

  /** the periodic check of the figures still pending; stops the run when none is */
  private sample (): void {
    const m = this.metrics
    const sc = this.sc
    m.checkDetections(this.now)
    const joinsDone = this.joinStart.size === sc.joiners && this.joinLatency.length === sc.joiners
    if (Number.isNaN(this.convergedAt) && joinsDone && m.converged(this.up)) this.convergedAt = this.now
    const healed = this.minority > 0 && this.now >= sc.healAtMs
    if (healed && Number.isNaN(this.healConvergedAt) && m.converged(this.up)) this.healConvergedAt = this.now
    if (healed && Number.isNaN(this.stateConvergedAt) && this.sameState()) this.stateConvergedAt = this.now
    const partitionDone = this.minority === 0 || (!Number.isNaN(this.healConvergedAt) && !Number.isNaN(this.stateConvergedAt))
    const killsDone = this.now > sc.killAtMs + sc.kills * 500 && !m.detectionsPending
    if (!Number.isNaN(this.convergedAt) && killsDone && partitionDone) {
      this.stopped = true
      return
    }
    this.call(this.now + SAMPLE_MS, () => this.sample())
  }

  private liveNodes (): SwimNode[] {
    return this.nodes.filter(n => this.up[n.id] === 1 && n.joined)
  }

  private sameState (): boolean {
    const live = this.liveNodes()
    const ref = live[0].kv
    for (const node of live) {
      const kv = node.kv
      if (kv === ref) continue
      if (kv.size !== ref.size) return false
      for (const [key, entry] of ref) {
        const other = kv.get(key)
        if (other === undefined || (other !== entry && compareLwwEntries(other, entry) !== 0)) return false
      }
    }
    return true
  }

  private result (): WorldResult {
    const live = this.liveNodes()
    // the digest check is the partition's figure: without one, writes may still be in flight
    const digests = new Set(this.minority > 0 ? live.map(n => stateHash(lwwEntries(n.kv))) : [])
    return {
      metrics: this.metrics,
      endedAt: this.now,
      firstJoinAt: Math.min(...this.joinStart.values()),
      joinLatencyMs: this.joinLatency,
      convergedAt: this.convergedAt,
      minority: this.minority,
      healConvergedAt: this.healConvergedAt,
      stateConvergedAt: this.stateConvergedAt,
      digests: digests.size,
      keys: live.length > 0 ? live[0].kv.size : 0,
      events: this.events,
      messages: this.messages,
      lost: this.lost
    }
  }
}

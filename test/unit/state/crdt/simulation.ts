/**
 * A seeded random-delivery network for CRDT replicas (the Yjs "test connector" idea):
 * ops are broadcast, then delivered in random order, duplicated, dropped and cut by a
 * partition; anti-entropy rounds exchange version vectors and stream what is missing.
 */
import {
  HlcClock, compareHlc, lwwDelete, lwwEmpty, lwwSet, rwAdd, rwEmpty, rwObserved, rwRemove, rwTag, vvAdvance,
  vvMissing, type Hlc, type LwwMap, type RwSet, type VersionVector
} from '../../../../src/state/crdt/index.js'
import { rng } from '../../../helpers/rng.js'

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1) */
export const mulberry32 = rng

export type Op = { author: string, seq: number, hlc: Hlc } & (
  | { kind: 'set', key: string, value: number }
  | { kind: 'del', key: string }
  | { kind: 'add', element: string }
  | { kind: 'rem', element: string, covers: readonly string[] }
)

export interface State { map: LwwMap<number>, set: RwSet }

export const emptyState = (): State => ({ map: lwwEmpty(), set: rwEmpty() })

export function applyOp (state: State, op: Op): State {
  switch (op.kind) {
    case 'set': return { ...state, map: lwwSet(state.map, op.key, op.value, op.hlc, op.author) }
    case 'del': return { ...state, map: lwwDelete(state.map, op.key, op.hlc, op.author) }
    case 'add': return { ...state, set: rwAdd(state.set, op.element, rwTag(op.author, op.seq), op.hlc) }
    case 'rem': return { ...state, set: rwRemove(state.set, op.element, rwTag(op.author, op.seq), op.hlc, op.covers) }
  }
}

/** Applies ops one by one in the canonical (hlc) order, as a single reference replica. */
export function applyCanonically (ops: Iterable<Op>): State {
  return [...ops].sort((a, b) => compareHlc(a.hlc, b.hlc)).reduce(applyOp, emptyState())
}

export const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`)
export const ELEMENTS = Array.from({ length: 30 }, (_, i) => `el-${i}`)
const MAX_CLOCK_OFFSET_MS = 10_000

export class Replica {
  readonly clock: HlcClock
  state: State = emptyState()
  vv: VersionVector = {}
  /** Every op this replica holds, by author then seq: what it can serve to anti-entropy. */
  readonly log = new Map<string, Map<number, Op>>()
  private seq = 0
  /** This machine's clock error, ms; it steps (sometimes backwards) during the run. */
  private offsetMs: number

  constructor (readonly id: string, private readonly rng: () => number) {
    this.clock = new HlcClock({ node: id })
    this.offsetMs = Math.floor((rng() * 2 - 1) * MAX_CLOCK_OFFSET_MS / 2)
  }

  physical (time: number): number {
    if (this.rng() < 0.002) { // NTP step, often backwards
      this.offsetMs = Math.max(-MAX_CLOCK_OFFSET_MS, Math.min(MAX_CLOCK_OFFSET_MS, this.offsetMs + Math.floor((this.rng() - 0.7) * 8_000)))
    }
    return time + this.offsetMs
  }

  /** Authors one random op at global time `time`, applies it locally and returns it. */
  author (time: number): Op {
    const rng = this.rng
    const hlc = this.clock.now(this.physical(time))
    const base = { author: this.id, seq: ++this.seq, hlc }
    const r = rng()
    const key = KEYS[Math.floor(rng() * KEYS.length)]
    const element = ELEMENTS[Math.floor(rng() * ELEMENTS.length)]
    const op: Op = r < 0.35
      ? { ...base, kind: 'set', key, value: Math.floor(rng() * 1_000) }
      : r < 0.5
        ? { ...base, kind: 'del', key }
        : r < 0.8
          ? { ...base, kind: 'add', element }
          : { ...base, kind: 'rem', element, covers: rwObserved(this.state.set, element) }
    this.hold(op)
    return op
  }

  /** Receives a remote op: merge clocks, apply (duplicates too: application is idempotent). */
  receive (op: Op, time: number): void {
    this.clock.receive(op.hlc, this.physical(time))
    this.hold(op)
  }

  private hold (op: Op): void {
    this.state = applyOp(this.state, op)
    let byAuthor = this.log.get(op.author)
    if (byAuthor === undefined) this.log.set(op.author, byAuthor = new Map())
    byAuthor.set(op.seq, op)
    for (let next = op.seq; byAuthor.has(next); next++) {
      const advanced = vvAdvance(this.vv, op.author, next)
      if (advanced === this.vv) break
      this.vv = advanced
    }
  }
}

export interface SimOptions {
  seed: number
  replicas: number
  ops: number
  /** Ops generated while the partition stands: [from, to). */
  partition: [number, number]
  dropRate: number
  duplicateRate: number
  /** Called once, mid-partition, with the replicas. */
  onMidPartition?: (replicas: readonly Replica[]) => void
}

export interface SimStats {
  generated: number
  delivered: number
  dropped: number
  partitionDropped: number
  duplicated: number
  antiEntropyOps: number
  antiEntropyRounds: number
}

/** Runs the network to quiescence; every op ends up everywhere only through the protocol. */
export function simulate (opts: SimOptions): { replicas: Replica[], ops: Op[], stats: SimStats } {
  const rng = mulberry32(opts.seed)
  const replicas = Array.from({ length: opts.replicas }, (_, i) => new Replica(`r${i}`, rng))
  const side = (i: number): number => (i < 2 ? 0 : 1)
  const stats: SimStats = { generated: 0, delivered: 0, dropped: 0, partitionDropped: 0, duplicated: 0, antiEntropyOps: 0, antiEntropyRounds: 0 }
  const inflight: Array<{ to: number, op: Op }> = []
  const ops: Op[] = []
  let time = 1_700_000_000_000
  let partitioned = false

  const cut = (a: number, b: number): boolean => partitioned && side(a) !== side(b)
  const antiEntropy = (a: number, b: number): void => {
    for (const [from, to] of [[a, b], [b, a]]) {
      for (const { author, fromSeq, toSeq } of vvMissing(replicas[to].vv, replicas[from].vv)) {
        for (let seq = fromSeq; seq <= toSeq; seq++) {
          const op = replicas[from].log.get(author)?.get(seq)
          if (op === undefined) throw new Error(`r${from} advertises ${author}:${seq} but lacks it`)
          replicas[to].receive(op, time)
          stats.antiEntropyOps++
        }
      }
    }
  }

  let midPartitionDone = false
  while (stats.generated < opts.ops) {
    time += Math.floor(rng() * 3)
    partitioned = stats.generated >= opts.partition[0] && stats.generated < opts.partition[1]
    if (partitioned && !midPartitionDone && stats.generated >= (opts.partition[0] + opts.partition[1]) / 2) {
      midPartitionDone = true
      opts.onMidPartition?.(replicas)
    }
    const r = rng()
    if (r < 0.18 || inflight.length === 0) {
      const from = Math.floor(rng() * replicas.length)
      const op = replicas[from].author(time)
      ops.push(op)
      stats.generated++
      for (let to = 0; to < replicas.length; to++) if (to !== from) inflight.push({ to, op })
    } else if (r < 0.98) {
      const i = Math.floor(rng() * inflight.length)
      const msg = inflight[i]
      inflight[i] = inflight[inflight.length - 1]
      inflight.pop()
      if (cut(Number(msg.op.author.slice(1)), msg.to)) {
        stats.partitionDropped++
      } else if (rng() < opts.dropRate) {
        stats.dropped++
      } else {
        replicas[msg.to].receive(msg.op, time)
        stats.delivered++
        if (rng() < opts.duplicateRate) {
          inflight.push(msg) // delivered again, later
          stats.duplicated++
        }
      }
    } else {
      const a = Math.floor(rng() * replicas.length)
      const b = Math.floor(rng() * replicas.length)
      if (a !== b && !cut(a, b)) antiEntropy(a, b)
    }
  }

  // heal: what is still in flight arrives (in random order), then anti-entropy until quiet
  partitioned = false
  while (inflight.length > 0) {
    const i = Math.floor(rng() * inflight.length)
    const { to, op } = inflight[i]
    inflight[i] = inflight[inflight.length - 1]
    inflight.pop()
    replicas[to].receive(op, time++)
    stats.delivered++
  }
  for (let changed = true; changed && stats.antiEntropyRounds < 10; stats.antiEntropyRounds++) {
    const before = stats.antiEntropyOps
    for (let a = 0; a < replicas.length; a++) {
      for (let b = a + 1; b < replicas.length; b++) antiEntropy(a, b)
    }
    changed = stats.antiEntropyOps !== before
  }
  return { replicas, ops, stats }
}

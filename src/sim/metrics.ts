/**
 * The figures of a run, kept incrementally so a check costs O(members), not O(members²):
 * for every member, how many counted views (nodes that are up and have joined) list it
 * (alive or suspect), and for every killed member how many list it dead.
 */
import { RANK_ALIVE, RANK_DEAD, RANK_SUSPECT, rankOf, type View } from './membership.js'

export type Verdict = 'true' | 'false' | 'partition'

export interface Percentiles { count: number, p50: number, p99: number, max: number }

export function percentiles (values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN }
  const s = [...values].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]
  return { count: s.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(s[s.length - 1]) }
}

/** listed as a member of the team: alive or suspect (a suspect is still in, until declared dead) */
const listed = (key: number): boolean => rankOf(key) === RANK_ALIVE || rankOf(key) === RANK_SUSPECT

export const round = (x: number): number => Math.round(x * 10) / 10

export class Metrics {
  readonly counted: Uint8Array
  countedTotal = 0
  private readonly knownAlive: Int32Array
  /** killed member → virtual time of the kill */
  readonly killedAt = new Map<number, number>()
  private readonly knownDead = new Map<number, number>()
  /** killed member → time every counted node listed it dead */
  readonly allDetectedAt = new Map<number, number>()
  readonly detectionMs: number[] = []
  falseSuspicions = 0
  falseDead = 0
  partitionDead = 0
  trueDead = 0
  /** raised or declared by a slow node against a member that is not slow */
  slowFalseSuspicions = 0
  slowFalseDead = 0
  /** false dead declared after a partition healed (of these, of members that stall) */
  falseDeadAfterHeal = 0
  falseDeadOfSlow = 0
  suspicionsOfSlow = 0
  refutations = 0

  constructor (private readonly n: number, private readonly views: (i: number) => View) {
    this.counted = new Uint8Array(n)
    this.knownAlive = new Int32Array(n)
  }

  viewChanged (node: number, member: number, oldKey: number, newKey: number, now: number): void {
    if (this.counted[node] === 0) return
    const was = listed(oldKey) ? 1 : 0
    const is = listed(newKey) ? 1 : 0
    this.knownAlive[member] += is - was
    const killed = this.killedAt.get(member)
    if (killed !== undefined && rankOf(newKey) === RANK_DEAD && rankOf(oldKey) !== RANK_DEAD) {
      this.knownDead.set(member, (this.knownDead.get(member) ?? 0) + 1)
      this.detectionMs.push(now - killed)
    }
  }

  /** members 0..initial−1 start in the team, each knowing all the others (O(n), not O(n²)) */
  startWith (initial: number): void {
    for (let i = 0; i < initial; i++) {
      this.counted[i] = 1
      this.knownAlive[i] = initial
    }
    this.countedTotal = initial
  }

  joined (node: number): void {
    if (this.counted[node] === 1) return
    this.count(node, 1)
  }

  killed (node: number, now: number): void {
    this.killedAt.set(node, now)
    this.knownDead.set(node, 0)
    if (this.counted[node] === 1) this.count(node, -1)
  }

  private count (node: number, sign: 1 | -1): void {
    const view = this.views(node)
    for (let m = 0; m < this.n; m++) {
      const key = view.get(m)
      if (listed(key)) this.knownAlive[m] += sign
      if (rankOf(key) === RANK_DEAD && this.knownDead.has(m)) this.knownDead.set(m, (this.knownDead.get(m) ?? 0) + sign)
    }
    this.counted[node] = sign === 1 ? 1 : 0
    this.countedTotal += sign
  }

  accused (verdict: Verdict, bySlow: boolean, ofSlow: boolean): void {
    if (verdict !== 'false') return
    this.falseSuspicions++
    if (bySlow) this.slowFalseSuspicions++
    if (ofSlow) this.suspicionsOfSlow++
  }

  declared (verdict: Verdict, bySlow: boolean, ofSlow: boolean, afterHeal: boolean): void {
    if (verdict === 'false') this.falseDead++
    if (verdict === 'false' && afterHeal) this.falseDeadAfterHeal++
    if (verdict === 'false' && ofSlow) this.falseDeadOfSlow++
    if (verdict === 'false' && bySlow) this.slowFalseDead++
    if (verdict === 'partition') this.partitionDead++
    if (verdict === 'true') this.trueDead++
  }

  /** every up member (`up`) is listed (alive or suspect) by every counted node, and every up node is counted */
  converged (up: Uint8Array): boolean {
    for (let m = 0; m < this.n; m++) {
      if (up[m] === 0) continue
      if (this.counted[m] === 0 || this.knownAlive[m] !== this.countedTotal) return false
    }
    return true
  }

  /** record the kills every counted node now lists dead */
  checkDetections (now: number): void {
    for (const [member, count] of this.knownDead) {
      if (!this.allDetectedAt.has(member) && count >= this.countedTotal) this.allDetectedAt.set(member, now)
    }
  }

  get detectionsPending (): boolean {
    return this.allDetectedAt.size < this.killedAt.size
  }
}

/**
 * The share rule of placement: which of the machines with a free slot takes the next task.
 *
 * Each eligible candidate is due a share of this coordinator's work: its capacity (its
 * slots not taken by other coordinators' work, capped by the agent's own slot cap) times its
 * quality (load, memory, reputation; halved when suspect), over the sum of all. The rtt
 * only ranks: a slower link costs a task milliseconds, not a share of the work. A
 * machine whose slots are busy with this coordinator's own tasks keeps its share: they
 * free up as those tasks end.
 *
 * The next task goes to a machine with a free slot, drawn with probability in proportion to
 * how far it is behind its share of the recent work (`recent`: what this coordinator
 * placed on each, decayed by the caller). A burst on idle machines then spreads in
 * proportion to their shares, and a machine that got less than its due so far catches up.
 *
 * A machine more than a quarter of its capacity ahead of its share is held back: it takes
 * nothing until the others catch up (their tasks finish, or the record of its lead
 * decays). Without that, the machine that hears soonest that a slot freed takes the most:
 * this daemon always, since a short task ends here before a peer's answer to an offer is
 * even back.
 * The lead allowed is a quarter round of its slots: enough that a burst over idle machines
 * is not held back, nor work whose length, not the messaging, sets how fast slots free (on
 * a machine twice as fast as the rest, tasks as long as the decay's time constant, 30 s,
 * or longer); shorter tasks on a faster machine are, the price of the spread.
 */
import { FULL_SHARE_REPUTATION, MIN_QUALITY, PLACEMENT_WEIGHTS, PROBATION_FACTOR, SUSPECT_FACTOR, type Candidate } from './placement-types.js'

const clamp01 = (n: number): number => Math.min(1, Math.max(0, n))

/** load and memory as values in [0, 1] (1 best), before weighting */
export interface Fitness { load: number, memory: number }

/**
 * A candidate's quality in [MIN_QUALITY, 1]: the weighted mean of its load, memory and
 * reputation values (the score's weights), halved when suspect. Reputation counts in full from
 * `FULL_SHARE_REPUTATION` up (a stranger is not worth less than this daemon), scaled
 * down below it and halved on probation.
 */
export function qualityOf (fit: Fitness, reputation: Candidate['reputation'], suspect: boolean): number {
  const w = PLACEMENT_WEIGHTS
  const score = Number.isFinite(reputation.score) ? reputation.score : 0
  const rep = clamp01(score / FULL_SHARE_REPUTATION) * (reputation.status === 'probation' ? PROBATION_FACTOR : 1)
  const sum = w.load * clamp01(fit.load) + w.memory * clamp01(fit.memory) + w.reputation * rep
  const q = sum / (w.load + w.memory + w.reputation)
  return Math.max(MIN_QUALITY, q * (suspect ? SUSPECT_FACTOR : 1))
}

export interface Sharer {
  peerId: string
  /** slots this coordinator may use there: its slots less other coordinators' work */
  capacity: number
  quality: number
  recent: number
  /** free slots now */
  freeSlots: number
}

export interface ShareView {
  /** peer id → its share in [0, 1] (all 0 when no candidate has capacity) */
  share: Map<string, number>
  /** the recent placements of all of them */
  total: number
}

export function sharesOf (all: readonly Sharer[]): ShareView {
  const weight = all.map(s => Math.max(0, s.capacity) * s.quality)
  const sum = weight.reduce((a, b) => a + b, 0)
  const share = new Map(all.map((s, i) => [s.peerId, sum > 0 ? weight[i] / sum : 0]))
  return { share, total: all.reduce((a, s) => a + Math.max(0, s.recent), 0) }
}

/** how many tasks `s` got beyond its share of the recent work */
export function lead (s: Sharer, view: ShareView): number {
  return Math.max(0, s.recent) - (view.share.get(s.peerId) ?? 0) * view.total
}

/** whether `s` is held back: more than a quarter round of its slots ahead of its share */
export function isHeld (s: Sharer, view: ShareView): boolean {
  return lead(s, view) > Math.max(1, s.capacity / 4)
}

/** An index in [0, n) from `random`, whatever it returns. */
function draw (random: () => number, weights: readonly number[]): number {
  const sum = weights.reduce((a, b) => a + b, 0)
  const r = random()
  const x = (Number.isFinite(r) ? clamp01(r) : 0) * sum
  let acc = 0
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]
    if (x < acc) return i
  }
  return weights.length - 1
}

/**
 * Up to `n` distinct peers of `pickable`, each drawn with probability in proportion to how
 * far it would be behind its share with one more task placed (by share alone when none is
 * behind). `pickable` is best first, so with nothing to tell them apart the first wins.
 */
export function pickByShare (pickable: readonly Sharer[], view: ShareView, n: number, random: () => number): string[] {
  const remaining = [...pickable]
  const chosen: string[] = []
  while (chosen.length < n && remaining.length > 0) {
    const behind = remaining.map(s => Math.max(0, (view.share.get(s.peerId) ?? 0) * (view.total + 1) - Math.max(0, s.recent)))
    const byShare = remaining.map(s => view.share.get(s.peerId) ?? 0)
    const weights = behind.some(b => b > 0) ? behind : byShare.some(b => b > 0) ? byShare : remaining.map(() => 1)
    const i = remaining.length === 1 ? 0 : draw(random, weights)
    chosen.push(remaining[i].peerId)
    remaining.splice(i, 1)
  }
  return chosen
}

/**
 * Task placement: which members could run a task, how good each is, and which to offer
 * it to. Pure and explainable: no I/O, no clock, randomness injected, and every candidate
 * ends up in exactly one of `ranked` (free slot), `held` (free slot, ahead of its share),
 * `full` (eligible, busy) or `refused` (with the reason), which is what `paired task
 * explain` prints.
 *
 * A candidate's score ranks it; it is a weighted sum of parts, each a value in [0, 1] times
 * its weight (the weights sum to 1, see {@link PLACEMENT_WEIGHTS}):
 * - `slots` 0.55 × the free fraction of its task slots (of the agent's own slot cap too,
 *   when it declares one: the smaller fraction counts);
 * - `load` 0.15 × (1 − load per core), load per core = `load1 / cores`, capped at 1;
 * - `memory` 0.10 × free memory over {@link MEMORY_FULL_MB}, capped at 1;
 * - `reputation` 0.15 × the reputation score, halved on probation;
 * - `rtt` 0.05 × `RTT_HALF_MS / (RTT_HALF_MS + rtt)`; unknown (null) is neutral (0.5);
 *   this daemon makes no network hop, so its unknown rtt counts as 0.
 * Being this daemon earns nothing: a task is not cheaper to coordinate here than the
 * network hop it saves is worth in spread.
 *
 * A `suspect` candidate stays eligible but its sum is multiplied by {@link SUSPECT_FACTOR}.
 * `Scored.parts` holds the weighted parts before that factor.
 *
 * Which of the ranked takes the task is the share rule (`placement-share.ts`): each is due
 * a share of this coordinator's work in proportion to its slots free of other coordinators'
 * work times its quality; the pick is drawn in proportion to how far each is behind its
 * share of the recent work, and one far ahead is held back until the others catch up.
 * Many coordinators with the same (stale) view draw differently, so they do not all land
 * on the one machine that looked best.
 */
import { DEFAULT_QUARANTINE_THRESHOLD } from '../reputation/index.js'
import { isHeld, pickByShare, qualityOf, sharesOf, type Sharer, type ShareView } from './placement-share.js'
import {
  MEMORY_FULL_MB, NEUTRAL_RTT, PLACEMENT_WEIGHTS, PROBATION_FACTOR, RTT_HALF_MS, SUSPECT_FACTOR,
  type Candidate, type Placement, type PlacementOptions, type PlacementRequest, type Refused, type ScoreParts, type Scored
} from './placement-types.js'

export type { TaskPriority } from '../state/crdt/task-lattice.js'
export type { Candidate, Placement, PlacementOptions, PlacementRequest, Refused, ScoreParts, Scored } from './placement-types.js'
export {
  FULL_SHARE_REPUTATION, MEMORY_FULL_MB, MIN_QUALITY, NEUTRAL_RTT, PLACEMENT_WEIGHTS, PROBATION_FACTOR, RTT_HALF_MS, SUSPECT_FACTOR
} from './placement-types.js'
export { explainPlacement, type ExplainPlacementOptions } from './placement-explain.js'

interface Reason { kind: string, text: string }

interface Eval {
  candidate: Candidate
  scored: Scored
  used: number
  agentCapped: boolean
  sharer: Sharer
}

const finite = (n: unknown, fallback: number): number => typeof n === 'number' && Number.isFinite(n) ? n : fallback
const clamp01 = (n: number): number => Math.min(1, Math.max(0, n))
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function refusals (c: Candidate, request: PlacementRequest, exclude: ReadonlySet<string>, threshold: number): Reason[] {
  const out: Reason[] = []
  if (c.state === 'dead') out.push({ kind: 'dead', text: 'dead: not answering heartbeats or probes' })
  else if (c.state === 'left') out.push({ kind: 'left', text: 'left the network' })
  else if (c.state !== 'alive' && c.state !== 'suspect') out.push({ kind: 'unknown state', text: `unknown state '${String(c.state)}'` })
  if (exclude.has(c.peerId)) out.push({ kind: 'excluded', text: 'excluded: already holds a replica of this task or was ruled out' })
  if (!c.agents.includes(request.agent)) {
    out.push({ kind: 'not serving', text: `does not serve agent "${request.agent}" (serves: ${c.agents.join(', ') || 'nothing'})` })
  }
  const labels = Object.entries(request.labels ?? {})
  const mismatched = labels.filter(([k, v]) => c.labels[k] !== v)
    .map(([k, v]) => `${k}=${v} (${Object.hasOwn(c.labels, k) ? `has ${k}=${c.labels[k]}` : 'not set'})`)
  if (mismatched.length > 0) out.push({ kind: 'label mismatch', text: `label${mismatched.length === 1 ? '' : 's'} ${mismatched.join(', ')}` })
  const cores = request.needs?.cores
  if (cores != null && !(finite(c.cores, 0) >= cores)) out.push({ kind: 'too few cores', text: `needs ${plural(cores, 'core')}, has ${c.cores}` })
  const memMb = request.needs?.memMb
  if (memMb != null && !(finite(c.memFreeMb, 0) >= memMb)) {
    out.push({ kind: 'too little memory', text: `needs ${memMb} MB free memory, has ${c.memFreeMb} MB` })
  }
  const { status, score } = c.reputation
  if (status === 'quarantined' || status === 'banned') {
    // the cool-off outlasts the low score: say so rather than call 0.88 "below 0.30"
    const why = status === 'banned'
      ? 'a proven forgery'
      : finite(score, 0) < threshold ? `below the quarantine threshold ${threshold.toFixed(2)}` : `fell below the quarantine threshold ${threshold.toFixed(2)}; cooling off`
    out.push({ kind: status, text: `${status}: reputation ${finite(score, 0).toFixed(2)} (${why})` })
  }
  if (c.paused != null) out.push({ kind: 'paused', text: `paused: ${c.paused}` })
  if (!(finite(c.slots, 0) > 0) && c.paused == null) out.push({ kind: 'no slots', text: 'takes no tasks (0 task slots)' })
  return out
}

function evaluate (c: Candidate): Eval {
  const slots = Math.max(0, finite(c.slots, 0))
  const busy = finite(c.running, 0) + finite(c.queued, 0)
  const inflight = finite(c.inflight, 0)
  const used = Math.max(busy, inflight)
  // what other coordinators hold there; the rest, ours included, is what we may use
  let capacity = Math.max(0, slots - Math.max(0, busy - inflight))
  const room = slots > 0 ? slots + Math.max(0, finite(c.queueAhead, 0)) : 0
  let freeSlots = room - used
  let fraction = room > 0 ? freeSlots / room : 0
  let agentCapped = false
  if (c.agentSlots != null) {
    const agentFree = finite(c.agentSlots, 0) - finite(c.agentInflight, 0)
    agentCapped = agentFree < freeSlots
    freeSlots = Math.min(freeSlots, agentFree)
    fraction = Math.min(fraction, c.agentSlots > 0 ? agentFree / c.agentSlots : 0)
    capacity = Math.min(capacity, Math.max(0, finite(c.agentSlots, 0)))
  }
  const loadPerCore = finite(c.load1, Infinity) / Math.max(1, finite(c.cores, 1))
  const rtt = c.rttMs ?? (c.self ? 0 : null)
  const fit = {
    load: 1 - clamp01(loadPerCore),
    memory: clamp01(finite(c.memFreeMb, 0) / MEMORY_FULL_MB),
    rtt: rtt == null || !Number.isFinite(rtt) ? NEUTRAL_RTT : RTT_HALF_MS / (RTT_HALF_MS + Math.max(0, rtt))
  }
  const rep = clamp01(finite(c.reputation.score, 0)) * (c.reputation.status === 'probation' ? PROBATION_FACTOR : 1)
  const w = PLACEMENT_WEIGHTS
  const parts: ScoreParts = {
    slots: w.slots * clamp01(fraction),
    load: w.load * fit.load,
    memory: w.memory * fit.memory,
    reputation: w.reputation * rep,
    rtt: w.rtt * fit.rtt
  }
  const sum = parts.slots + parts.load + parts.memory + parts.reputation + parts.rtt
  const suspect = c.state === 'suspect'
  const recent = Math.max(0, finite(c.recent, 0))
  const scored: Scored = { peerId: c.peerId, score: suspect ? sum * SUSPECT_FACTOR : sum, freeSlots, parts, share: 0, recent }
  if (suspect) scored.note = `suspect: score × ${SUSPECT_FACTOR}`
  const sharer: Sharer = { peerId: c.peerId, capacity, quality: qualityOf(fit, c.reputation, suspect), recent, freeSlots }
  return { candidate: c, scored, used, agentCapped, sharer }
}

function byScore (a: Eval, b: Eval): number {
  return b.scored.score - a.scored.score || b.scored.freeSlots - a.scored.freeSlots ||
    (a.scored.peerId < b.scored.peerId ? -1 : a.scored.peerId > b.scored.peerId ? 1 : 0)
}

const percent = (n: number): string => `${Math.round(n * 100)} %`

function heldNote (e: Eval, view: ShareView): string {
  const due = e.scored.share * view.total
  return `ahead of its share (${percent(e.scored.share)}): ${e.scored.recent.toFixed(0)} placed here lately against ${due.toFixed(0)} due; takes more once the others catch up`
}

/** Rank the candidates for `request` and choose up to `replicas` distinct executors. */
export function place (request: PlacementRequest, candidates: readonly Candidate[], options: PlacementOptions = {}): Placement {
  const random = options.random ?? Math.random
  const threshold = options.quarantineThreshold ?? DEFAULT_QUARANTINE_THRESHOLD
  const replicas = Math.max(0, Math.floor(finite(request.replicas, 1)))
  const exclude = new Set(request.exclude ?? [])
  const avoid = new Set(request.avoid ?? [])

  // one entry per peer: the first counts
  const byPeer = new Map<string, Candidate>()
  for (const c of candidates) if (!byPeer.has(c.peerId)) byPeer.set(c.peerId, c)
  const unique = [...byPeer.values()]

  const refused: Refused[] = []
  const kinds = new Map<string, string>()
  let eligible: Eval[] = []
  const avoided: Eval[] = []
  for (const c of unique) {
    const reasons = refusals(c, request, exclude, threshold)
    if (reasons.length > 0) {
      refused.push({ peerId: c.peerId, reason: reasons.map(r => r.text).join('; ') })
      kinds.set(c.peerId, reasons[0].kind)
    } else {
      (avoid.has(c.peerId) ? avoided : eligible).push(evaluate(c))
    }
  }
  if (eligible.length === 0) {
    eligible = avoided
    for (const e of avoided) {
      const note = 'ran an earlier attempt that failed; no other machine can take it'
      e.scored.note = e.scored.note == null ? note : `${e.scored.note}; ${note}`
    }
  } else {
    for (const e of avoided) {
      refused.push({ peerId: e.candidate.peerId, reason: 'avoided: ran an earlier attempt that failed, and another machine can take it' })
      kinds.set(e.candidate.peerId, 'avoided')
    }
  }
  refused.sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
  eligible.sort(byScore)
  const view = sharesOf(eligible.map(e => e.sharer))
  for (const e of eligible) e.scored.share = view.share.get(e.scored.peerId) ?? 0
  const withSlot = eligible.filter(e => e.scored.freeSlots > 0)
  const busy = eligible.filter(e => e.scored.freeSlots <= 0)
  const holds = (e: Eval): boolean => options.ignoreHold !== true && isHeld(e.sharer, view)
  const free = withSlot.filter(e => !holds(e))
  const held = withSlot.filter(holds)
  for (const e of held) {
    const note = heldNote(e, view)
    e.scored.note = e.scored.note == null ? note : `${e.scored.note}; ${note}`
  }
  const chosen = pickByShare(free.map(e => e.sharer), view, replicas, random)
  const placement: Placement = { ranked: free.map(e => e.scored), full: busy.map(e => e.scored), held: held.map(e => e.scored), refused, chosen }
  if (chosen.length < replicas) {
    placement.waiting = waitingReason(request, replicas, unique, free, busy, held, kinds)
  }
  return placement
}

function summary (kinds: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ')
}

function busyLine (busy: readonly Eval[]): string {
  const used = busy.reduce((s, e) => s + Math.min(e.used, e.candidate.slots), 0)
  const total = busy.reduce((s, e) => s + e.candidate.slots, 0)
  const capped = busy.filter(e => e.agentCapped).length
  return `${used}/${total} slots${capped > 0 ? `; ${capped} at the agent's own slot cap` : ''}`
}

function waitingReason (
  request: PlacementRequest, replicas: number, candidates: readonly Candidate[],
  free: readonly Eval[], busy: readonly Eval[], held: readonly Eval[], kinds: ReadonlyMap<string, string>
): string {
  const agent = request.agent
  if (candidates.length === 0) return 'no members known yet'
  const servers = candidates.filter(c => c.agents.includes(agent))
  if (servers.length === 0) {
    const served = [...new Set(candidates.flatMap(c => c.agents))].sort()
    return `no member serves agent "${agent}" (members serve: ${served.join(', ') || 'nothing'})`
  }
  const refusedServers = servers.filter(c => kinds.has(c.peerId))
  const rest = refusedServers.length === 0
    ? ''
    : `; ${refusedServers.length} more refused (${summary(refusedServers.map(c => kinds.get(c.peerId) ?? ''))})`
  const ahead = held.length === 0
    ? ''
    : `; ${held.length} ahead of ${held.length === 1 ? 'its' : 'their'} share of the recent work, waiting for the others to catch up`
  if (free.length > 0) {
    const others = busy.length > 0 ? `; ${busy.length} busy (${busyLine(busy)})` : ''
    return `wants ${replicas} distinct machines, only ${free.length} can take it now${others}${ahead}${rest}`
  }
  if (busy.length === 0 && held.length > 0) return `every machine that can run it is ahead of its share of the recent work${rest}`
  if (busy.length > 0) {
    const n = busy.length
    const all = refusedServers.length === 0
    const head = n === 1
      ? `the one machine that ${all ? `serves "${agent}"` : 'can run it'} is busy`
      : `all ${n} machines that ${all ? `serve "${agent}"` : 'can run it'} are busy`
    return `${head} (${busyLine(busy)})${ahead}${rest}`
  }
  // every machine that serves the agent is refused: name the constraint nobody meets
  for (const [k, v] of Object.entries(request.labels ?? {})) {
    if (!servers.some(c => c.labels[k] === v)) {
      return candidates.some(c => c.labels[k] === v)
        ? `label ${k}=${v}: no machine that serves "${agent}" has it`
        : `label ${k}=${v}: no machine has it`
    }
  }
  const cores = request.needs?.cores
  if (cores != null && !servers.some(c => c.cores >= cores)) {
    return `needs ${plural(cores, 'core')}: machines that serve "${agent}" have at most ${Math.max(...servers.map(c => c.cores))}`
  }
  const memMb = request.needs?.memMb
  if (memMb != null && !servers.some(c => c.memFreeMb >= memMb)) {
    return `needs ${memMb} MB free memory: machines that serve "${agent}" have at most ${Math.max(...servers.map(c => c.memFreeMb))} MB free`
  }
  return `no machine that serves "${agent}" can take it (${summary(refusedServers.map(c => kinds.get(c.peerId) ?? ''))})`
}


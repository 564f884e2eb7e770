/**
 * Task placement: which members could run a task, how good each is, and which to offer
 * it to. Pure and explainable: no I/O, no clock, randomness injected, and every candidate
 * ends up in exactly one of `ranked` (free slot), `full` (eligible, busy) or `refused`
 * (with the reason), which is what `paired task explain` prints.
 *
 * A candidate's score is a weighted sum of parts, each a value in [0, 1] times its weight
 * (the weights sum to 1, see {@link PLACEMENT_WEIGHTS}):
 * - `slots` 0.50 × the free fraction of its task slots (of the agent's own slot cap too,
 *   when it declares one: the smaller fraction counts). Dominant, so work spreads in
 *   proportion to slots: balancing the free fraction balances utilisation;
 * - `load` 0.15 × (1 − load per core), load per core = `load1 / cores`, capped at 1;
 * - `memory` 0.10 × free memory over {@link MEMORY_FULL_MB}, capped at 1;
 * - `reputation` 0.15 × the reputation score, halved on probation;
 * - `rtt` 0.05 × `RTT_HALF_MS / (RTT_HALF_MS + rtt)`; unknown (null) is neutral (0.5);
 *   this daemon makes no network hop, so its unknown rtt counts as 0;
 * - `locality` 0.05 for this daemon, else 0.
 *
 * A `suspect` candidate stays eligible but its sum is multiplied by {@link SUSPECT_FACTOR}.
 * `Scored.parts` holds the weighted parts before that factor.
 *
 * The pick uses power of two choices (Mitzenmacher): sample `choices` distinct candidates
 * uniformly from the best k = max(choices, ⌈ranked / 2⌉) still free and take the better.
 * Many coordinators with the same (stale) view then spread their offers over the best
 * few instead of all landing on the one machine that looked best.
 */
import { DEFAULT_QUARANTINE_THRESHOLD, type ReputationStatus } from '../reputation/index.js'

export type { TaskPriority } from '../state/crdt/task-lattice.js'

export interface Candidate {
  peerId: string
  /** this daemon (no network hop) */
  self: boolean
  state: 'alive' | 'suspect' | 'dead' | 'left'
  /** agents it serves */
  agents: string[]
  labels: Record<string, string>
  cores: number
  load1: number
  memFreeMb: number
  /** task slots (config) */
  slots: number
  /** from its last heartbeat */
  running: number
  queued: number
  /** tasks this coordinator has placed on it and not seen finish; heartbeats lag, so this counts when larger */
  inflight: number
  /** per-agent slot cap, when the agent declares one */
  agentSlots?: number
  /** this coordinator's inflight of this agent on it */
  agentInflight?: number
  reputation: { score: number, status: ReputationStatus }
  rttMs: number | null
  /** why it takes no work now, e.g. 'on battery' */
  paused?: string
}

export interface PlacementRequest {
  agent: string
  /** every key must match exactly */
  labels?: Record<string, string>
  needs?: { cores?: number, memMb?: number }
  /** executors of earlier failed attempts: used only when no other candidate is eligible */
  avoid?: string[]
  /** never (e.g. executors already holding a replica of this task) */
  exclude?: string[]
  /** distinct executors wanted; @default 1 */
  replicas?: number
}

export interface ScoreParts { slots: number, load: number, memory: number, reputation: number, rtt: number, locality: number }

export interface Scored {
  peerId: string
  score: number
  freeSlots: number
  parts: ScoreParts
  /** why the score or the choice is unusual ('suspect: score × 0.5', an avoided executor taken anyway) */
  note?: string
}

export interface Refused { peerId: string, reason: string }

export interface Placement {
  /** eligible candidates with a free slot, best first */
  ranked: Scored[]
  /** eligible but no free slot now (would take the task when one frees), best first */
  full: Scored[]
  /** ineligible, with why */
  refused: Refused[]
  /** up to `replicas` distinct peer ids from `ranked`, picked with power of two choices */
  chosen: string[]
  /** when `chosen` is shorter than `replicas`: why */
  waiting?: string
}

export interface PlacementOptions {
  /** floats in [0, 1); @default Math.random */
  random?: () => number
  /** only quoted in refusals: the status decides; @default 0.3 */
  quarantineThreshold?: number
  /** candidates sampled per pick; @default 2 */
  choices?: number
}

/** Weight of each score part; they sum to 1. */
export const PLACEMENT_WEIGHTS: Readonly<ScoreParts> = Object.freeze({
  slots: 0.5, load: 0.15, memory: 0.1, reputation: 0.15, rtt: 0.05, locality: 0.05
})
/** A suspect candidate's score is multiplied by this. */
export const SUSPECT_FACTOR = 0.5
/** A candidate on probation has its reputation part multiplied by this. */
export const PROBATION_FACTOR = 0.5
/** This much free memory (MB) or more scores the full memory part. */
export const MEMORY_FULL_MB = 8192
/** A round-trip time (ms) that scores half the rtt part. */
export const RTT_HALF_MS = 50
/** The rtt value (before weighting) of an unknown round-trip time. */
export const NEUTRAL_RTT = 0.5
/** @default 2 */
export const DEFAULT_PLACEMENT_CHOICES = 2

interface Reason { kind: string, text: string }

interface Eval {
  candidate: Candidate
  scored: Scored
  used: number
  agentCapped: boolean
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
    const why = status === 'banned' ? 'a proven forgery' : `below the quarantine threshold ${threshold.toFixed(2)}`
    out.push({ kind: status, text: `${status}: reputation ${finite(score, 0).toFixed(2)} (${why})` })
  }
  if (c.paused != null) out.push({ kind: 'paused', text: `paused: ${c.paused}` })
  if (!(finite(c.slots, 0) > 0) && c.paused == null) out.push({ kind: 'no slots', text: 'takes no tasks (0 task slots)' })
  return out
}

function evaluate (c: Candidate): Eval {
  const slots = Math.max(0, finite(c.slots, 0))
  const used = Math.max(finite(c.running, 0) + finite(c.queued, 0), finite(c.inflight, 0))
  let freeSlots = slots - used
  let fraction = slots > 0 ? freeSlots / slots : 0
  let agentCapped = false
  if (c.agentSlots != null) {
    const agentFree = finite(c.agentSlots, 0) - finite(c.agentInflight, 0)
    agentCapped = agentFree < freeSlots
    freeSlots = Math.min(freeSlots, agentFree)
    fraction = Math.min(fraction, c.agentSlots > 0 ? agentFree / c.agentSlots : 0)
  }
  const loadPerCore = finite(c.load1, Infinity) / Math.max(1, finite(c.cores, 1))
  const rtt = c.rttMs ?? (c.self ? 0 : null)
  const rep = clamp01(finite(c.reputation.score, 0)) * (c.reputation.status === 'probation' ? PROBATION_FACTOR : 1)
  const w = PLACEMENT_WEIGHTS
  const parts: ScoreParts = {
    slots: w.slots * clamp01(fraction),
    load: w.load * (1 - clamp01(loadPerCore)),
    memory: w.memory * clamp01(finite(c.memFreeMb, 0) / MEMORY_FULL_MB),
    reputation: w.reputation * rep,
    rtt: w.rtt * (rtt == null || !Number.isFinite(rtt) ? NEUTRAL_RTT : RTT_HALF_MS / (RTT_HALF_MS + Math.max(0, rtt))),
    locality: c.self ? w.locality : 0
  }
  const sum = parts.slots + parts.load + parts.memory + parts.reputation + parts.rtt + parts.locality
  const suspect = c.state === 'suspect'
  const scored: Scored = { peerId: c.peerId, score: suspect ? sum * SUSPECT_FACTOR : sum, freeSlots, parts }
  if (suspect) scored.note = `suspect: score × ${SUSPECT_FACTOR}`
  return { candidate: c, scored, used, agentCapped }
}

function byScore (a: Eval, b: Eval): number {
  return b.scored.score - a.scored.score || b.scored.freeSlots - a.scored.freeSlots ||
    (a.scored.peerId < b.scored.peerId ? -1 : a.scored.peerId > b.scored.peerId ? 1 : 0)
}

/** An index in [0, n) from `random`, whatever it returns. */
function index (random: () => number, n: number): number {
  const r = random()
  return Number.isFinite(r) ? Math.min(n - 1, Math.max(0, Math.floor(r * n))) : 0
}

/** Power of two choices, once per replica, never the same peer twice. `ranked` is best first. */
function pick (ranked: readonly Scored[], replicas: number, choices: number, random: () => number): string[] {
  const k = Math.max(choices, Math.ceil(ranked.length / 2))
  const remaining = [...ranked]
  const chosen: string[] = []
  while (chosen.length < replicas && remaining.length > 0) {
    const pool = Math.min(k, remaining.length)
    let best = 0
    if (pool > 1) {
      // partial Fisher–Yates: `choices` distinct indices, uniformly; the lowest is the best ranked
      const idx = Array.from({ length: pool }, (_, i) => i)
      best = pool
      for (let i = 0; i < Math.min(choices, pool); i++) {
        const j = i + index(random, pool - i);
        [idx[i], idx[j]] = [idx[j], idx[i]]
        best = Math.min(best, idx[i])
      }
    }
    chosen.push(remaining[best].peerId)
    remaining.splice(best, 1)
  }
  return chosen
}

/** Rank the candidates for `request` and choose up to `replicas` distinct executors. */
export function place (request: PlacementRequest, candidates: readonly Candidate[], options: PlacementOptions = {}): Placement {
  const random = options.random ?? Math.random
  const threshold = options.quarantineThreshold ?? DEFAULT_QUARANTINE_THRESHOLD
  const choices = Math.max(1, Math.floor(finite(options.choices, DEFAULT_PLACEMENT_CHOICES)))
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
  const free = eligible.filter(e => e.scored.freeSlots > 0)
  const busy = eligible.filter(e => e.scored.freeSlots <= 0)
  const ranked = free.map(e => e.scored)
  const chosen = pick(ranked, replicas, choices, random)
  const placement: Placement = { ranked, full: busy.map(e => e.scored), refused, chosen }
  if (chosen.length < replicas) {
    placement.waiting = waitingReason(request, replicas, unique, free, busy, kinds)
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
  free: readonly Eval[], busy: readonly Eval[], kinds: ReadonlyMap<string, string>
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
  if (free.length > 0) {
    const others = busy.length > 0 ? `; ${busy.length} busy (${busyLine(busy)})` : ''
    return `wants ${replicas} distinct machines, only ${free.length} can take it now${others}${rest}`
  }
  if (busy.length > 0) {
    const n = busy.length
    const all = refusedServers.length === 0
    const head = n === 1
      ? `the one machine that ${all ? `serves "${agent}"` : 'can run it'} is busy`
      : `all ${n} machines that ${all ? `serve "${agent}"` : 'can run it'} are busy`
    return `${head} (${busyLine(busy)})${rest}`
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

const fixed = (n: number): string => n.toFixed(2)

export interface ExplainPlacementOptions {
  /** a member's name, shown beside its peer id */
  nameOf?: (peer: string) => string | undefined
  /** print `chosen:` and `waiting:` (false for a ranking made after the fact). @default true */
  choice?: boolean
}

/** Lines for `paired task explain`: the ranking table, the busy and refused machines, the choice and why it waits. */
export function explainPlacement (p: Placement, options: ExplainPlacementOptions = {}): string[] {
  const nameOf = options.nameOf ?? (() => undefined)
  const who = (peer: string): string => {
    const name = nameOf(peer)
    return name != null && name !== '' ? `${name} (${peer})` : peer
  }
  const header = ['#', 'name', 'peer', 'score', 'free', 'slots', 'load', 'mem', 'rep', 'rtt', 'local']
  const row = (s: Scored, rank: string): string[] => [
    rank, nameOf(s.peerId) ?? '-', s.peerId, fixed(s.score), String(s.freeSlots),
    fixed(s.parts.slots), fixed(s.parts.load), fixed(s.parts.memory), fixed(s.parts.reputation), fixed(s.parts.rtt), fixed(s.parts.locality)
  ]
  const rows = [
    ...p.ranked.map((s, i) => row(s, String(i + 1))),
    ...p.full.map(s => row(s, 'full'))
  ]
  const notes = [...p.ranked, ...p.full].filter(s => s.note != null).map(s => `  note ${who(s.peerId)}: ${s.note ?? ''}`)
  const lines: string[] = []
  if (rows.length > 0) {
    const table = [header, ...rows]
    const widths = header.map((_, i) => Math.max(...table.map(r => r[i].length)))
    for (const r of table) lines.push(r.map((cell, i) => i <= 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ').trimEnd())
    lines.push(...notes)
  } else {
    lines.push('no eligible machine')
  }
  for (const r of p.refused) lines.push(`refused ${who(r.peerId)}: ${r.reason}`)
  if (options.choice !== false) {
    if (p.chosen.length > 0) lines.push(`chosen: ${p.chosen.map(who).join(', ')}`)
    if (p.waiting != null) lines.push(`waiting: ${p.waiting}`)
  }
  return lines
}

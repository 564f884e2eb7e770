/**
 * Pure reputation math. A peer's score is the mean of a Beta distribution over "this peer
 * does the right thing": `(good + priorGood) / (good + bad + priorGood + priorBad)`.
 * `good` and `bad` are evidence counts that halve every `halfLifeMs`, so a peer's past
 * fades and its score drifts back to the prior (0.5 with the defaults: a stranger is
 * unproven, neither trusted nor suspect). The prior's strength (2 + 2) means one bad event
 * does not condemn a newcomer: from a fresh state it takes three failures, two outvoted
 * results or one protocol violation to fall below the 0.3 quarantine threshold.
 *
 * Status, derived from the state and `now`:
 * - `banned`: a proven forgery; permanent, whatever follows.
 * - `quarantined`: the score fell below the threshold; no offers for a cool-off (10 min,
 *   doubling for each relapse, at most 24 h).
 * - `probation`: after the cool-off; accepted again at reduced weight until a run of
 *   consecutive successes (3); any bad event sends it back to quarantine.
 * - `trusted`: 10 consecutive valid results (BOINC's rule) and a score of at least 0.5.
 * - `unproven`: everything else.
 *
 * The state is plain JSON, updated immutably; callers store it as is. Floods and invalid
 * messages should be reported at most once per rate-limit window, not once per message.
 */
import { InvalidArgumentError } from '../errors.js'
import { DEFAULT_REPUTATION_POLICY } from './constants.js'
import type { Behaviour, Outcome, ReputationEvent, ReputationEventKind, ReputationPolicy, ReputationState, ReputationStatus } from './types.js'

export type { Behaviour, Outcome, ReputationEvent, ReputationEventKind, ReputationPolicy, ReputationState, ReputationStatus } from './types.js'

/** A stored state never brings back more history than this. */
const MAX_STORED_HISTORY = 1000
const OUTCOMES: readonly string[] = ['success', 'failure', 'timeout', 'outvoted']
const BEHAVIOURS: readonly string[] = ['invalid-message', 'flood', 'protocol-violation', 'forgery']

/** Merge a partial policy over the defaults. */
export function reputationPolicy (policy: Partial<ReputationPolicy> = {}): ReputationPolicy {
  return {
    ...DEFAULT_REPUTATION_POLICY,
    ...policy,
    weights: { ...DEFAULT_REPUTATION_POLICY.weights, ...policy.weights }
  }
}

/** A peer we know nothing about yet. */
export function newReputation (now: number): ReputationState {
  return {
    version: 1,
    good: 0,
    bad: 0,
    updatedAt: now,
    consecutive: 0,
    quarantinedUntil: null,
    probation: false,
    probationSuccesses: 0,
    strikes: 0,
    banned: false,
    history: []
  }
}

function decayed (state: ReputationState, now: number, p: ReputationPolicy): { good: number, bad: number } {
  const f = Math.pow(0.5, Math.max(0, now - state.updatedAt) / p.halfLifeMs)
  return { good: state.good * f, bad: state.bad * f }
}

/** The score in [0, 1] at `now`; 0 once banned. */
export function score (state: ReputationState, now: number, policy: Partial<ReputationPolicy> = {}): number {
  if (state.banned) return 0
  const p = reputationPolicy(policy)
  const { good, bad } = decayed(state, now, p)
  return (good + p.priorGood) / (good + bad + p.priorGood + p.priorBad)
}

export function status (state: ReputationState, now: number, policy: Partial<ReputationPolicy> = {}): ReputationStatus {
  if (state.banned) return 'banned'
  if (state.quarantinedUntil != null && now < state.quarantinedUntil) return 'quarantined'
  if (state.probation) return 'probation'
  const p = reputationPolicy(policy)
  return state.consecutive >= p.trustedAfter && score(state, now, p) >= p.trustedMinScore ? 'trusted' : 'unproven'
}

/** How much this peer counts in placement and votes: 1, reduced on probation, 0 when shut out. */
export function weight (state: ReputationState, now: number, policy: Partial<ReputationPolicy> = {}): number {
  const p = reputationPolicy(policy)
  switch (status(state, now, p)) {
    case 'banned':
    case 'quarantined':
      return 0
    case 'probation':
      return p.probationWeight
    default:
      return 1
  }
}

/** Record a task outcome: `success`, `failure`, `timeout`, or `outvoted` by redundancy. */
export function applyOutcome (state: ReputationState, outcome: Outcome, now: number, policy: Partial<ReputationPolicy> = {}): ReputationState {
  if (!OUTCOMES.includes(outcome)) throw new InvalidArgumentError(`unknown outcome '${String(outcome)}'`)
  return apply(state, outcome, now, reputationPolicy(policy))
}

/** Record behaviour: an invalid message, a flood, a protocol violation, or a proven forgery (ban). */
export function applyBehaviour (state: ReputationState, event: Behaviour, now: number, policy: Partial<ReputationPolicy> = {}): ReputationState {
  if (!BEHAVIOURS.includes(event)) throw new InvalidArgumentError(`unknown behaviour '${String(event)}'`)
  return apply(state, event, now, reputationPolicy(policy))
}

/** Recent events, oldest first. */
export function history (state: ReputationState): ReputationEvent[] {
  return state.history.map(e => ({ ...e }))
}

function apply (state: ReputationState, event: ReputationEventKind, now: number, p: ReputationPolicy): ReputationState {
  const before = status(state, now, p)
  const { good, bad } = decayed(state, now, p)
  const next: ReputationState = { ...state, good, bad, updatedAt: Math.max(now, state.updatedAt) }
  if (event === 'forgery') {
    next.banned = true
  } else if (event === 'success') {
    next.good += p.weights.success
    next.consecutive++
    if (before === 'probation' && ++next.probationSuccesses >= p.probationSuccesses) {
      next.probation = false
      next.probationSuccesses = 0
      next.strikes = 0
    }
  } else {
    next.bad += p.weights[event]
    next.consecutive = 0
    const relapse = before === 'probation'
    if (before !== 'banned' && before !== 'quarantined' && (relapse || score(next, now, p) < p.quarantineThreshold)) {
      next.strikes++
      next.quarantinedUntil = now + Math.min(p.maxCoolOffMs, p.coolOffMs * Math.pow(2, next.strikes - 1))
      next.probation = true
      next.probationSuccesses = 0
    }
  }
  const entry: ReputationEvent = { at: now, event, score: score(next, now, p), status: status(next, now, p) }
  next.history = [...state.history, entry].slice(-Math.max(0, p.historyLimit))
  return next
}

/** Check a stored state (JSON) before use; names the bad key. */
export function reputationFromJSON (value: unknown): ReputationState {
  const v = value as Record<string, unknown> | null
  const bad = (key: string): never => { throw new InvalidArgumentError(`reputation state: bad or missing '${key}'`) }
  if (typeof v !== 'object' || v == null) return bad('(root)')
  if (v.version !== 1) bad('version')
  for (const key of ['good', 'bad', 'updatedAt', 'consecutive', 'probationSuccesses', 'strikes']) {
    if (typeof v[key] !== 'number' || !Number.isFinite(v[key]) || v[key] < 0) bad(key)
  }
  if (v.quarantinedUntil !== null && (typeof v.quarantinedUntil !== 'number' || !Number.isFinite(v.quarantinedUntil))) bad('quarantinedUntil')
  if (typeof v.probation !== 'boolean') bad('probation')
  if (typeof v.banned !== 'boolean') bad('banned')
  if (!Array.isArray(v.history)) return bad('history')
  for (const e of v.history as Array<Record<string, unknown> | null>) {
    if (typeof e !== 'object' || e == null || typeof e.at !== 'number' || typeof e.score !== 'number' ||
      typeof e.event !== 'string' || ![...OUTCOMES, ...BEHAVIOURS].includes(e.event) || typeof e.status !== 'string') bad('history')
  }
  const state = v as unknown as ReputationState
  return { ...state, history: state.history.slice(-MAX_STORED_HISTORY) }
}

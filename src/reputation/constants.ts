/**
 * Named defaults of the {@link ReputationPolicy}. The reasoning is in `score.ts`.
 */
import type { ReputationPolicy } from './types.js'

/** Pseudo-successes of the prior: with as many pseudo-failures, a stranger scores 0.5. */
export const DEFAULT_PRIOR_GOOD = 2
/** Pseudo-failures of the prior. */
export const DEFAULT_PRIOR_BAD = 2
/** Evidence halves in this time, so old behaviour fades toward the prior (ms): 3 days. */
export const DEFAULT_HALF_LIFE_MS = 3 * 24 * 60 * 60 * 1000
/** Below this score a peer is quarantined. */
export const DEFAULT_QUARANTINE_THRESHOLD = 0.3
/** First quarantine's length (ms): 10 minutes; it doubles for each relapse. */
export const DEFAULT_COOL_OFF_MS = 10 * 60 * 1000
/** Longest quarantine (ms): 24 hours. */
export const DEFAULT_MAX_COOL_OFF_MS = 24 * 60 * 60 * 1000
/** Consecutive successes that end probation. */
export const DEFAULT_PROBATION_SUCCESSES = 3
/** Weight of a peer on probation (placement, votes), against 1 for others. */
export const DEFAULT_PROBATION_WEIGHT = 0.5
/** Consecutive valid results that make a peer trusted (BOINC's rule). */
export const DEFAULT_TRUSTED_AFTER = 10
/** A trusted peer also scores at least this. */
export const DEFAULT_TRUSTED_MIN_SCORE = 0.5
/** Events kept for `paired peer show`. */
export const DEFAULT_HISTORY_LIMIT = 50

/** Evidence each event adds: successes to the good side, everything else to the bad. */
export const DEFAULT_EVENT_WEIGHTS: ReputationPolicy['weights'] = {
  success: 1,
  failure: 1,
  timeout: 0.5,
  outvoted: 2,
  'invalid-message': 1,
  flood: 2,
  'protocol-violation': 3,
  forgery: 0
}

export const DEFAULT_REPUTATION_POLICY: ReputationPolicy = {
  priorGood: DEFAULT_PRIOR_GOOD,
  priorBad: DEFAULT_PRIOR_BAD,
  halfLifeMs: DEFAULT_HALF_LIFE_MS,
  quarantineThreshold: DEFAULT_QUARANTINE_THRESHOLD,
  coolOffMs: DEFAULT_COOL_OFF_MS,
  maxCoolOffMs: DEFAULT_MAX_COOL_OFF_MS,
  probationSuccesses: DEFAULT_PROBATION_SUCCESSES,
  probationWeight: DEFAULT_PROBATION_WEIGHT,
  trustedAfter: DEFAULT_TRUSTED_AFTER,
  trustedMinScore: DEFAULT_TRUSTED_MIN_SCORE,
  historyLimit: DEFAULT_HISTORY_LIMIT,
  weights: DEFAULT_EVENT_WEIGHTS
}

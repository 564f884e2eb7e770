/**
 * The reputation's types: its events, statuses, policy and stored state (the math is in
 * `score.ts`, the defaults in `constants.ts`).
 */
export type Outcome = 'success' | 'failure' | 'timeout' | 'outvoted'
export type Behaviour = 'invalid-message' | 'flood' | 'protocol-violation' | 'forgery'
export type ReputationEventKind = Outcome | Behaviour
export type ReputationStatus = 'trusted' | 'unproven' | 'probation' | 'quarantined' | 'banned'

export interface ReputationPolicy {
  priorGood: number
  priorBad: number
  halfLifeMs: number
  quarantineThreshold: number
  coolOffMs: number
  maxCoolOffMs: number
  probationSuccesses: number
  probationWeight: number
  trustedAfter: number
  trustedMinScore: number
  historyLimit: number
  weights: Record<ReputationEventKind, number>
}

export interface ReputationEvent {
  at: number
  event: ReputationEventKind
  /** score and status right after the event */
  score: number
  status: ReputationStatus
}

export interface ReputationState {
  version: 1
  /** decayed positive evidence as of `updatedAt` */
  good: number
  /** decayed negative evidence as of `updatedAt` */
  bad: number
  updatedAt: number
  /** consecutive successes; any bad event resets it */
  consecutive: number
  /** end of the current or last quarantine */
  quarantinedUntil: number | null
  /** set on quarantine, cleared once probation is passed */
  probation: boolean
  probationSuccesses: number
  /** quarantines since probation was last passed; each doubles the cool-off */
  strikes: number
  banned: boolean
  /** newest last, at most `historyLimit` */
  history: ReputationEvent[]
}

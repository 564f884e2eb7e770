/**
 * @packageDocumentation
 *
 * Reputation: a score in [0, 1] per peer from task outcomes and behaviour, with time decay
 * toward a neutral prior, and the status that follows from it (trusted, unproven,
 * probation, quarantined, banned). Pure functions over a JSON state; the shell stores it
 * and feeds it events from the scheduler, the voting step and the message validators.
 */
export {
  applyBehaviour, applyOutcome, history, newReputation, reputationFromJSON, reputationPolicy,
  score, status, weight,
  type Behaviour, type Outcome, type ReputationEvent, type ReputationEventKind,
  type ReputationPolicy, type ReputationState, type ReputationStatus
} from './score.js'
export * from './constants.js'
export { ReputationBook } from './book.js'
export type { ReputationBookInit, ReputationView } from './book.js'

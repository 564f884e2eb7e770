/**
 * @packageDocumentation
 *
 * Pure CRDT types for the replicated state: a hybrid logical clock, version vectors,
 * a last-writer-wins map, a remove-wins set, the task record lattice and state hashes.
 * No I/O, no timers, no network: every function that needs the time takes it as an
 * argument. Every merge is pure and commutative, associative and idempotent, so replicas
 * that have seen the same ops hold identical state whatever order they arrived in;
 * `stateHash` makes that checkable.
 */
export { CanonicalEncodingError, ClockSkewError, InvalidHlcError, TaskMismatchError } from './errors.js'
export {
  DEFAULT_MAX_SKEW_MS, HlcClock, MAX_HLC_LOGICAL, MAX_HLC_NODE_LENGTH, MAX_HLC_WALL,
  assertHlc, compareHlc, compareHlcTime, decodeHlc, encodeHlc
} from './hlc.js'
export type { Hlc, HlcClockInit } from './hlc.js'
export { vvAdvance, vvCompare, vvGet, vvIncludes, vvMerge, vvMissing } from './version-vector.js'
export type { SeqRange, VersionVector, VvOrder } from './version-vector.js'
export {
  compareLwwEntries, lwwApply, lwwDelete, lwwEmpty, lwwEntries, lwwGet, lwwHas, lwwMerge, lwwPick, lwwSet
} from './lww-map.js'
export type { LwwEntry, LwwLiveEntry, LwwMap } from './lww-map.js'
export { rwAdd, rwEmpty, rwHas, rwMerge, rwObserved, rwRemove, rwTag, rwValues } from './rw-set.js'
export type { RwElement, RwRemove, RwSet } from './rw-set.js'
export {
  TASK_PRIORITIES, TERMINAL_TASK_STATES, committedResult, countsToward, createTask, dissenters, isTerminalState, mergeTask, quorum,
  resultKey, taskAdopt, taskCancel, taskCoordinator, taskFail, taskLease, taskReplicas, taskResult, taskRetry, taskRetryTo
} from './task-lattice.js'
export { adopterOf, adoptionKey, isGrantAuthorized, isTaskAuthority, resultProblem } from './task-authority.js'
export type { ProvenResult, TaskAuthorityFacts, TaskGrantRef } from './task-authority.js'
export type {
  CommitFacts, TaskCoordinator, TaskLease, TaskPriority, TaskRecord, TaskResult, TaskSpec, TaskState
} from './task-lattice.js'
export { MAX_CANONICAL_DEPTH, canonicalEncode, canonicalJsonStrict, compareCanonical } from '../../model/canonical.js'
export { STATE_HASH_VERSION, stateHash } from './hash.js'

/**
 * What the coordinator is given: its identity, its clock, and its edges (the task links it
 * offers and cancels over, this daemon's own executor, the store it writes facts to, the
 * presence and reputation views it reads). Each edge is the narrow interface the coordinator
 * uses, so a unit test hands it fakes; the daemon hands it `TaskLinks`, the `Executor` and
 * the replicated store (see `service.ts`).
 */
import type { Clock } from '../model/clock.js'
import type { PeerState } from '../presence/index.js'
import type { ReputationBook } from '../reputation/index.js'
import type { TaskRecord } from '../state/crdt/index.js'
import type { OpBatch, OpDraft } from '../state/ops/index.js'
import type { Signer } from '../team/index.js'
import type { OfferTask, TaskMessage } from './messages.js'
import type { OfferAnswer } from './offer.js'
import type { Candidate } from './placement.js'

/** the task protocol as the coordinator uses it (`TaskLinks` in the daemon) */
export interface CoordinatorLinks {
  /** a fresh request id */
  id: () => number
  /** sends `msg` to `peer`; rejects if it cannot be sent */
  send: (peer: string, msg: TaskMessage) => Promise<void>
  /** sends a request and waits for its reply; rejects on timeout or disconnect */
  request: (peer: string, msg: TaskMessage & { id: number }, timeoutMs: number) => Promise<TaskMessage & { t: 'reply' }>
}

/** this daemon's own executor as the coordinator uses it (`Executor` in the daemon) */
export interface LocalExecutor {
  offer: (task: OfferTask) => OfferAnswer
  cancel: (taskId: string) => unknown
}

export interface CoordinatorInit {
  selfId: string
  /** signs the lease grant in each offer */
  signer: Signer
  leaseMs: number
  executor: LocalExecutor
  links: CoordinatorLinks
  /** every member that could run something, this daemon included, without `inflight` */
  candidates: () => Candidate[]
  /** the heartbeat a peer's capacity came from (a new value per heartbeat) */
  capacityStamp: (peer: string) => unknown
  peerState: (peer: string) => PeerState | undefined
  /** live members (this daemon included), for adoption */
  liveMembers: () => string[]
  reputation: Pick<ReputationBook, 'view' | 'outcome'>
  write: (drafts: OpDraft[]) => Promise<OpBatch[]>
  ingest: (batch: unknown) => Promise<void>
  /** unfinished tasks in the store (at start, and for adoption) */
  openTasks: () => AsyncIterable<TaskRecord>
  /** replicate work placed on an unproven or probation executor (BOINC's adaptive replication) */
  adaptive?: boolean
  random?: () => number
  /** wall time and timers; @default systemClock */
  clock?: Clock
}

/**
 * Offers, at the edge between the coordinator and the task protocol: the attempt offered to
 * an executor, built from the task record, and the executor's answer, taken from the wire
 * `reply` into the same shape the local executor answers in. Pure; the coordinator sends.
 */
import type { TaskRecord } from '../state/crdt/index.js'
import type { Signer } from '../team/index.js'
import { signGrants } from './grant.js'
import type { OfferTask, TaskMessage } from './messages.js'

/** an executor's answer to an offer (the local executor's, or a remote one's `reply`) */
export interface OfferAnswer {
  accepted: boolean
  reason?: string
  startedWall?: number
  /** tasks of other coordinators it runs or queues */
  others?: number
}

/**
 * the offers of the records' current attempts to `executor`, reporting to the signer (the
 * coordinator), with their lease grants at the signer's adoption epoch of each (0 when it
 * submitted the task), signed in one `signGrants` call
 */
export function offerTasks (records: TaskRecord[], leaseMs: number, signer: Signer, executor: string): OfferTask[] {
  const coordinator = signer.peerId
  const grants = signGrants(records.map(record => ({
    subject: { taskId: record.taskId, attempt: record.attempt, executor },
    epoch: record.coordinator.peer === coordinator ? record.coordinator.epoch : 0
  })), signer)
  return records.map((record, i) => {
    const { spec } = record
    return {
      taskId: record.taskId,
      attempt: record.attempt,
      agent: spec.agent,
      input: spec.input,
      priority: spec.priority,
      ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
      leaseMs,
      coordinator,
      submitter: spec.submitter,
      grant: grants[i]
    }
  })
}

/** the offer of the record's current attempt to `executor` (see `offerTasks`) */
export function offerTask (record: TaskRecord, leaseMs: number, signer: Signer, executor: string): OfferTask {
  return offerTasks([record], leaseMs, signer, executor)[0]
}

/** the answers of a remote executor's `reply` to an `offers` of `count` attempts (missing ones decline) */
export function answersOf (reply: TaskMessage & { t: 'reply' }, count: number): OfferAnswer[] {
  const others = typeof reply.others === 'number' ? { others: reply.others } : {}
  return Array.from({ length: count }, (_, i) => {
    const a = reply.answers?.[i]
    if (a === undefined) return { accepted: false, reason: reply.reason ?? 'no answer for this attempt', ...others }
    return {
      accepted: a.accepted,
      ...(a.reason === undefined ? {} : { reason: a.reason }),
      ...(a.startedWall === undefined ? {} : { startedWall: a.startedWall }),
      ...others
    }
  })
}

/** a remote executor's `reply` to an offer, as an answer (anything but `accepted: true` declines) */
export function answerOf (reply: TaskMessage & { t: 'reply' }): OfferAnswer {
  return {
    accepted: reply.accepted === true,
    ...(reply.reason === undefined ? {} : { reason: reply.reason }),
    ...(reply.startedWall === undefined ? {} : { startedWall: reply.startedWall }),
    ...(typeof reply.others === 'number' ? { others: reply.others } : {})
  }
}

/**
 * Offers, at the edge between the coordinator and the task protocol: the attempt offered to
 * an executor, built from the task record, and the executor's answer, taken from the wire
 * `reply` into the same shape the local executor answers in. Pure; the coordinator sends.
 */
import type { TaskRecord } from '../state/crdt/index.js'
import type { Signer } from '../team/index.js'
import { signGrant } from './grant.js'
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
 * the offer of the record's current attempt to `executor`, reporting to the signer (the
 * coordinator), with its signed lease grant at the signer's adoption epoch (0 when it
 * submitted the task)
 */
export function offerTask (record: TaskRecord, leaseMs: number, signer: Signer, executor: string): OfferTask {
  const { spec } = record
  const coordinator = signer.peerId
  const epoch = record.coordinator.peer === coordinator ? record.coordinator.epoch : 0
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
    grant: signGrant({ taskId: record.taskId, attempt: record.attempt, executor }, epoch, signer)
  }
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

/**
 * Lease watch: which executors still hold an attempt of a task, and which have lost it.
 *
 * An executor holds a slot while its lease (plus `LEASE_GRACE_MS`) runs and it is not dead
 * or gone; an offer it never answered lapses the same way. These rules are pure functions of
 * the clock and the peer view the coordinator passes in, so they are tested without daemons
 * or timers; the coordinator acts on the answers (moves the task, notes a timeout).
 */
import type { PeerState } from '../presence/index.js'
import { resultKey, type TaskLease, type TaskRecord } from '../state/crdt/index.js'
import { LEASE_GRACE_MS } from './constants.js'

/** one executor's hold on an attempt of a task, as its coordinator tracks it */
export interface Slot {
  attempt: number
  accepted: boolean
  expiresWall: number
  /** the executor said the agent finished: its slot is free (the result is on its way) */
  released?: boolean
}

/** what the watch needs to know of the team */
export interface PeerView {
  selfId: string
  peerState: (peer: string) => PeerState | undefined
}

/** a slot its coordinator must give up, and why (the task's `waiting` text) */
export interface Lapse {
  why: string
  /** the executor accepted and then fell silent: a timeout against its reputation */
  timedOut: boolean
}

/** whether a peer in this state has lost its work (it is dead or it left) */
export function isGone (state: PeerState | undefined): boolean {
  return state === 'dead' || state === 'left'
}

/**
 * The leases of the record's current attempt that still hold at `now` (wall ms): no result
 * yet, not lapsed, and an executor that is not gone. Their executors keep running the task
 * when its coordinator resumes or adopts it.
 */
export function heldLeases (record: TaskRecord, now: number, view: PeerView): TaskLease[] {
  const held: TaskLease[] = []
  for (const lease of Object.values(record.leases)) {
    if (lease.attempt !== record.attempt || lease.expiresWall + LEASE_GRACE_MS < now) continue
    if (record.results[resultKey(lease.attempt, lease.executor)] !== undefined) continue
    const state = view.peerState(lease.executor)
    if (lease.executor !== view.selfId && isGone(state)) continue
    held.push(lease)
  }
  return held
}

/**
 * Whether `peer`'s slot has lapsed at `now` (wall ms), and why: its executor is gone, its
 * lease ran out (plus grace), or the offer was never answered. `undefined` while it holds.
 * This daemon's own executor is never gone.
 */
export function lapseOf (peer: string, slot: Slot, now: number, view: PeerView): Lapse | undefined {
  const state = peer === view.selfId ? 'alive' : view.peerState(peer)
  if (isGone(state)) return { why: 'its executor is gone', timedOut: false }
  if (now > slot.expiresWall + LEASE_GRACE_MS) {
    return { why: slot.accepted ? 'its lease lapsed' : 'the offer was never answered', timedOut: slot.accepted }
  }
  return undefined
}

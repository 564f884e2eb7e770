/**
 * Adoption: which unfinished tasks of a dead or departed coordinator this daemon takes over.
 *
 * Every survivor computes, for each such task, the rendezvous-hash winner among the live
 * members; the same inputs give every survivor the same heir, so exactly one writes
 * `task:adopt` (at the next coordinator epoch) with no election round. Pure: the coordinator
 * keeps the book of other coordinators' open tasks, writes the facts and starts tracking.
 */
import { createHash } from 'node:crypto'
import type { TaskCoordinator } from '../state/crdt/index.js'
import { isGone, type PeerView } from './lease-watch.js'

export interface AdoptionView extends PeerView {
  /** live members (this daemon included) */
  liveMembers: () => string[]
}

/** a task this daemon inherits, and the coordinator epoch of its `task:adopt` fact */
export interface Adoption {
  taskId: string
  epoch: number
}

/**
 * The tasks of `open` (task id → its coordinator, never this daemon) whose coordinator is
 * dead or gone and whose heir among the live members is this daemon, in the map's order.
 */
export function adoptions (open: ReadonlyMap<string, TaskCoordinator>, view: AdoptionView): Adoption[] {
  const adopt: Adoption[] = []
  let live: string[] | undefined
  for (const [taskId, coordinator] of open) {
    if (!isGone(view.peerState(coordinator.peer))) continue
    // every gone peer is out, not only this coordinator (two may have died together)
    live ??= view.liveMembers().filter(p => p !== coordinator.peer && (p === view.selfId || !isGone(view.peerState(p))))
    if (heir(taskId, live) === view.selfId) adopt.push({ taskId, epoch: coordinator.epoch + 1 })
  }
  return adopt
}

/** the rendezvous-hash winner of `taskId` among `peers` (highest sha256(taskId, peer)) */
export function heir (taskId: string, peers: readonly string[]): string | undefined {
  let best: string | undefined
  let bestHash = ''
  for (const peer of peers) {
    const h = createHash('sha256').update(`${taskId}\n${peer}`).digest('hex')
    if (best === undefined || h > bestHash) {
      best = peer
      bestHash = h
    }
  }
  return best
}

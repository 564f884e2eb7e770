/**
 * Who may do what with tasks, free of I/O: the priority cap of each role (for this
 * daemon's own submissions and for offers from other coordinators), the checks an offer
 * passes before it runs here, how a submitted spec becomes the replicated task spec, and
 * whether a task has anyone to run it. `TaskService` applies them.
 */
import type { Role } from '../model/docs.js'
import { TASK_PRIORITIES, type TaskPriority } from '../state/crdt/index.js'
import { AgentNotServedError, notServed, type AgentRegistry } from './agents/index.js'
import { verifyGrant } from './grant.js'
import type { OfferTask } from './messages.js'
import type { Candidate } from './placement.js'

/** the highest priority each role may submit at */
export type PriorityCaps = Record<Role, TaskPriority>

/** whether a `role` may submit at `priority` (a role without a cap: at most `normal`) */
export function mayUse (caps: PriorityCaps, role: Role, priority: TaskPriority): boolean {
  const max = caps[role] ?? 'normal'
  return TASK_PRIORITIES.indexOf(priority) >= TASK_PRIORITIES.indexOf(max)
}

/** why this daemon, of `role`, may not submit at `priority`; `undefined` when it may */
export function submitRefusal (caps: PriorityCaps, role: Role, priority: TaskPriority): string | undefined {
  if (mayUse(caps, role, priority)) return undefined
  return `a ${role} may submit at most at ${caps[role]} priority, not ${priority}`
}

export interface OfferContext {
  /** this daemon: the executor the offer's grant must name */
  selfId: string
  caps: PriorityCaps
  /** a current member's role; `undefined` for anyone else */
  roleOf: (peer: string) => Role | undefined
}

/**
 * Why an offer `from` a peer must be refused before it reaches the executor, or
 * `undefined`: it must come from the task's coordinator, a member, at a priority its
 * submitter's role may use, with a lease grant from that coordinator naming this daemon
 * (without one, the result would not count). The offers of one placement pass carry
 * grants of one batch: the first costs an Ed25519 check, the rest (and the same grants
 * when this daemon applies its own results) hit the proof cache.
 */
export function offerRefusal (task: OfferTask, from: string, ctx: OfferContext): string | undefined {
  const role = ctx.roleOf(from)
  if (task.coordinator !== from) return 'an offer must come from its coordinator'
  const submitterRole = ctx.roleOf(task.submitter ?? from)
  if (role === undefined || !mayUse(ctx.caps, submitterRole ?? role, task.priority)) {
    return `a ${submitterRole ?? 'non-member'} may not submit at ${task.priority} priority`
  }
  if (task.grant?.coordinator !== from || !verifyGrant(task.grant, { taskId: task.taskId, attempt: task.attempt, executor: ctx.selfId }).ok) {
    return 'the offer carries no valid lease grant from its coordinator'
  }
  return undefined
}

/** The replicated spec of a submitted task: defaults filled in, empty and default fields left out. */

/**
 * The error for a task that no member can run, when every member's agents are known;
 * `undefined` when someone serves `agent`, or an offline member might (then the task
 * waits, and `explain` says why).
 */
export function unservedError (agent: string, local: AgentRegistry, candidates: Candidate[], members: number): AgentNotServedError | undefined {
  if (local.has(agent)) return undefined
  if (candidates.some(c => c.agents.includes(agent))) return undefined
  if (candidates.length < members) return undefined
  const served = [...new Set(candidates.flatMap(c => c.agents))].sort()
  const here = notServed(local, agent).message
  return new AgentNotServedError(candidates.length === 1 ? here : `no member serves agent "${agent}" (members serve: ${served.join(', ')}); here: ${here}`)
}

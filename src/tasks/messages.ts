/**
 * Messages of the task protocol (`/paired/task/1.0.0`). One long-lived stream per pair
 * of daemons carries them both ways, each a length-prefixed JSON frame:
 *
 * | from | message | meaning |
 * |---|---|---|
 * | coordinator | `offer { id, task }` | run this attempt; answered by `reply { id }` |
 * | coordinator | `offers { id, tasks }` | the attempts of one placement pass for this executor; answered by `reply { id, answers }`, one per task in order |
 * | coordinator | `cancel { taskId }` | stop it (kill the process group) |
 * | anyone | `logs { id, taskId }` | send the logs you hold; answered by `reply { id, lines }` |
 * | executor | `reply { id, accepted, reason?, startedWall?, others? }` | the answer to an offer |
 * | executor | `started { taskId, attempt, startedWall }` | a queued offer began running |
 * | executor | `renew { taskId, attempt, expiresWall }` | still running: extend the lease |
 * | executor | `log { taskId, lines }` | stderr lines of the agent |
 * | executor | `finished { taskId, attempt, others? }` | the agent is done: its slot is free (the result follows) |
 * | executor | `finishes { tasks: [{ taskId, attempt }], others? }` | the same for the attempts that ended in one turn |
 *
 * `others` is how many tasks of other coordinators the executor runs or queues right now,
 * so a coordinator knows the executor's load without waiting for a heartbeat.
 * | executor | `done { batch, taskId?, attempt? }` | finished: the signed op batch holding the results (and leases) of the attempts written together |
 *
 * Everything is also checked where it lands: a `done` batch is ingested like any gossip
 * (signature, author), so a message can only speed things up, never forge a fact.
 */
import { taskMessage, type TaskMessage as WireTaskMessage } from '../protocol/schemas/task.js'

export type { OfferTask } from '../protocol/schemas/task.js'
export { MAX_FINISHES_PER_MESSAGE, MAX_LOG_LINE_CHARS, MAX_OFFERS_PER_MESSAGE } from '../protocol/schemas/task.js'

/** a task message; its schema is `src/protocol/schemas/task.ts` */
export type TaskMessage = WireTaskMessage

/** the message, if `v` is a well-formed one (links read with `decodeFrame`, which says why not) */
export function parseTaskMessage (v: unknown): TaskMessage | undefined {
  return taskMessage.check(v) ? v : undefined
}

/**
 * The task protocol's messages (`/paired/task/1.0.0`), one schema each; see
 * `src/tasks/messages.ts` for what they mean. The offered task reuses the model's pieces
 * (agent name, priority, task id); its input is checked where it runs, its grant's
 * signature by the executor.
 */
import Type from 'typebox'
import type { Static } from '../../model/schema.js'
import { AgentNameSchema, MAX_TASK_TIMEOUT_MS, TaskIdSchema, TaskPrioritySchema } from '../../model/task.js'
import { CountSchema, MAX_ERROR_TEXT_CHARS, NaturalSchema, PeerIdSchema, WallSchema, tagged, type Checked } from './common.js'

/** a log line longer than this is refused: agents' lines are cut at 4 KiB */
export const MAX_LOG_LINE_CHARS = 4_096
/** lines in one `log` or `reply` */
export const MAX_LOG_LINES = 1_000
/** the largest grant epoch (src/tasks/grant.ts) */
const MAX_GRANT_EPOCH = 1_000_000
/** an Ed25519 signature in base64url */
const GRANT_SIG_CHARS = 86

const RequestIdSchema = NaturalSchema
const LinesSchema = Type.Array(Type.String({ maxLength: MAX_LOG_LINE_CHARS }), { maxItems: MAX_LOG_LINES })

/**
 * a coordinator's grant of one attempt to one executor (its signature is checked where it
 * counts); `batch`: its place in the batch of grants the signature covers (at most 4,096
 * grants, a path of at most 12 base64url sha256 hashes: src/team/merkle.ts)
 */
export const LeaseGrantSchema = Type.Object({
  coordinator: PeerIdSchema,
  epoch: Type.Integer({ minimum: 0, maximum: MAX_GRANT_EPOCH }),
  sig: Type.String({ minLength: GRANT_SIG_CHARS, maxLength: GRANT_SIG_CHARS }),
  batch: Type.Optional(Type.Object({
    i: Type.Integer({ minimum: 0, maximum: 4095 }),
    n: Type.Integer({ minimum: 1, maximum: 4096 }),
    path: Type.Array(Type.String({ minLength: 43, maxLength: 43 }), { maxItems: 12 })
  }, { additionalProperties: false }))
}, { additionalProperties: false })

/** the attempt a coordinator offers an executor */
export const OfferTaskSchema = Type.Object({
  taskId: TaskIdSchema,
  attempt: CountSchema,
  agent: AgentNameSchema,
  input: Type.Unknown(),
  // the model's union of literals, typed as the model's priority
  priority: TaskPrioritySchema,
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_TIMEOUT_MS })),
  leaseMs: CountSchema,
  /** the peer to report to */
  coordinator: PeerIdSchema,
  /** whose task it is: their role caps its priority */
  submitter: Type.Optional(PeerIdSchema),
  /** the coordinator's grant of this attempt to the executor: its result carries it */
  grant: Type.Optional(LeaseGrantSchema)
}, { additionalProperties: false })
export type OfferTask = Static<typeof OfferTaskSchema>

const closed = { additionalProperties: false } as const

/** most attempts in one `offers` message (and answers in its `reply`) */
export const MAX_OFFERS_PER_MESSAGE = 256
/** most attempts one `finishes` message names */
export const MAX_FINISHES_PER_MESSAGE = 1_000

/** an executor's answer to one offered attempt */
const OfferAnswerSchema = Type.Object({
  accepted: Type.Boolean(),
  reason: Type.Optional(Type.String({ maxLength: MAX_ERROR_TEXT_CHARS })),
  startedWall: Type.Optional(WallSchema)
}, closed)

const AttemptRefSchema = Type.Object({ taskId: TaskIdSchema, attempt: CountSchema }, closed)

export const TaskMessageSchemas = {
  offer: Type.Object({ t: Type.Literal('offer'), id: RequestIdSchema, task: OfferTaskSchema }, closed),
  /** the attempts one placement pass gives one executor, answered by one `reply` with `answers` in the same order */
  offers: Type.Object({ t: Type.Literal('offers'), id: RequestIdSchema, tasks: Type.Array(OfferTaskSchema, { minItems: 1, maxItems: MAX_OFFERS_PER_MESSAGE }) }, closed),
  cancel: Type.Object({ t: Type.Literal('cancel'), taskId: TaskIdSchema }, closed),
  logs: Type.Object({ t: Type.Literal('logs'), id: RequestIdSchema, taskId: TaskIdSchema }, closed),
  reply: Type.Object({ t: Type.Literal('reply'),
    id: RequestIdSchema,
    accepted: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: MAX_ERROR_TEXT_CHARS })),
    startedWall: Type.Optional(WallSchema),
    others: Type.Optional(NaturalSchema),
    lines: Type.Optional(LinesSchema),
    truncated: Type.Optional(Type.Boolean()),
    answers: Type.Optional(Type.Array(OfferAnswerSchema, { maxItems: MAX_OFFERS_PER_MESSAGE }))
  }, closed),
  started: Type.Object({ t: Type.Literal('started'), taskId: TaskIdSchema, attempt: CountSchema, startedWall: WallSchema }, closed),
  renew: Type.Object({ t: Type.Literal('renew'), taskId: TaskIdSchema, attempt: CountSchema, expiresWall: WallSchema }, closed),
  log: Type.Object({ t: Type.Literal('log'), taskId: TaskIdSchema, lines: LinesSchema }, closed),
  finished: Type.Object({ t: Type.Literal('finished'), taskId: TaskIdSchema, attempt: CountSchema, others: Type.Optional(NaturalSchema) }, closed),
  /** the attempts whose agents ended in one turn of the executor's event loop */
  finishes: Type.Object({ t: Type.Literal('finishes'), tasks: Type.Array(AttemptRefSchema, { minItems: 1, maxItems: MAX_FINISHES_PER_MESSAGE }), others: Type.Optional(NaturalSchema) }, closed),
  /**
   * `batch`: a signed op batch, verified by the store like any gossip; it holds the results
   * (and leases) of every attempt written together, so `taskId`/`attempt` only name one of them
   */
  done: Type.Object({ t: Type.Literal('done'), taskId: Type.Optional(TaskIdSchema), attempt: Type.Optional(CountSchema), batch: Type.Object({}, { additionalProperties: true }) }, closed)
}

export const taskMessage = tagged('t', TaskMessageSchemas)
export type TaskMessage = Checked<typeof taskMessage>

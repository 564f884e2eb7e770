/**
 * Replication (`/paired/sync/1.0.0` and the team's state topic). The puller sends
 * `pull { vv, window }` and grants `more { frames }`; the server streams `batch { batch }`
 * frames, then `done` (or `error`). On the state topic each message is one op batch. A
 * batch's ops and signatures are the store's to check; here only its outer shape.
 */
import Type from 'typebox'
import { validator } from '../../model/schema.js'
import { AnyObjectSchema, NaturalSchema, PeerIdSchema, WireErrorSchema, tagged, type Checked } from './common.js'

/** authors a version vector names at most */
export const MAX_VV_AUTHORS = 10_000
/** the most frames one grant (or the first window) may ask for */
export const MAX_SYNC_GRANT = 1_000_000

const closed = { additionalProperties: false } as const

/** what the server reads: the pull, then grants of more frames */
export const SyncServerSchemas = {
  pull: Type.Object({
    type: Type.Literal('pull'),
    vv: Type.Record(Type.String({ maxLength: 128 }), NaturalSchema, { maxProperties: MAX_VV_AUTHORS }),
    window: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SYNC_GRANT }))
  }, closed),
  more: Type.Object({ type: Type.Literal('more'), frames: Type.Integer({ minimum: 0, maximum: MAX_SYNC_GRANT }) }, closed)
}
/** what the puller reads */
export const SyncPullerSchemas = {
  batch: Type.Object({ type: Type.Literal('batch'), batch: AnyObjectSchema }, closed),
  done: Type.Object({ type: Type.Literal('done') }, closed),
  error: Type.Object({ type: Type.Literal('error'), error: Type.Optional(WireErrorSchema) }, closed)
}

export const syncPull = tagged('type', { pull: SyncServerSchemas.pull })
export const syncMore = tagged('type', { more: SyncServerSchemas.more })
export const syncFrame = tagged('type', SyncPullerSchemas)
export type SyncFrame = Checked<typeof syncFrame>

/** a batch on the state topic: its author decides whether it is taken at all */
export const GossipBatchSchema = Type.Object({ author: PeerIdSchema }, { additionalProperties: true })
export const gossipBatch = validator(GossipBatchSchema)

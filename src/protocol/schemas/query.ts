/**
 * The status query (`/paired/query/1.0.0`): `{ type: 'status' }`, answered with
 * `{ status }` (a {@link WireStatusSchema}) or `{ error: { message } }`.
 */
import Type from 'typebox'
import { validator } from '../../model/schema.js'
import { WireErrorSchema } from './common.js'
import { WireStatusSchema } from './status.js'


export const QueryRequestSchema = Type.Object({ type: Type.Literal('status') }, { additionalProperties: false })
/** the envelope is open (a later version may add to it); the status in it is not */
export const QueryReplySchema = Type.Object({
  status: Type.Optional(WireStatusSchema),
  error: Type.Optional(WireErrorSchema)
})

export const queryRequest = validator(QueryRequestSchema)
export const queryReply = validator(QueryReplySchema)

/**
 * Network key rotation (`/paired/rekey/1.0.0`): `{ type: 'rekey', rotation }`, answered
 * with `{ ok, error? }`. The rotation's signature and its signer's role are checked by the
 * member that takes it (src/daemon/rekey.ts).
 */
import Type from 'typebox'
import { validator, type Static } from '../../model/schema.js'
import { CountSchema, MAX_ERROR_TEXT_CHARS, NaturalSchema, PeerIdSchema } from './common.js'


export const KeyRotationSchema = Type.Object({
  v: Type.Literal(1),
  teamId: Type.String({ minLength: 1, maxLength: 128 }),
  /** 1 for the first rotation; a member takes only a higher epoch than its own */
  keyEpoch: CountSchema,
  /** the new pnet key: 64 lowercase hex characters */
  psk: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  at: NaturalSchema,
  by: PeerIdSchema,
  sig: Type.String({ maxLength: 256 })
}, { additionalProperties: false })
export type KeyRotation = Static<typeof KeyRotationSchema>

export const RekeyRequestSchema = Type.Object({ type: Type.Literal('rekey'), rotation: KeyRotationSchema }, { additionalProperties: false })
export const RekeyReplySchema = Type.Object({
  ok: Type.Boolean(),
  error: Type.Optional(Type.String({ maxLength: MAX_ERROR_TEXT_CHARS }))
}, { additionalProperties: false })

export const keyRotation = validator(KeyRotationSchema)
export const rekeyRequest = validator(RekeyRequestSchema)
export const rekeyReply = validator(RekeyReplySchema)

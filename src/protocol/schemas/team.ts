/**
 * The membership hello (`/paired/team/1.0.0`): `hello` and `welcome` carry the sender's
 * certificate, roster and departure records; `ack` closes the exchange; `refused` says
 * why instead (with the signed records behind a removal). Certificates and records are
 * checked on their own signatures where they are merged; here only their outer shape.
 */
import Type from 'typebox'
import { validator, type Static } from '../../model/schema.js'
import { AnyObjectSchema, NaturalSchema, PeerIdSchema, WireErrorSchema, tagged, type Checked } from './common.js'

/** certificates, and departure records, one hello carries at most */
export const MAX_HELLO_RECORDS = 10_000

const Records = Type.Array(Type.Unknown(), { maxItems: MAX_HELLO_RECORDS })
const closed = { additionalProperties: false } as const
const presented = (type: 'hello' | 'welcome') => Type.Object({
  type: Type.Literal(type),
  cert: AnyObjectSchema,
  roster: Type.Optional(Records),
  departures: Type.Optional(Records)
}, closed)

export const HelloSchemas = {
  hello: presented('hello'),
  welcome: presented('welcome'),
  ack: Type.Object({ type: Type.Literal('ack') }, closed),
  refused: Type.Object({ type: Type.Literal('refused'), error: Type.Optional(WireErrorSchema), departures: Type.Optional(Records) }, closed)
}

/** what the responder reads first */
export const helloOpen = tagged('type', { hello: HelloSchemas.hello })
/** the responder's answer, as the initiator reads it */
export const helloAnswer = tagged('type', { welcome: HelloSchemas.welcome, refused: HelloSchemas.refused })
/** the initiator's last word */
export const helloClose = tagged('type', { ack: HelloSchemas.ack, refused: HelloSchemas.refused })

export type HelloOpen = Checked<typeof helloOpen>
export type HelloAnswer = Checked<typeof helloAnswer>
export type HelloRefused = Static<typeof HelloSchemas.refused>

/*
 * Departure records (src/daemon/departures.ts), carried in hellos and on the roster topic.
 * Each is signed over exactly these fields; the signature is checked where it is merged.
 */
const TeamIdSchema = Type.String({ minLength: 1, maxLength: 128 })
const RecordSigSchema = Type.String({ maxLength: 256 })
/** peers a revocation keeps at most */
export const MAX_REVOCATION_KEEP = 10_000

/** a member's own departure */
export const DepartureSchema = Type.Object({
  v: Type.Literal(1),
  teamId: TeamIdSchema,
  peerId: PeerIdSchema,
  leftAt: NaturalSchema,
  sig: RecordSigSchema
}, closed)
/** an admin's removal of a member */
export const RemovalSchema = Type.Object({
  v: Type.Literal(1),
  type: Type.Literal('removed'),
  teamId: TeamIdSchema,
  peerId: PeerIdSchema,
  at: NaturalSchema,
  by: PeerIdSchema,
  sig: RecordSigSchema
}, closed)
/** an admin's revocation of an invite; `keep`: the peers it had admitted, who stay */
export const RevocationSchema = Type.Object({
  v: Type.Literal(1),
  type: Type.Literal('revoked'),
  teamId: TeamIdSchema,
  inviteId: Type.String({ minLength: 1, maxLength: 256 }),
  at: NaturalSchema,
  by: PeerIdSchema,
  keep: Type.Array(PeerIdSchema, { maxItems: MAX_REVOCATION_KEEP }),
  sig: RecordSigSchema
}, closed)

export const departureRecord = validator(DepartureSchema)
export const removalRecord = validator(RemovalSchema)
export const revocationRecord = validator(RevocationSchema)

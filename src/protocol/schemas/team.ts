/**
 * The membership hello (`/paired/team/1.0.0`): `hello` and `welcome` carry the sender's
 * certificate, roster and departure records; `ack` closes the exchange; `refused` says
 * why instead (with the signed records behind a removal). Certificates and records are
 * checked on their own signatures where they are merged; here only their outer shape.
 */
import Type from 'typebox'
import type { Static } from '../../model/schema.js'
import { AnyObjectSchema, WireErrorSchema, tagged, type Checked } from './common.js'

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

/**
 * The membership hello (`/paired/team/1.0.0`): `hello` and `welcome` carry the sender's
 * certificate, roster and departure records; `ack` closes the exchange; `refused` says
 * why instead (with the signed records behind a removal). Certificates and records are
 * checked on their own signatures where they are merged; here only their outer shape.
 * `/paired/team/1.1.0` is the same exchange whose `hello` and `welcome` may also carry
 * `addrs`, address hints for the sender and the members it knows (a new protocol id
 * rather than a new field, because a 1.0.0 daemon refuses any field it does not know).
 */
import Type from 'typebox'
import { validator, type Static } from '../../model/schema.js'
import { AnyObjectSchema, NaturalSchema, PeerIdSchema, WireErrorSchema, tagged, type Checked } from './common.js'

/** certificates, and departure records, one hello carries at most */
export const MAX_HELLO_RECORDS = 10_000

const Records = Type.Array(Type.Unknown(), { maxItems: MAX_HELLO_RECORDS })
const closed = { additionalProperties: false } as const

/** members one hello carries address hints for: the roster's 2,000 and the sender */
export const MAX_HINT_PEERS = 2_001
/** addresses one hint may list (the receiver keeps the first few that are dialable) */
export const MAX_HINT_ADDRS = 8
/** characters of one address as text (an IPv6 address, a port and an Ed25519 peer id fit in ~110) */
export const MAX_ADDR_CHARS = 256
/** `{ id, addrs }`: where a member was last reached, as the sender knows it; a hint, never proof */
const AddressHints = Type.Array(Type.Object({
  id: PeerIdSchema,
  addrs: Type.Array(Type.String({ maxLength: MAX_ADDR_CHARS }), { maxItems: MAX_HINT_ADDRS })
}, closed), { maxItems: MAX_HINT_PEERS })

const presented = (type: 'hello' | 'welcome') => Type.Object({
  type: Type.Literal(type),
  cert: AnyObjectSchema,
  roster: Type.Optional(Records),
  departures: Type.Optional(Records)
}, closed)
const presentedWithHints = (type: 'hello' | 'welcome') => Type.Object({
  type: Type.Literal(type),
  cert: AnyObjectSchema,
  roster: Type.Optional(Records),
  departures: Type.Optional(Records),
  addrs: Type.Optional(AddressHints)
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
/** {@link helloOpen} on `/paired/team/1.1.0`: the hello may carry address hints */
export const helloOpenHints = tagged('type', { hello: presentedWithHints('hello') })
/** {@link helloAnswer} on `/paired/team/1.1.0`: the welcome may carry address hints */
export const helloAnswerHints = tagged('type', { welcome: presentedWithHints('welcome'), refused: HelloSchemas.refused })
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

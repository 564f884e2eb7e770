/**
 * The team's gossip topics other than state (see `sync.ts`): the roster topic carries
 * `{ certs, departures? }` (certificates and departure records, each verified on its own
 * signatures where it is merged), the presence topic signed heartbeats.
 */
import Type from 'typebox'
import { validator, type Static } from '../../model/schema.js'
import { PEER_TAG_LENGTH } from '../../presence/relay.js'
import { AnyObjectSchema, PeerIdSchema } from './common.js'
import { MAX_ADDR_CHARS, MAX_HINT_ADDRS } from './team.js'

/** records one roster message carries at most (the receiver merges the first 2,000) */
export const MAX_ROSTER_MESSAGE_RECORDS = 10_000

export const RosterGossipSchema = Type.Object({
  certs: Type.Array(Type.Unknown(), { maxItems: MAX_ROSTER_MESSAGE_RECORDS }),
  departures: Type.Optional(Type.Array(Type.Unknown(), { maxItems: MAX_ROSTER_MESSAGE_RECORDS }))
}, { additionalProperties: false })
export const rosterGossip = validator(RosterGossipSchema)

/** tags a heartbeat lists at most */
export const MAX_DIRECT_TAGS = 64

/**
 * A heartbeat. Its signature covers every field but `sig`, so fields a newer daemon adds
 * are signed too and allowed here (a heartbeat is not refused for what it adds).
 */
export const HeartbeatSchema = Type.Object({
  v: Type.Literal(1),
  type: Type.Union([Type.Literal('beat'), Type.Literal('left')]),
  peerId: PeerIdSchema,
  /** strictly increasing per sender, also across restarts (it starts from the clock) */
  seq: Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
  intervalMs: Type.Number({ exclusiveMinimum: 0 }),
  capacity: Type.Optional(AnyObjectSchema),
  /** digest of the sender's replicated-state version vector: a difference means sync */
  digest: Type.Optional(Type.String({ maxLength: 256 })),
  /** peer tags of the members the sender's own publish reaches directly */
  direct: Type.Optional(Type.Array(Type.String({ minLength: PEER_TAG_LENGTH, maxLength: PEER_TAG_LENGTH }), { maxItems: MAX_DIRECT_TAGS })),
  /** where the sender listens (its own addresses), so a member not connected to it can dial it */
  addrs: Type.Optional(Type.Array(Type.String({ maxLength: MAX_ADDR_CHARS }), { maxItems: MAX_HINT_ADDRS })),
  sig: Type.String({ maxLength: 256 })
})
export type HeartbeatShape = Static<typeof HeartbeatSchema>
export const heartbeat = validator(HeartbeatSchema)

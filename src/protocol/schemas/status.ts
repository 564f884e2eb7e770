/**
 * The status a member answers on the query protocol: its own wire document (`WireStatus`),
 * not the API's `StatusDoc`, converted at the edge (Syncthing's `toWire`/`fromWire`): the
 * API may grow fields (the local `api` address is never sent) without changing the wire,
 * and what a peer sends is checked field by field before anything reads it.
 */
import Type from 'typebox'
import type { Static } from '../../model/schema.js'
import type { StatusDoc } from '../../model/docs.js'
import { MAX_ERROR_TEXT_CHARS, NaturalSchema, PeerIdSchema } from './common.js'

const Name = Type.String({ maxLength: 256 })
const Digest = Type.String({ maxLength: 256 })
/** addresses a status lists at most */
export const MAX_STATUS_ADDRESSES = 256

export const WireStatusSchema = Type.Object({
  peerId: PeerIdSchema,
  name: Name,
  version: Type.String({ maxLength: 64 }),
  team: Type.Union([Type.Null(), Type.Object({
    teamId: Type.String({ minLength: 1, maxLength: 128 }),
    name: Name,
    role: Type.Union([Type.Literal('admin'), Type.Literal('member'), Type.Literal('guest')]),
    removed: Type.Optional(Type.Object({
      kind: Type.Union([Type.Literal('removed'), Type.Literal('revoked')]),
      by: PeerIdSchema,
      byName: Type.Union([Type.Null(), Name]),
      at: NaturalSchema,
      text: Type.String({ maxLength: MAX_ERROR_TEXT_CHARS })
    }, { additionalProperties: false }))
  }, { additionalProperties: false })]),
  addresses: Type.Array(Type.String({ maxLength: 1024 }), { maxItems: MAX_STATUS_ADDRESSES }),
  connectedPeers: NaturalSchema,
  members: NaturalSchema,
  uptimeMs: NaturalSchema,
  stateHash: Type.Optional(Digest),
  stateDigest: Type.Optional(Digest)
}, { additionalProperties: false })
export type WireStatus = Static<typeof WireStatusSchema>

/** the team part of a status, field by field (no extra field crosses either way) */
function teamOf (team: NonNullable<WireStatus['team']>): NonNullable<WireStatus['team']> {
  return { teamId: team.teamId, name: team.name, role: team.role, ...(team.removed != null ? { removed: { ...team.removed } } : {}) }
}

/** this daemon's status as it goes to a peer: the wire fields only */
export function toWire (doc: StatusDoc): WireStatus {
  const { team } = doc
  return {
    peerId: doc.peerId,
    name: doc.name,
    version: doc.version,
    team: team == null ? null : teamOf(team),
    addresses: doc.addresses.slice(0, MAX_STATUS_ADDRESSES),
    connectedPeers: doc.connectedPeers,
    members: doc.members,
    uptimeMs: doc.uptimeMs,
    ...(doc.stateHash !== undefined ? { stateHash: doc.stateHash } : {}),
    ...(doc.stateDigest !== undefined ? { stateDigest: doc.stateDigest } : {})
  }
}

/** a peer's status (already checked against {@link WireStatusSchema}) as the API's document */
export function fromWire (wire: WireStatus): StatusDoc {
  const { team } = wire
  return {
    peerId: wire.peerId,
    name: wire.name,
    version: wire.version,
    team: team == null ? null : teamOf(team),
    addresses: [...wire.addresses],
    connectedPeers: wire.connectedPeers,
    members: wire.members,
    uptimeMs: wire.uptimeMs,
    ...(wire.stateHash !== undefined ? { stateHash: wire.stateHash } : {}),
    ...(wire.stateDigest !== undefined ? { stateDigest: wire.stateDigest } : {})
  }
}

/**
 * How much of a team each daemon talks to directly, by team size: gossipsub's mesh and
 * publish fan-out (here, applied by src/node/create-node.ts) and the members it keeps
 * connections to ({@link overlayNeighbours}, for the session's redialer).
 *
 * Up to {@link FULL_TEAM_MAX} members nothing is bounded: every daemon connects to every
 * member and publishes to each directly (flood publish), as before. Task placement asks
 * each candidate over its own connection, and presence sees a member that died without a
 * goodbye from the silence of its direct heartbeats, within a second; in a team this small
 * that costs at most 19 connections and 19 copies of a heartbeat, and the redials after a
 * restart are as few. Above it, the all-to-all cost grows with n² across the team (each
 * heartbeat sent n−1 times, every relay sent to a mesh of up to 12): the mesh's ceiling
 * comes down, and each daemon is to keep connections to O(log n) members chosen so that
 * both ends of each pick the same link (its publishes reach those, and relays the rest).
 */
import { createHash } from 'node:crypto'

/** the largest team that stays fully connected with flood publish */
export const FULL_TEAM_MAX = 20

/** gossipsub's mesh degree and publish fan-out (its option names) */
export interface MeshParams {
  /** a mesh aims for D peers per topic, grafting below Dlo and pruning above Dhi */
  D: number
  Dlo: number
  Dhi: number
  /** of which at least Dout dialed by this daemon (eclipse resistance) */
  Dout: number
  /** peers told IHAVE per heartbeat beyond the mesh */
  Dlazy: number
  /** a daemon's own messages go to every subscribed peer, not just its mesh */
  floodPublish: boolean
}

/** gossipsub's own defaults: what a team of up to {@link FULL_TEAM_MAX} uses */
const SMALL: MeshParams = { D: 6, Dlo: 4, Dhi: 12, Dout: 2, Dlazy: 6, floodPublish: true }
/**
 * a large team: the same target degree, but a lower ceiling (inbound grafts otherwise let
 * meshes grow to 12, and a relayed message costs that many frames) and less lazy gossip.
 * Flood publish stays: it reaches the members this daemon is connected to, which is what
 * bounds the fan-out ({@link overlayNeighbours}); and while they are all of them, presence
 * sends each heartbeat once per member with no relay (src/presence/service.ts, `direct`),
 * where a mesh-only publish would be relayed by every receiver, ~n·D frames instead of n.
 */
const LARGE: MeshParams = { D: 6, Dlo: 4, Dhi: 8, Dout: 2, Dlazy: 3, floodPublish: true }

/** the gossip mesh of a team of `teamSize` members (this daemon included) */
export function meshFor (teamSize: number): MeshParams {
  return { ...(teamSize <= FULL_TEAM_MAX ? SMALL : LARGE) }
}

/** members on each side of a daemon's place on the ring that it always connects to */
export const RING_NEIGHBOURS = 3

/**
 * The members `self` keeps a connection to, out of `members` (peer ids; `self` among them
 * or not): all of them in a team of up to {@link FULL_TEAM_MAX}; above, its neighbours on
 * a ring of the members ordered by the hash of their peer ids ({@link RING_NEIGHBOURS} on
 * each side) and chords at ±8, ±16, ±32, … places. The offsets come in ± pairs, so `a`
 * picks `b` exactly when `b` picks `a` (neither end closes what the other redials), every
 * daemon computes the same graph from the same roster, and any member is reached in
 * O(log n) hops. Degree at 50 members: 12; at 1,000: 20; at 10,000: 28.
 */
export function overlayNeighbours (self: string, members: readonly string[]): string[] {
  const all = [...new Set([...members, self])]
  if (all.length <= FULL_TEAM_MAX) return all.filter(m => m !== self).sort()
  const ring = all.map(id => ({ id, key: createHash('sha256').update(id).digest('hex') }))
    .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    .map(e => e.id)
  const n = ring.length
  const at = ring.indexOf(self)
  const picked = new Set<string>()
  const take = (offset: number): void => {
    picked.add(ring[(((at + offset) % n) + n) % n])
    picked.add(ring[(((at - offset) % n) + n) % n])
  }
  for (let k = 1; k <= RING_NEIGHBOURS; k++) take(k)
  for (let k = 8; k < n; k *= 2) take(k)
  picked.delete(self)
  return [...picked].sort()
}

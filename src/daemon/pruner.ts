/**
 * Closes connections a large team's daemon does not keep (src/daemon/overlay.ts): the
 * overlay bounds whom it dials, but a team that grew from one member was all-to-all up to
 * FULL_TEAM_MAX, its overlay moved with every join (every member's place on the ring
 * shifts), every joiner is connected to the member that admitted it, and probes and task
 * queries open connections on demand. Without this, 50 members drifted back to 26–44
 * connections each.
 *
 * A connection goes only when it is old enough for what it was opened for (a hello, a
 * roster merge, a sync) to be over, carries nothing but gossip, leads to a member outside
 * the overlay, and this daemon already holds enough of its overlay to stay reachable.
 * The other end sees the close of a member outside its own overlay (the same for both
 * ends: the overlay is symmetric), which its presence does not probe
 * ({@link quietDisconnects}), and its redialer does not redial.
 */
import { KEEP_ALIVE, type Connection, type PeerId, type PeerStore } from '@libp2p/interface'
import type { PresenceNode } from '../presence/edges.js'

/** a connection younger than this is never closed (ms): its hello, merge and first sync take a few seconds on a busy machine */
export const PRUNE_GRACE_MS = 30_000
/** protocols of streams that stay open on every connection and say nothing about its use */
const IDLE_PROTOCOLS = ['/meshsub/', '/floodsub/']

export interface PruneFacts {
  peer: string
  /** wall-clock ms the connection opened */
  openedAt: number
  /** protocols of its open streams */
  protocols: string[]
}

/**
 * Which of `conns` to close at `now`: to verified members outside the overlay (`keep`
 * false), old and idle; none while fewer than half of the overlay neighbours (`wanted`,
 * of which `held` are connected) are held. Pure.
 */
export function connectionsToPrune (conns: PruneFacts[], o: { keep: (peer: string) => boolean, isVerified: (peer: string) => boolean, wanted: number, held: number, now: number }): PruneFacts[] {
  if (o.held * 2 < o.wanted) return []
  return conns.filter(c => !o.keep(c.peer) && o.isVerified(c.peer) && o.now - c.openedAt >= PRUNE_GRACE_MS &&
    c.protocols.every(p => IDLE_PROTOCOLS.some(idle => p.startsWith(idle))))
}

export interface PrunerNode {
  getConnections: () => Connection[]
  peerStore: Pick<PeerStore, 'get' | 'merge'>
}

/** closes the connections {@link connectionsToPrune} picks; returns how many */
export function prune (node: PrunerNode, neighbours: readonly string[], o: { keep: (peer: string) => boolean, isVerified: (peer: string) => boolean, now: number }): number {
  const conns = node.getConnections().filter(c => c.status === 'open')
  const connected = new Set(conns.map(c => c.remotePeer.toString()))
  const facts = conns.map(c => ({ peer: c.remotePeer.toString(), openedAt: c.timeline.open, protocols: c.streams.map(s => s.protocol ?? ''), conn: c }))
  const picked = connectionsToPrune(facts, { ...o, wanted: neighbours.length, held: neighbours.filter(p => connected.has(p)).length })
  for (const f of picked) void letGo(node, (f as typeof facts[number]).conn).catch(() => {})
  return picked.length
}

/**
 * closes `conn` for good: the DHT tags the 20 peers closest to this daemon's id
 * `keep-alive`, and libp2p redials a peer so tagged as soon as it disconnects, which
 * undid every prune (and kept ~20 connections on top of the overlay's). The tag goes first;
 * the DHT puts it back only if that peer newly becomes one of the closest.
 */
export async function letGo (node: PrunerNode, conn: Connection): Promise<void> {
  const peer = await node.peerStore.get(conn.remotePeer).catch(() => undefined)
  const tags: Record<string, undefined> = {}
  for (const tag of peer?.tags.keys() ?? []) if (tag.startsWith(KEEP_ALIVE)) tags[tag] = undefined
  if (Object.keys(tags).length > 0) await node.peerStore.merge(conn.remotePeer, { tags }).catch(() => {})
  await conn.close()
}

/**
 * `node` as presence sees it, but for the disconnects of peers `quiet` names (members
 * outside this daemon's overlay): presence probes a member whose last connection closed,
 * and that probe's dial would reopen what was pruned. A member outside the overlay that
 * dies is told of by its own neighbours (src/presence/dead-notice.ts).
 */
export function quietDisconnects (node: PresenceNode, quiet: (peer: string) => boolean): PresenceNode {
  type Listener = (evt: CustomEvent<PeerId>) => void
  // the node's listener methods are overloaded per event; one untyped view of each serves both
  const add = node.addEventListener as (type: string, listener: Listener) => void
  const remove = node.removeEventListener as (type: string, listener: Listener) => void
  const wrapped = new Map<Listener, Listener>()
  const view = {
    get services () { return node.services },
    getConnections: (peer?: PeerId) => node.getConnections(peer),
    addEventListener: (type: string, listener: Listener) => {
      if (type !== 'peer:disconnect') { add.call(node, type, listener); return }
      const l: Listener = evt => { if (!quiet(evt.detail.toString())) listener(evt) }
      wrapped.set(listener, l)
      add.call(node, type, l)
    },
    removeEventListener: (type: string, listener: Listener) => {
      if (type !== 'peer:disconnect') { remove.call(node, type, listener); return }
      const l = wrapped.get(listener)
      wrapped.delete(listener)
      if (l != null) remove.call(node, type, l)
    }
  }
  return view as unknown as PresenceNode
}

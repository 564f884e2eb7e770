/**
 * A team session's libp2p node: made for the team (its network key, the gater that keeps
 * out unproven, cut-off and, once shut out, all peers), and wired to the session's parts
 * before it starts: the fault guard, the member gate in front of gossip and the DHT, the
 * team's own protocols and the node's events; and the requests the session makes with it.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerFaults } from '../net/peer-faults.js'
import type { UnprovenConnections } from '../net/unproven-connections.js'
import { MAX_QUERY_STREAMS, PROTOCOL_QUERY, PROTOCOL_TEAM, dhtProtocol, presenceTopic } from '../node/constants.js'
import { createPairedNode, type PairedLibp2p } from '../node/create-node.js'
import { gossipReopener } from '../node/gossip-reopen.js'
import { watchGossip } from '../node/gossip-watch.js'
import { guardNode } from '../node/guard.js'
import type { Membership } from './membership.js'
import { PROTOCOL_TEAM_HINTS } from './hello.js'
import type { StatusDoc } from '../model/docs.js'
import { PROTOCOL_REKEY, sendRotation, type KeyRotation } from './rekey.js'
import { askStatus, fromWire } from './status-query.js'
import type { SessionInit } from './session-init.js'

/** a node for `init`'s team; `deny` refuses a peer both ways, `unproven` budgets inbound connections */
export async function createSessionNode (init: SessionInit, unproven: UnprovenConnections, deny: (peer: PeerId) => boolean): Promise<PairedLibp2p> {
  return await createPairedNode({
    privateKey: init.identity.privateKey,
    listen: init.listen,
    psk: init.team.psk,
    teamId: init.team.teamId,
    bootstrap: init.config.bootstrap,
    mdns: init.config.mdns,
    agentVersion: init.agentVersion,
    gater: { ...unproven.gater(), denyDialPeer: deny, denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny }
  })
}

/** the session's parts the node's protocols and events go to */
export interface NodeWiring {
  teamId: string
  membership: Membership
  unproven: UnprovenConnections
  faults: PeerFaults
  answerQuery: (stream: Stream, connection: Connection) => Promise<void>
  answerRekey: (stream: Stream, connection: Connection) => Promise<void>
  onDiscovery: (id: PeerId, multiaddrs: Multiaddr[]) => void
  /** identify told a peer's listen addresses */
  onIdentify: (peer: string, listenAddrs: Multiaddr[]) => void
  /** a line for the daemon's log, and a member's name for it */
  line?: (text: string) => void
  nameOf?: (peer: string) => string
}

/** wires a node made by {@link createSessionNode}, before it starts */
export async function wireNode (node: PairedLibp2p, w: NodeWiring): Promise<void> {
  guardNode(node, (peer, err, where) => { w.faults.fault(peer, err, where) })
  // no gossip to a peer before its hello: our subscriptions name the team (member-gate.ts)
  for (const protocol of node.services.pubsub.protocols) node.use(protocol, w.membership.gate.gossip)
  const reopenGossip = gossipReopener(node)
  w.membership.gate.onVerified(peer => {
    w.unproven.proven(peer)
    reopenGossip(peerIdFromString(peer))
  })
  // and again, with backoff, for a member whose gossip stream did not open or went down
  watchGossip(node, { isVerified: peer => w.membership.isVerified(peer), topic: presenceTopic(w.teamId), line: w.line, nameOf: w.nameOf })
  w.unproven.watch(node)
  node.use(dhtProtocol(w.teamId), w.membership.gate.both)
  await node.handle(PROTOCOL_TEAM, async (stream, connection) => { await w.membership.onHello(stream, connection) })
  await node.handle(PROTOCOL_TEAM_HINTS, async (stream, connection) => { await w.membership.onHello(stream, connection, true) })
  // streams past libp2p's cap (32 open per connection) are reset before the limiter sees
  // them, so a flood would take seconds to count as abuse; let the limiter see them all
  await node.handle(PROTOCOL_QUERY, async (stream, connection) => { await w.answerQuery(stream, connection) }, { maxInboundStreams: MAX_QUERY_STREAMS })
  await node.handle(PROTOCOL_REKEY, async (stream, connection) => { await w.answerRekey(stream, connection) })
  node.addEventListener('peer:discovery', evt => { w.onDiscovery(evt.detail.id, evt.detail.multiaddrs) })
  node.addEventListener('connection:open', evt => { w.membership.onConnectionOpen(evt.detail) })
  node.addEventListener('peer:disconnect', evt => { w.membership.onDisconnect(evt.detail) })
  node.addEventListener('peer:identify', evt => { w.onIdentify(evt.detail.peerId.toString(), evt.detail.listenAddrs) })
}

/** whether `node` has an open connection to `peer` (false without a node, or for what is no peer id) */
export function hasOpenConnection (node: PairedLibp2p | undefined, peer: string): boolean {
  if (node == null) return false
  try {
    return node.getConnections(peerIdFromString(peer)).some(c => c.status === 'open')
  } catch {
    return false
  }
}

/** gossipsub's score of `peer`, to 3 decimals (null without a node or a score record) */
export function gossipScoreOf (node: PairedLibp2p | undefined, peer: string): number | null {
  // the class has both; the exported GossipSub interface declares neither
  const pubsub = node?.services.pubsub as unknown as { getScore: (peer: string) => number, score: { peerStats: Map<string, unknown> } } | undefined
  if (pubsub == null || !pubsub.score.peerStats.has(peer)) return null
  return Math.round(pubsub.getScore(peer) * 1000) / 1000
}

/** the round trip to `peer` in ms (to the µs: libp2p's own figure is whole milliseconds) */
export async function pingPeer (node: PairedLibp2p, peer: string, signal?: AbortSignal): Promise<number> {
  const t0 = performance.now()
  await node.services.ping.ping(peerIdFromString(peer), { signal })
  return Math.round((performance.now() - t0) * 1000) / 1000
}

/** `peer`'s status document, asked on the query protocol */
export async function queryPeer (node: PairedLibp2p, peer: string, signal?: AbortSignal): Promise<StatusDoc> {
  const stream = await node.dialProtocol(peerIdFromString(peer), PROTOCOL_QUERY, { signal })
  return fromWire(await askStatus(stream, signal))
}

/** hands a key rotation to one member; resolves when it took it */
export async function sendRekey (node: PairedLibp2p, peer: string, rotation: KeyRotation, signal?: AbortSignal): Promise<void> {
  const stream = await node.dialProtocol(peerIdFromString(peer), PROTOCOL_REKEY, { signal })
  await sendRotation(stream, rotation, signal)
}

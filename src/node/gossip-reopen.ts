/**
 * Our gossipsub stream to a peer is refused until the peer proves membership (the member
 * gate, src/daemon/member-gate.ts); gossipsub does not try again by itself unless the peer
 * opens a stream to us. This has it open its stream now, through the same path it takes
 * when libp2p tells it of a new connection. Throws at once if gossipsub's internals moved,
 * so that an upgrade cannot silently leave members without gossip.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import type { PairedLibp2p } from './create-node.js'

type Reopen = (peer: PeerId) => void

export function gossipReopener (node: PairedLibp2p): Reopen {
  const pubsub = node.services.pubsub as unknown as { onPeerConnected?: (peerId: PeerId, connection: Connection) => void }
  const onPeerConnected = pubsub.onPeerConnected
  if (typeof onPeerConnected !== 'function') throw new Error('gossipsub changed: no onPeerConnected to reopen a stream with (see gossipReopener)')
  return peer => {
    const connection = node.getConnections(peer).find(c => c.status === 'open')
    // gossipsub adds the peer if needed and queues the stream; one it already has is kept
    if (connection != null) onPeerConnected.call(pubsub, peer, connection)
  }
}

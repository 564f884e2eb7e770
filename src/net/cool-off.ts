/**
 * Peers cut off for a while: the connection gater refuses every connection from or to them
 * until their time is up. For abusive peers (see `PeerLimiter`): hanging up alone would let
 * them reconnect at once and go on.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** entries kept at most; past that the oldest is forgotten (it forgives early) */
const MAX_PEERS = 10_000

export class CoolOff {
  private readonly until = new Map<string, number>()

  /** refuse `peer` until `untilMs` (wall clock); a later deadline extends, an earlier one does not shorten */
  add (peer: string, untilMs: number): void {
    const current = this.until.get(peer) ?? 0
    this.until.delete(peer)
    this.until.set(peer, Math.max(current, untilMs))
    if (this.until.size > MAX_PEERS) this.until.delete(this.until.keys().next().value as string)
  }

  /** whether `peer` is still cut off at `now` */
  has (peer: string, now = Date.now()): boolean {
    const until = this.until.get(peer)
    if (until === undefined) return false
    if (now < until) return true
    this.until.delete(peer)
    return false
  }

  /** the gater methods that refuse a cut-off peer's connections, both ways */
  gater (): ConnectionGater {
    const deny = (peerId: PeerId): boolean => this.has(peerId.toString())
    return { denyDialPeer: deny, denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny }
  }
}

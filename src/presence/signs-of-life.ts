/**
 * Any traffic from a member is a sign of life: a gossip message it hands us on any topic
 * (gossipsub's `propagationSource`: the neighbour that sent it, never the author of a
 * message merely relayed, which may be long gone), a connection it opens (its key just
 * passed a Noise handshake), a heartbeat it relays, or whatever else the session sees
 * (`signOfLife`). A member that still talks is not dead, whatever its heartbeats do: on a
 * saturated box a heartbeat waits behind everything else its sender has to do, while its
 * gossip keeps flowing. Each member is reported at most once per {@link MIN_GAP_MS}, so a
 * burst of gossip costs a map lookup per message, not a detector update.
 */
import type { Connection } from '@libp2p/interface'
import type { GossipMessageEvent, PresenceNode } from './edges.js'

/** at most one report per member per this (ms) */
export const MIN_GAP_MS = 100

export class SignsOfLife {
  private readonly last = new Map<string, number>()
  private started = false

  constructor (private readonly node: PresenceNode, private readonly now: () => number, private readonly onSign: (peer: string) => void) {}

  start (): void {
    if (this.started) return
    this.started = true
    this.node.services.pubsub.addEventListener('gossipsub:message', this.onMessage)
    this.node.addEventListener('connection:open', this.onConnection)
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.node.services.pubsub.removeEventListener('gossipsub:message', this.onMessage)
    this.node.removeEventListener('connection:open', this.onConnection)
    this.last.clear()
  }

  /** `peer` sent us something; passed on unless it was reported within {@link MIN_GAP_MS} */
  seen (peer: string): void {
    if (!this.started) return
    const now = this.now()
    const last = this.last.get(peer)
    if (last != null && now - last < MIN_GAP_MS) return
    this.last.set(peer, now)
    this.onSign(peer)
  }

  /** forget `peer` (it left or was removed), so the map stays the size of the team */
  forget (peer: string): void { this.last.delete(peer) }

  private readonly onMessage = (evt: GossipMessageEvent): void => { this.seen(evt.detail.propagationSource.toString()) }

  private readonly onConnection = (evt: CustomEvent<Connection>): void => { this.seen(evt.detail.remotePeer.toString()) }
}

/**
 * Dead means disconnected. A member declared `dead` is hung up on at once: its connection
 * went silent (a partition, a machine that vanished), and while it stays open libp2p counts
 * the peer as connected, so nothing redials it, and after the network heals the old TCP
 * connection only wakes up at its next retransmission, seconds to minutes later (its
 * timer doubles on every try). With the connection gone, the daemon's redialer dials the
 * member every second or so (`src/daemon/redialer.ts`) and a heal is seen at the next try.
 *
 * The other side of a partition may not have declared us dead yet (its detector runs on
 * its own heartbeat phase): it then still holds its old, silent connection when our
 * redial arrives. A new connection from a member that is `suspect` or `dead` here proves
 * the path works again, so the connections it had before it fell silent are hung up:
 * otherwise gossipsub keeps sending on the silent one (it opens one outbound stream per
 * peer, on the connection it saw first, and no other while that stream lives). Connections
 * opened after the silence began are left alone, so two fresh dials crossing each other
 * never hang up on one another. The member is then probed over the new connection
 * (`onReturn`), which makes it `alive` within a round trip.
 */
import { logger } from '@libp2p/logger'
import type { Connection, PeerId } from '@libp2p/interface'
import { StaleConnectionError } from './errors.js'
import type { PeerState, Transition } from './failure-detector.js'

const log = logger('paired:presence')

export interface StaleConnectionsComponents {
  node: {
    getConnections: (peer?: PeerId) => Connection[]
    addEventListener: (type: 'connection:open', listener: (evt: CustomEvent<Connection>) => void) => void
    removeEventListener: (type: 'connection:open', listener: (evt: CustomEvent<Connection>) => void) => void
  }
  /** what the failure detector thinks of `peer` now */
  state: (peer: string) => PeerState | undefined
  /** a `suspect` or `dead` member opened a new connection (after its silent ones were hung up) */
  onReturn?: (peer: string) => void
  /** wall-clock now (ms); connection timelines are wall-clock */
  now?: () => number
}

export class StaleConnections {
  /** member → when it stopped being `alive` (wall clock, ms) */
  private readonly silentSince = new Map<string, number>()
  private started = false

  constructor (private readonly components: StaleConnectionsComponents) {}

  start (): void {
    if (this.started) return
    this.started = true
    this.components.node.addEventListener('connection:open', this.onConnectionOpen)
  }

  stop (): void {
    if (!this.started) return
    this.started = false
    this.components.node.removeEventListener('connection:open', this.onConnectionOpen)
    this.silentSince.clear()
  }

  /** feed every failure-detector transition here */
  onTransition (t: Transition): void {
    if (!this.started) return
    if (t.to === 'alive' || t.to === 'left') {
      this.silentSince.delete(t.peer)
      return
    }
    if (!this.silentSince.has(t.peer)) this.silentSince.set(t.peer, this.now())
    if (t.to === 'dead') this.hangUp(t.peer, () => true, 'declared dead')
  }

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    const conn = evt.detail
    const peer = conn.remotePeer.toString()
    const since = this.silentSince.get(peer)
    const state = this.components.state(peer)
    if (since == null || (state !== 'suspect' && state !== 'dead')) return
    this.hangUp(peer, c => c !== conn && c.timeline.open < since, 'back on a new connection')
    this.components.onReturn?.(peer)
  }

  private hangUp (peer: string, which: (c: Connection) => boolean, why: string): void {
    const stale = this.components.node.getConnections().filter(c => c.remotePeer.toString() === peer && which(c))
    for (const c of stale) {
      log('hanging up on %s (%s): %s', peer, c.remoteAddr.toString(), why)
      c.abort(new StaleConnectionError(`${peer} ${why}`))
    }
  }

  private now (): number {
    return this.components.now?.() ?? Date.now()
  }
}

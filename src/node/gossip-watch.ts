/**
 * gossipsub opens its one outbound stream to a peer when libp2p's registrar says the peer
 * speaks gossipsub (after identify), when the peer opens a stream to us, or when the
 * session reopens it after the hello (`gossipReopener`). Each of those is a single try:
 * a stream open that times out on a busy machine, a stream that went down with one of two
 * connections to the same peer (no `peer:disconnect`, so no new topology event), or a
 * disconnect processed after the reconnect, and the pair never has a gossip stream again
 * while its connection stays up. Presence heartbeats go to each member directly on that
 * stream, so the member is never seen `alive`, and no state gossip reaches it.
 *
 * The watch checks every verified, connected member: we need an outbound gossipsub stream
 * to it, and its subscription to the topic we watch (which comes on its stream to us).
 * A member that lacks either for longer than a grace period gets the stream reopened,
 * with backoff. A fresh outbound stream also makes the peer open its own to us (gossipsub
 * answers every inbound stream with an outbound one), which brings its subscriptions.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import type { PairedLibp2p } from './create-node.js'

/** how often the shell checks (each check reads two maps per connected member) */
export const GOSSIP_WATCH_EVERY_MS = 2_000
/** a member may lack its stream this long before the first reopen: a hello, identify and stream open take this on a loaded machine */
export const GOSSIP_WATCH_GRACE_MS = 4_000
/** reopens of one member's stream are at most this far apart */
export const GOSSIP_WATCH_MAX_BACKOFF_MS = 30_000

/** what a member's gossip link lacks ('ok' when nothing) */
export type GossipLack = 'ok' | 'no-stream' | 'no-subscription'

interface Pending {
  /** when the lack was first seen */
  since: number
  /** when to reopen next */
  at: number
  tries: number
}

export interface GossipWatchCore {
  /** the members to check now (verified and connected) */
  members: () => Iterable<string>
  lack: (peer: string) => GossipLack
  reopen: (peer: string, lack: Exclude<GossipLack, 'ok'>, tries: number, lackingMs: number) => void
  graceMs?: number
  maxBackoffMs?: number
}

/** The decisions: which member to reopen when. Pure apart from what it is given. */
export class GossipWatch {
  private readonly pending = new Map<string, Pending>()
  /** reopens so far, and members whose link came back after one */
  readonly counts = { reopened: 0, healed: 0 }

  constructor (private readonly core: GossipWatchCore) {}

  check (now: number): void {
    const grace = this.core.graceMs ?? GOSSIP_WATCH_GRACE_MS
    const max = this.core.maxBackoffMs ?? GOSSIP_WATCH_MAX_BACKOFF_MS
    const seen = new Set<string>()
    for (const peer of this.core.members()) {
      seen.add(peer)
      const lack = this.core.lack(peer)
      const p = this.pending.get(peer)
      if (lack === 'ok') {
        if (p != null && p.tries > 0) this.counts.healed++
        this.pending.delete(peer)
        continue
      }
      if (p == null) {
        this.pending.set(peer, { since: now, at: now + grace, tries: 0 })
        continue
      }
      if (now < p.at) continue
      p.tries++
      p.at = now + Math.min(grace * 2 ** p.tries, max)
      this.counts.reopened++
      this.core.reopen(peer, lack, p.tries, now - p.since)
    }
    // a member that left or was disconnected starts afresh when it is back
    for (const peer of this.pending.keys()) if (!seen.has(peer)) this.pending.delete(peer)
  }

  /** members lacking a link now, whether reopened yet or still in their grace period */
  get lacking (): number { return this.pending.size }
}

/** gossipsub's internals the watch reads and drives (checked when the watch is made) */
interface PubsubInternals {
  streamsOutbound: Map<string, { close: () => Promise<void> }>
  getSubscribers: (topic: string) => PeerId[]
  onPeerConnected: (peerId: PeerId, connection: Connection) => void
}

export interface GossipWatchInit {
  isVerified: (peer: string) => boolean
  /** a topic every member subscribes to (presence) */
  topic: string
  line?: (text: string) => void
  nameOf?: (peer: string) => string
  now?: () => number
  everyMs?: number
}

/**
 * Watch `node`'s gossip links to verified members while the node runs. Throws at once if
 * gossipsub's internals moved, so that an upgrade cannot silently turn the watch off.
 */
export function watchGossip (node: PairedLibp2p, init: GossipWatchInit): GossipWatch {
  const pubsub = node.services.pubsub as unknown as Partial<PubsubInternals>
  if (!(pubsub.streamsOutbound instanceof Map) || typeof pubsub.getSubscribers !== 'function' || typeof pubsub.onPeerConnected !== 'function') {
    throw new Error('gossipsub changed: no streamsOutbound / getSubscribers / onPeerConnected to watch gossip links with (see watchGossip)')
  }
  const ps = pubsub as PubsubInternals
  const now = init.now ?? Date.now
  const byId = new Map<string, PeerId>()
  const watch = new GossipWatch({
    members: () => {
      byId.clear()
      for (const id of node.getPeers()) {
        const peer = id.toString()
        if (init.isVerified(peer)) byId.set(peer, id)
      }
      return byId.keys()
    },
    lack: peer => {
      if (!ps.streamsOutbound.has(peer)) return 'no-stream'
      return ps.getSubscribers(init.topic).some(p => p.toString() === peer) ? 'ok' : 'no-subscription'
    },
    reopen: (peer, lack, tries, lackingMs) => {
      const id = byId.get(peer)
      const connection = id == null ? undefined : node.getConnections(id).find(c => c.status === 'open')
      if (id == null || connection == null) return
      if (tries === 1 || Number.isInteger(Math.log2(tries))) {
        init.line?.(`gossip: reopening the stream to ${init.nameOf?.(peer) ?? ''} ${peer} (${lack === 'no-stream' ? 'no stream to it' : 'no subscription from it'} for ${(lackingMs / 1000).toFixed(1)} s, try ${tries})`)
      }
      // an open stream that never brought the peer's subscriptions is replaced: the new
      // one makes the peer open its own stream to us again
      const old = ps.streamsOutbound.get(peer)
      if (old != null) {
        ps.streamsOutbound.delete(peer)
        old.close().catch(() => {})
      }
      ps.onPeerConnected.call(ps, id, connection)
    }
  })
  let timer: ReturnType<typeof setInterval> | undefined
  const stop = (): void => { clearInterval(timer); timer = undefined }
  const start = (): void => {
    stop()
    timer = setInterval(() => { watch.check(now()) }, init.everyMs ?? GOSSIP_WATCH_EVERY_MS)
    timer.unref?.()
  }
  node.addEventListener('start', start)
  node.addEventListener('stop', stop)
  if (node.status === 'started') start()
  return watch
}

/**
 * A bounded outbox in front of gossipsub's publish, for a topic whose every message is also
 * reachable another way (the state topic: anti-entropy fetches any batch a member lacks).
 *
 * gossipsub writes each publish into its outbound stream to every subscriber at once, with
 * no backpressure (js-libp2p gossipsub's `OutboundStream.push`: "TODO: backpressure"). A
 * publisher that outruns a subscriber (a busy machine, a slow link, a burst of writes)
 * grows that stream's write buffer without bound; everything behind it on the one gossipsub
 * stream per peer waits too, presence heartbeats included, and once it holds seconds of
 * data the member looks dead and libp2p's connection monitor gives up on the connection.
 *
 * So: while some subscriber's gossipsub stream holds more than `highWaterBytes` unsent, new
 * messages wait here, in order, and go out as the stream drains. The outbox holds at most
 * `maxQueuedBytes`; past that its oldest messages are dropped and counted. A dropped state
 * batch is not lost: the author's next batch shows every member the gap (it pulls from the
 * relayer), and a member whose version-vector digest (in each heartbeat) differs pulls too;
 * the sync protocol's credit-based flow control then paces that bulk transfer to the reader.
 */
import { systemClock, type Clock, type Timer } from '../model/clock.js'

/** a subscriber's gossipsub stream holding more unsent than this is backed up */
export const GOSSIP_HIGH_WATER_BYTES = 1024 * 1024
/** messages waiting in the outbox, at most (past it the oldest are dropped) */
export const GOSSIP_OUTBOX_MAX_BYTES = 8 * 1024 * 1024
/** while messages wait, the backlog is checked this often */
export const GOSSIP_OUTBOX_POLL_MS = 5

export interface GossipOutboxInit {
  /** gossipsub's publish on the outbox's topic */
  publish: (data: Uint8Array) => Promise<unknown>
  /** the most bytes any subscriber's outbound gossipsub stream holds unsent now */
  backlog: () => number
  /** messages dropped from the full outbox (anti-entropy covers them) */
  onDropped?: (count: number) => void
  highWaterBytes?: number
  maxQueuedBytes?: number
  pollMs?: number
  clock?: Pick<Clock, 'setTimeout'>
}

export interface GossipOutboxStats {
  /** handed to gossipsub */
  published: number
  /** of those, held back first */
  deferred: number
  dropped: number
  /** waiting now */
  queued: number
  queuedBytes: number
}

export class GossipOutbox {
  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private timer?: Timer
  private closed = false
  private readonly counts = { published: 0, deferred: 0, dropped: 0 }

  constructor (private readonly init: GossipOutboxInit) {}

  /** publish `data` now, or as soon as no subscriber's stream is backed up; never waits */
  send (data: Uint8Array): void {
    if (this.closed) return
    if (this.queue.length === 0 && !this.backedUp()) {
      this.publish(data)
      return
    }
    this.queue.push(data)
    this.queuedBytes += data.byteLength
    this.counts.deferred++
    const max = this.init.maxQueuedBytes ?? GOSSIP_OUTBOX_MAX_BYTES
    let dropped = 0
    // the newest stays even alone over the cap: it is what tells members of the gap
    while (this.queuedBytes > max && this.queue.length > 1) {
      this.queuedBytes -= (this.queue.shift() as Uint8Array).byteLength
      dropped++
    }
    if (dropped > 0) {
      this.counts.dropped += dropped
      this.init.onDropped?.(dropped)
    }
    this.arm()
  }

  get stats (): GossipOutboxStats {
    return { ...this.counts, queued: this.queue.length, queuedBytes: this.queuedBytes }
  }

  /** drops what waits (anti-entropy covers it) and sends nothing more */
  close (): void {
    this.closed = true
    this.timer?.clear()
    this.timer = undefined
    this.queue.length = 0
    this.queuedBytes = 0
  }

  private backedUp (): boolean {
    return this.init.backlog() > (this.init.highWaterBytes ?? GOSSIP_HIGH_WATER_BYTES)
  }

  private publish (data: Uint8Array): void {
    this.counts.published++
    // gossipsub's own refusals (no stream yet, a duplicate) are anti-entropy's to cover
    this.init.publish(data).catch(() => {})
  }

  private arm (): void {
    if (this.timer != null || this.closed) return
    const clock = this.init.clock ?? systemClock
    this.timer = clock.setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, this.init.pollMs ?? GOSSIP_OUTBOX_POLL_MS)
    this.timer.unref?.()
  }

  private flush (): void {
    while (this.queue.length > 0 && !this.backedUp()) {
      const data = this.queue.shift() as Uint8Array
      this.queuedBytes -= data.byteLength
      this.publish(data)
    }
    if (this.queue.length > 0) this.arm()
  }
}

/** what the outbox reads of gossipsub: its outbound stream per peer (internal, checked) */
interface OutboundStreams {
  streamsOutbound?: Map<string, { rawStream?: { writeBufferLength?: number } }>
  getSubscribers: (topic: string) => Array<{ toString: () => string }>
}

/**
 * The `backlog` probe for a gossipsub instance and topic: the largest unsent byte count of
 * the outbound streams to the topic's subscribers. Throws at once if gossipsub's internals
 * moved, so an upgrade cannot silently turn the backpressure off.
 */
export function gossipBacklog (pubsub: unknown, topic: string): () => number {
  const ps = pubsub as OutboundStreams
  if (!(ps.streamsOutbound instanceof Map) || typeof ps.getSubscribers !== 'function') {
    throw new Error('gossipsub changed: no streamsOutbound map to read the backlog from (see gossipBacklog)')
  }
  const streams = ps.streamsOutbound
  return () => {
    let most = 0
    for (const peer of ps.getSubscribers(topic)) {
      const n = streams.get(peer.toString())?.rawStream?.writeBufferLength ?? 0
      if (n > most) most = n
    }
    return most
  }
}

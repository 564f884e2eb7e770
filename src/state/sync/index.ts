/**
 * @packageDocumentation
 *
 * Replication of signed op batches between members:
 * - **gossip**: a new local batch is published on the team's state topic at once;
 * - **anti-entropy** over `/paired/sync/1.0.0`: on connect and periodically, the puller
 *   sends its version vector and the other side streams every batch it lacks, in order,
 *   with bounded memory (credit); the puller ingests several frames at once (`pull.ts`)
 *   and the server sends stored records as stored (`channel.ts`); a gap seen in gossip
 *   triggers a pull from the relayer.
 *
 * The store does the verifying and applying; this layer only moves batches.
 */
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Connection, Stream } from '@libp2p/interface'
import type { PairedLibp2p } from '../../node/create-node.js'
import { STREAM_READ_TIMEOUT_MS, stateTopic } from '../../node/constants.js'
import { systemClock, type Clock, type Timer } from '../../model/clock.js'
import { decodeFrame } from '../../protocol/frames.js'
import { gossipBatch, syncMore, syncPull } from '../../protocol/schemas/sync.js'
import { PeerLimiter, SYNC_LIMIT, type FloodListener } from '../../net/limits.js'
import type { VersionVector } from '../crdt/index.js'
import { syncChannel, type SyncChannel } from './channel.js'
import { pullFrames } from './pull.js'
import { GossipOutbox, gossipBacklog } from '../../node/gossip-outbox.js'

const log = logger('paired:sync')

export const PROTOCOL_SYNC = '/paired/sync/1.0.0'
/** the largest frame on the sync stream and the largest gossip message */
export const MAX_SYNC_FRAME_BYTES = 4 * 1024 * 1024
/**
 * flow control: the puller grants this many frames; it grants more as it ingests, so at
 * most this many frames (≤ 4 MiB each) wait in its memory however large the catch-up
 */
export const SYNC_WINDOW_FRAMES = 8
const SYNC_BUFFER_BYTES = SYNC_WINDOW_FRAMES * MAX_SYNC_FRAME_BYTES + 64 * 1024
export const MAX_GOSSIP_BYTES = 1024 * 1024
/**
 * anti-entropy with one random member this often, as a backstop: heartbeats carry a
 * state digest, a differing digest triggers a pull at once, and a member that connects is
 * pulled from at once. Each pull opens a stream (~10 frames and a peer-store write on each
 * side): every 10 s that was a measurable share of an idle daemon's CPU for a backstop
 * that, with digests in every heartbeat, finds nothing; @default 60000
 */
export const ANTI_ENTROPY_INTERVAL_MS = 60_000

/** a sync stream's channel: every frame read is checked by its schema (src/protocol/schemas/sync.ts) */
function channel (stream: Stream, maxBufferBytes?: number): SyncChannel {
  return syncChannel(stream, { protocol: PROTOCOL_SYNC, maxBytes: MAX_SYNC_FRAME_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS, maxBufferBytes })
}

/** what the sync layer needs of the store: structural, so any store with these fits */
export interface SyncStore<B extends SyncBatch = SyncBatch> {
  versionVector(): Promise<VersionVector>
  /** `fromGossip`: arrived by gossip (not anti-entropy), so less is trusted */
  ingest(batch: unknown, options?: { fromGossip?: boolean, raw?: Uint8Array }): Promise<{ applied: number, duplicate: boolean, gapFrom?: number }>
  /** stored batches of `author` from `fromSeq` on, oldest first */
  batchesSince(author: string, fromSeq: number): AsyncIterable<B>
  /** the same records as their stored UTF-8 JSON, sent without a parse and a stringify; optional */
  rawBatchesSince?(author: string, fromSeq: number): AsyncIterable<Uint8Array>
}

export interface SyncBatch {
  author: string
  fromSeq: number
  toSeq: number
}

export interface StateSyncInit {
  node: PairedLibp2p
  teamId: string
  store: SyncStore
  /** has this peer passed the membership hello on a connection? */
  isVerified: (peer: string) => boolean
  /** a connected peer whose membership hello is still under way (its gossip is ignored, not penalised) */
  isPending?: (peer: string) => boolean
  /** whether ops by `author` belong in this team's log (a member, now or before); default: isMember */
  isKnownAuthor?: (author: string) => boolean
  /** is this author a current member (whose ops count)? */
  isMember: (peer: string) => boolean
  onApplied?: (count: number) => void
  intervalMs?: number
  /** a peer pulled past its rate limit (told at most once a second) */
  onFlood?: FloodListener
  /** the anti-entropy timer; @default systemClock */
  clock?: Clock
  /** the peers connected now, to pick an anti-entropy partner from; @default the node's */
  connectedPeers?: () => string[]
  /** picks the anti-entropy partner; @default Math.random */
  random?: () => number
}

export class StateSync {
  private timer?: Timer
  private readonly pulling = new Map<string, Promise<void>>()
  private readonly again = new Set<string>()
  private started = false
  /** pulls each peer may make of us: each one scans the store */
  private readonly limiter: PeerLimiter

  constructor (private readonly init: StateSyncInit) {
    this.limiter = new PeerLimiter(SYNC_LIMIT, init.onFlood)
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    const { node, teamId } = this.init
    await node.handle(PROTOCOL_SYNC, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 4 })
    node.services.pubsub.topicValidators.set(stateTopic(teamId), (from, msg) => this.validate(from.toString(), msg.data))
    node.services.pubsub.subscribe(stateTopic(teamId))
    node.services.pubsub.addEventListener('message', this.onMessage)
    this.timer = (this.init.clock ?? systemClock).setInterval(() => { this.pullRandom() }, this.init.intervalMs ?? ANTI_ENTROPY_INTERVAL_MS).unref()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.timer?.clear()
    this.init.node.services.pubsub.removeEventListener('message', this.onMessage)
    await this.init.node.unhandle(PROTOCOL_SYNC).catch(() => {})
  }

  /**
   * publish a batch this daemon just stored, through a bounded outbox: while a member's
   * gossipsub stream is backed up, batches wait (the oldest dropped past its cap), and
   * anti-entropy fetches whatever a member did not get (src/node/gossip-outbox.ts)
   */
  async publish (batch: SyncBatch): Promise<void> {
    const data = new TextEncoder().encode(JSON.stringify(batch))
    if (data.byteLength > MAX_GOSSIP_BYTES) return // peers fetch it by anti-entropy
    const { pubsub } = this.init.node.services
    const topic = stateTopic(this.init.teamId)
    this.outbox ??= new GossipOutbox({
      publish: async bytes => await pubsub.publish(topic, bytes).catch(err => { log('publish failed: %s', (err as Error).message) }),
      backlog: gossipBacklog(pubsub, topic),
      onDropped: n => { log('%d state batches left to anti-entropy: a member\'s gossip stream is backed up', n) }
    })
    this.outbox.send(data)
  }

  private outbox?: GossipOutbox

  private validate (from: string, data: Uint8Array): TopicValidatorResult {
    // a member's gossip can beat its hello on a new connection: not yet verified is not
    // misbehaving, so ignore it (unpenalised); anti-entropy on connect fetches what it sent
    if (!this.init.isVerified(from)) return this.init.isPending?.(from) === false ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    try {
      const parsed = decodeFrame(stateTopic(this.init.teamId), data, gossipBatch)
      // a batch by a non-member is refused; its relayer pays for it in gossip score
      return this.init.isMember(parsed.author) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject
    } catch {
      return TopicValidatorResult.Reject
    }
  }

  private readonly onMessage = (evt: CustomEvent<{ topic: string, data: Uint8Array }>): void => {
    if (evt.detail.topic !== stateTopic(this.init.teamId)) return
    const relayer = (evt.detail as { propagationSource?: { toString: () => string } }).propagationSource?.toString()
    void this.ingestGossip(evt.detail.data, relayer)
  }

  private async ingestGossip (data: Uint8Array, relayer?: string): Promise<void> {
    // the topic validator has checked its shape already
    let batch: unknown
    try { batch = JSON.parse(new TextDecoder().decode(data)) } catch { return }
    try {
      const result = await this.init.store.ingest(batch, { fromGossip: true })
      if (result.applied > 0) this.init.onApplied?.(result.applied)
      if (result.gapFrom != null && relayer != null) this.pull(relayer)
    } catch (err) {
      log('gossip batch refused: %s', (err as Error).message)
    }
  }

  /** pull from a random verified member now (also the periodic anti-entropy) */
  pullRandom (): void {
    const connected = this.init.connectedPeers?.() ?? this.init.node.getPeers().map(p => p.toString())
    const peers = connected.filter(p => this.init.isVerified(p))
    if (peers.length === 0) return
    this.pull(peers[Math.floor((this.init.random ?? Math.random)() * peers.length)])
  }

  /** pull what `peer` has and we lack; coalesces concurrent requests per peer */
  pull (peer: string): void {
    if (this.pulling.has(peer)) { this.again.add(peer); return }
    const run = this.pullOnce(peer).catch(err => {
      log('pull from %s failed: %s', peer, (err as Error).message)
    }).finally(() => {
      this.pulling.delete(peer)
      if (this.again.delete(peer) && this.started) this.pull(peer)
    })
    this.pulling.set(peer, run)
  }

  /** resolves when the pull in flight (if any) from `peer` ends */
  async settled (peer: string): Promise<void> {
    await this.pulling.get(peer)
  }

  private async pullOnce (peer: string): Promise<void> {
    if (!this.started) return
    const stream = await this.init.node.dialProtocol(peerIdFromString(peer), PROTOCOL_SYNC, { signal: AbortSignal.timeout(STREAM_READ_TIMEOUT_MS) })
    const ch = channel(stream, SYNC_BUFFER_BYTES)
    let applied = 0
    try {
      await ch.write({ type: 'pull', vv: await this.init.store.versionVector(), window: SYNC_WINDOW_FRAMES })
      const isKnown = this.init.isKnownAuthor ?? this.init.isMember
      await pullFrames(ch, {
        ingest: async (batch, raw) => await this.init.store.ingest(batch, { raw }),
        isKnownAuthor: author => isKnown(author)
      }, { window: SYNC_WINDOW_FRAMES, onApplied: n => { applied += n } })
      await stream.close().catch(() => {})
    } catch (err) {
      stream.abort(err as Error)
      throw err
    } finally {
      if (applied > 0) this.init.onApplied?.(applied)
    }
  }

  /** answer a pull: every batch the puller lacks, author by author, oldest first */
  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    if (!this.init.isVerified(peer)) {
      stream.abort(new Error('not a member'))
      return
    }
    const ch = channel(stream)
    if (!this.limiter.allow(peer)) {
      // said, not reset: the puller logs why and pulls again at its next trigger
      await ch.write({ type: 'error', error: { name: 'RateLimitedError', message: 'too many sync pulls: try again later' } }).catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    try {
      const req = await ch.read(syncPull)
      const theirs = req.vv
      let credit = req.window !== undefined ? Math.min(req.window, 64) : SYNC_WINDOW_FRAMES
      const mine = await this.init.store.versionVector()
      for (const [author, head] of Object.entries(mine)) {
        const have = Object.hasOwn(theirs, author) ? theirs[author] : 0
        if (head <= have) continue
        const raw = this.init.store.rawBatchesSince?.(author, have + 1)
        for await (const batch of raw ?? this.init.store.batchesSince(author, have + 1)) {
          // never run ahead of what the puller granted: its memory stays bounded
          while (credit <= 0) {
            const more = await ch.read(syncMore, { signal: AbortSignal.timeout(30_000) })
            credit += Math.min(more.frames, 64)
          }
          if (batch instanceof Uint8Array) await ch.writeBatch(batch)
          else await ch.write({ type: 'batch', batch })
          credit--
        }
      }
      await ch.write({ type: 'done' })
      await stream.close().catch(() => {})
    } catch (err) {
      log('serving %s failed: %s', peer, (err as Error).message)
      stream.abort(err as Error)
    }
  }
}

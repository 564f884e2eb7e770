/**
 * Task links: one long-lived `/paired/task/1.0.0` stream per peer, opened by whichever
 * side speaks first, carrying length-prefixed JSON messages both ways. A request (an offer,
 * a logs query) gets an id and waits for the `reply` with that id. A stream that breaks is
 * forgotten; the next message opens a new one.
 */
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import type { PairedLibp2p } from '../node/create-node.js'
import { MAX_TASK_MESSAGE_BYTES, PROTOCOL_TASK } from './constants.js'
import type { TaskMessage } from './messages.js'
import { ProtocolError, decodeFrame, readFrame } from '../protocol/frames.js'
import { taskMessage } from '../protocol/schemas/task.js'
import { PeerLimiter, TASK_REQUEST_LIMIT } from '../net/limits.js'

const log = logger('paired:tasks:links')
const OPEN_TIMEOUT_MS = 5_000

type Writer = (msg: TaskMessage) => Promise<void>

export interface LinksInit {
  node: PairedLibp2p
  /** only members that proved their certificate may use the protocol */
  isVerified: (peer: string) => boolean
  onMessage: (peer: string, msg: TaskMessage) => void
  /** a peer sent something that is not a task message (`err` names the field) */
  onInvalid?: (peer: string, err: ProtocolError) => void
  /** a peer sent requests faster than its limit */
  onFlood?: (peer: string) => void
}

export class TaskLinks {
  private readonly writers = new Map<string, Writer>()
  private readonly opening = new Map<string, Promise<Writer>>()
  private readonly waiting = new Map<number, { peer: string, resolve: (m: TaskMessage & { t: 'reply' }) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> }>()
  private readonly streams = new Set<Stream>()
  private nextId = 1
  private stopped = false
  /** offers and log requests per peer; replies and reports answer our own requests */
  readonly limiter: PeerLimiter

  constructor (private readonly init: LinksInit) {
    this.limiter = new PeerLimiter(TASK_REQUEST_LIMIT, init.onFlood)
  }

  async start (): Promise<void> {
    await this.init.node.handle(PROTOCOL_TASK, (stream, connection) => { this.onInbound(stream, connection) }, {
      maxInboundStreams: 4, maxOutboundStreams: 4
    })
  }

  async stop (): Promise<void> {
    this.stopped = true
    for (const w of this.waiting.values()) { clearTimeout(w.timer); w.reject(new Error('stopping')) }
    this.waiting.clear()
    for (const s of this.streams) s.abort(new Error('stopping'))
    this.streams.clear()
    await this.init.node.unhandle(PROTOCOL_TASK).catch(() => {})
  }

  /** sends `msg` to `peer`, opening a stream if none is open; throws if that fails */
  async send (peer: string, msg: TaskMessage): Promise<void> {
    const writer = this.writers.get(peer) ?? await this.open(peer)
    await writer(msg)
  }

  /** sends a request and waits for its reply */
  async request (peer: string, msg: TaskMessage & { id: number }, timeoutMs: number): Promise<TaskMessage & { t: 'reply' }> {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msg.id)
        reject(new Error(`no answer from ${peer} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(msg.id, { peer, resolve, reject, timer })
      this.send(peer, msg).catch(err => {
        clearTimeout(timer)
        this.waiting.delete(msg.id)
        reject(err as Error)
      })
    })
  }

  /** a fresh request id */
  id (): number { return this.nextId++ }

  /** a peer went away: fail its requests at once */
  dropPeer (peer: string): void {
    this.writers.delete(peer)
    for (const [id, w] of this.waiting) {
      if (w.peer !== peer) continue
      clearTimeout(w.timer)
      this.waiting.delete(id)
      w.reject(new Error(`${peer} disconnected`))
    }
  }

  private async open (peer: string): Promise<Writer> {
    let opening = this.opening.get(peer)
    if (opening === undefined) {
      opening = (async () => {
        const stream = await this.init.node.dialProtocol(peerIdFromString(peer), PROTOCOL_TASK, { signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) })
        return this.attach(peer, stream)
      })().finally(() => { this.opening.delete(peer) })
      this.opening.set(peer, opening)
    }
    return await opening
  }

  private onInbound (stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (this.stopped || !this.init.isVerified(peer)) {
      stream.abort(new Error('not a member'))
      return
    }
    this.attach(peer, stream)
  }

  /** reads `stream` until it ends; returns a writer for it (the peer's newest stream is used to send) */
  private attach (peer: string, stream: Stream): Writer {
    const lp = lpStream(stream, { maxDataLength: MAX_TASK_MESSAGE_BYTES })
    const encoder = new TextEncoder()
    const writer: Writer = async msg => {
      const bytes = encoder.encode(JSON.stringify(msg))
      await lp.write(bytes)
    }
    this.streams.add(stream)
    this.writers.set(peer, writer)
    void (async () => {
      try {
        while (!this.stopped) {
          let msg: TaskMessage
          try {
            msg = decodeFrame(PROTOCOL_TASK, await readFrame(lp, PROTOCOL_TASK), taskMessage)
          } catch (err) {
            if (err instanceof ProtocolError) this.init.onInvalid?.(peer, err)
            throw err
          }
          if (msg.t === 'reply') {
            this.settle(peer, msg)
          } else if ((msg.t === 'offer' || msg.t === 'offers' || msg.t === 'logs') && !this.limiter.allow(peer)) {
            // an `offers` counts once: it is one placement pass, and each attempt in it is checked like an `offer`
            const reason = 'rate limited: too many requests'
            await writer(msg.t === 'offers' ? { t: 'reply', id: msg.id, answers: msg.tasks.map(() => ({ accepted: false, reason })) } : { t: 'reply', id: msg.id, accepted: false, reason })
          } else {
            this.init.onMessage(peer, msg)
          }
        }
      } catch (err) {
        if (!this.stopped) log('task stream with %s ended: %s', peer, (err as Error).message)
        stream.abort(err as Error)
      } finally {
        this.streams.delete(stream)
        if (this.writers.get(peer) === writer) this.writers.delete(peer)
      }
    })()
    return writer
  }

  private settle (peer: string, msg: TaskMessage & { t: 'reply' }): void {
    const w = this.waiting.get(msg.id)
    if (w === undefined || w.peer !== peer) return
    clearTimeout(w.timer)
    this.waiting.delete(msg.id)
    w.resolve(msg)
  }
}

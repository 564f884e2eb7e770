/**
 * The status query on `/paired/query/1.0.0` (`paired query PEER`): a member asks another for
 * its status document, one JSON message each way: `{ type: 'status' }`, answered with
 * `{ status }` or `{ error: { message } }`. Only peers that passed the hello are answered,
 * each within its own rate limit ({@link QUERY_LIMIT}); the excess is refused and reported.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS } from '../node/constants.js'
import { isObject } from '../model/guards.js'
import { jsonChannel } from '../protocol/frames.js'
import { PeerLimiter, QUERY_LIMIT, type FloodListener } from '../net/limits.js'
import type { StatusDoc } from '../model/docs.js'

export interface StatusQueryComponents {
  /** did `peer` prove membership (the hello) on this session's connections? */
  isVerified: (peer: string) => boolean
  /** this daemon's own status */
  status: () => Promise<StatusDoc>
  /** `peer` sent queries past its rate limit */
  /** a peer queried past its limit; `abusive`: past its slack too */
  onFlood: FloodListener
}

/** answers the status queries of verified members, rate limited per peer */
export class StatusQueries {
  private readonly limiter: PeerLimiter

  constructor (private readonly components: StatusQueryComponents) {
    this.limiter = new PeerLimiter(QUERY_LIMIT, components.onFlood)
  }

  /** the handler of one inbound query stream */
  async answer (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    if (!this.components.isVerified(peer)) {
      stream.abort(new Error('not a member'))
      return
    }
    if (!this.limiter.allow(peer)) {
      stream.abort(new Error('rate limited: too many queries'))
      return
    }
    const ch = jsonChannel(stream, MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS)
    try {
      const msg = await ch.read()
      if (!isObject(msg) || msg.type !== 'status') throw new Error('unknown query')
      await ch.write({ status: await this.components.status() })
      await stream.close()
    } catch (err) {
      await ch.write({ error: { message: (err as Error).message } }).catch(() => {})
      stream.abort(err as Error)
    }
  }
}

/** asks for the member's status on `stream`, a new `/paired/query/1.0.0` stream to it */
export async function askStatus (stream: Stream, signal?: AbortSignal): Promise<StatusDoc> {
  try {
    const ch = jsonChannel(stream, MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS)
    await ch.write({ type: 'status' }, { signal })
    const reply = await ch.read<{ status?: StatusDoc, error?: { message: string } }>({ signal })
    if (!isObject(reply) || reply.status == null) throw new Error(reply?.error?.message ?? 'the peer sent no status')
    await stream.close({ signal }).catch(() => {})
    return reply.status
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

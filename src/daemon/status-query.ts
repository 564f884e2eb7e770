/**
 * The status query on `/paired/query/1.0.0` (`paired query PEER`): a member asks another for
 * its status document, one JSON message each way: `{ type: 'status' }`, answered with
 * `{ status }` or `{ error: { message } }`. Only peers that passed the hello are answered,
 * each within its own rate limit ({@link QUERY_LIMIT}); the excess is refused and reported.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { MAX_QUERY_MESSAGE_BYTES, PROTOCOL_QUERY, STREAM_READ_TIMEOUT_MS } from '../node/constants.js'
import { ProtocolError, jsonChannel, refuse, type JsonChannel } from '../protocol/frames.js'
import { queryReply, queryRequest } from '../protocol/schemas/query.js'
import type { WireStatus } from '../protocol/schemas/status.js'
import { PeerLimiter, QUERY_LIMIT, type FloodListener } from '../net/limits.js'

export { fromWire, toWire, type WireStatus } from '../protocol/schemas/status.js'

function channel (stream: Stream): JsonChannel {
  return jsonChannel(stream, { protocol: PROTOCOL_QUERY, maxBytes: MAX_QUERY_MESSAGE_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS })
}

export interface StatusQueryComponents {
  /** did `peer` prove membership (the hello) on this session's connections? */
  isVerified: (peer: string) => boolean
  /** this daemon's own status, as it goes on the wire (see `toWire`) */
  status: () => Promise<WireStatus>
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
    const ch = channel(stream)
    try {
      await ch.read(queryRequest)
      await ch.write({ status: await this.components.status() })
      await stream.close()
    } catch (err) {
      const message = err instanceof ProtocolError ? 'unknown query' : (err as Error).message
      await ch.write({ error: { message } }).catch(() => {})
      stream.abort(err as Error)
    }
  }
}

/**
 * asks for the member's status on `stream`, a new `/paired/query/1.0.0` stream to it; the
 * answer is checked field by field (a `ProtocolError` names the field); `fromWire` turns it
 * into the API's document
 */
export async function askStatus (stream: Stream, signal?: AbortSignal): Promise<WireStatus> {
  try {
    const ch = channel(stream)
    await ch.write({ type: 'status' }, { signal })
    const reply = await ch.read(queryReply, { signal })
    if (reply.status == null) {
      if (reply.error != null) throw new Error(reply.error.message)
      throw refuse(new ProtocolError(PROTOCOL_QUERY, 'status', 'the peer sent no status'))
    }
    await stream.close({ signal }).catch(() => {})
    return reply.status
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

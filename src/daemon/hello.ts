/**
 * The membership hello on `/paired/team/1.0.0`, three JSON messages: `hello` (the
 * initiator's certificate, roster and departures), `welcome` (the responder's), `ack`.
 * Each side verifies the other's certificate before it answers, so "admitted" on either
 * side means both sides accepted. Either side may answer `refused` with an error instead.
 * This file runs the exchange; what "verify" means (certificate, roster merge) is the
 * session's, passed in (see `admission.ts` and `roster-gossip.ts`); who passed the hello
 * is `membership.ts`'s. On `/paired/team/1.1.0` (tried first, the old id second) `hello`
 * and `welcome` also carry address hints (`member-addrs.ts`); a 1.0.0 daemon answers only
 * the old id and never sees them.
 */
import type { Connection, Stream } from '@libp2p/interface'
import { MAX_TEAM_MESSAGE_BYTES, PROTOCOL_TEAM, STREAM_READ_TIMEOUT_MS } from '../node/constants.js'
import { jsonChannel, type JsonChannel } from '../protocol/frames.js'
import { helloAnswer, helloAnswerHints, helloClose, helloOpen, helloOpenHints } from '../protocol/schemas/team.js'

/** the hello whose `hello` and `welcome` may carry address hints */
export const PROTOCOL_TEAM_HINTS = '/paired/team/1.1.0'

export interface HelloMessage {
  type: 'hello' | 'welcome' | 'ack' | 'refused'
  cert?: unknown
  roster?: unknown
  departures?: unknown
  /** address hints (`/paired/team/1.1.0` only) */
  addrs?: unknown
  error?: { name: string, message: string }
}

export interface HelloHooks {
  /** this daemon's side of the exchange; `hints`: the other side reads address hints */
  payload: (type: 'hello' | 'welcome', hints: boolean) => HelloMessage
  /** checks the other side's certificate and merges what it sent; throws to refuse */
  verify: (peer: string, msg: HelloMessage) => Promise<void>
  /**
   * the signed records that say why `peer` (which presented `msg`) was refused, sent with
   * the refusal so a removed member can check its removal itself rather than trust words
   */
  refusal?: (peer: string, msg: unknown) => unknown[]
}

export type HelloResult =
  /** both sides accepted; `msg` is what the other side presented */
  | { status: 'verified', msg: HelloMessage }
  /** the other side refused us; `records`: the signed records it sent with the refusal (untrusted) */
  | { status: 'refused-by-peer', error: { name: string, message: string }, records?: unknown }
  /** we refused the other side */
  | { status: 'refused', error: Error }
  /** the stream broke */
  | { status: 'failed', error: Error }

function errorOf (value: { name?: string, message: string } | undefined): { name: string, message: string } {
  return value != null ? { name: String(value.name), message: value.message } : { name: 'Error', message: 'refused' }
}

function channel (stream: Stream, hints: boolean): JsonChannel {
  return jsonChannel(stream, { protocol: hints ? PROTOCOL_TEAM_HINTS : PROTOCOL_TEAM, maxBytes: MAX_TEAM_MESSAGE_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS })
}

/** the initiator's side, on a new stream of `connection` */
export async function initiateHello (connection: Connection, hooks: HelloHooks): Promise<HelloResult> {
  const peer = connection.remotePeer.toString()
  let stream: Stream | undefined
  try {
    // multistream-select asks for each id in turn: a 1.1.0 peer costs no extra round trip
    stream = await connection.newStream([PROTOCOL_TEAM_HINTS, PROTOCOL_TEAM], { signal: AbortSignal.timeout(STREAM_READ_TIMEOUT_MS) })
    const hints = stream.protocol === PROTOCOL_TEAM_HINTS
    const ch = channel(stream, hints)
    await ch.write(hooks.payload('hello', hints))
    const reply = await ch.read(hints ? helloAnswerHints : helloAnswer)
    if (reply.type === 'refused') {
      await stream.close().catch(() => {})
      return { status: 'refused-by-peer', error: errorOf(reply.error), records: reply.departures }
    }
    try {
      await hooks.verify(peer, reply)
    } catch (err) {
      const e = err as Error
      await ch.write({ type: 'refused', error: { name: e.name, message: e.message }, departures: hooks.refusal?.(peer, reply.cert) }).catch(() => {})
      stream.abort(e)
      return { status: 'refused', error: e }
    }
    await ch.write({ type: 'ack' })
    await stream.close().catch(() => {})
    return { status: 'verified', msg: reply }
  } catch (err) {
    stream?.abort(err as Error)
    return { status: 'failed', error: err as Error }
  }
}

/** the responder's side, on the stream the initiator opened (`hints`: on `/paired/team/1.1.0`) */
export async function answerHello (stream: Stream, connection: Connection, hooks: HelloHooks, hints = false): Promise<HelloResult> {
  const peer = connection.remotePeer.toString()
  const ch = channel(stream, hints)
  let msg: HelloMessage | undefined
  try {
    msg = await ch.read(hints ? helloOpenHints : helloOpen)
    await hooks.verify(peer, msg)
  } catch (err) {
    const e = err as Error
    const cert = msg?.cert
    await ch.write({ type: 'refused', error: { name: e.name, message: e.message }, departures: hooks.refusal?.(peer, cert) }).catch(() => {})
    await stream.close().catch(() => {})
    return { status: 'refused', error: e }
  }
  try {
    await ch.write(hooks.payload('welcome', hints))
    const final = await ch.read(helloClose)
    await stream.close().catch(() => {})
    if (final.type === 'ack') return { status: 'verified', msg }
    return { status: 'refused-by-peer', error: errorOf(final.error), records: final.departures }
  } catch (err) {
    stream.abort(err as Error)
    return { status: 'failed', error: err as Error }
  }
}

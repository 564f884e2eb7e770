/**
 * Network key rotation: an admin (`paired team rotate-key`) signs a new pre-shared key with
 * a higher key epoch and hands it, over `/paired/rekey/1.0.0`, to each current member it
 * is connected to (never by gossip: a removed member must not see it). Each member checks
 * the signature and that the signer is an admin, saves the key to `team.json` and restarts
 * its libp2p node with it. A removed member, still holding the old key, then cannot even
 * finish a handshake. A member that was offline during the rotation needs a new invite.
 */
import { randomBytes } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS } from '../node/constants.js'
import { canonicalJson, peerPublicKey, verifyEd25519, type Signer } from '../team/index.js'
import { ProtocolError, jsonChannel, type JsonChannel } from '../protocol/frames.js'
import { keyRotation, rekeyReply, rekeyRequest, type KeyRotation } from '../protocol/schemas/rekey.js'

export const PROTOCOL_REKEY = '/paired/rekey/1.0.0'
const DOMAIN = 'paired/rekey/v1\n'

export type { KeyRotation }

function channel (stream: Stream): JsonChannel {
  return jsonChannel(stream, { protocol: PROTOCOL_REKEY, maxBytes: MAX_QUERY_MESSAGE_BYTES, timeoutMs: STREAM_READ_TIMEOUT_MS })
}

function payload (r: Omit<KeyRotation, 'sig'>): Uint8Array {
  return new TextEncoder().encode(DOMAIN + canonicalJson({ v: r.v, teamId: r.teamId, keyEpoch: r.keyEpoch, psk: r.psk, at: r.at, by: r.by }))
}

export function newRotation (teamId: string, keyEpoch: number, signer: Signer, at = Date.now()): KeyRotation {
  const body = { v: 1 as const, teamId, keyEpoch, psk: randomBytes(32).toString('hex'), at, by: signer.peerId }
  return { ...body, sig: Buffer.from(signer.sign(payload(body))).toString('base64url') }
}

/** a well-formed rotation of `teamId`, signed by its `by` (whether `by` is an admin is the caller's check) */
export function verifyRotation (value: unknown, teamId: string): value is KeyRotation {
  if (!keyRotation.check(value) || value.teamId !== teamId) return false
  const { keyEpoch, psk, at, by, sig } = value
  const key = peerPublicKey(by)
  if (key == null) return false
  try {
    return verifyEd25519(key, payload({ v: 1, teamId, keyEpoch, psk, at, by }), Buffer.from(sig, 'base64url'))
  } catch {
    return false
  }
}

/** sends `rotation` on a fresh `/paired/rekey/1.0.0` stream; resolves when the member took it */
export async function sendRotation (stream: Stream, rotation: KeyRotation, signal?: AbortSignal): Promise<void> {
  try {
    const ch = channel(stream)
    await ch.write({ type: 'rekey', rotation }, { signal })
    const reply = await ch.read(rekeyReply, { signal })
    if (!reply.ok) throw new Error(reply.error ?? 'refused')
    await stream.close({ signal }).catch(() => {})
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}

/** answers one rotation request: `take` checks and applies it (true when taken) */
export async function answerRotation (stream: Stream, take: (rotation: unknown) => Promise<boolean>): Promise<void> {
  const ch = channel(stream)
  try {
    let msg
    try {
      msg = await ch.read(rekeyRequest)
    } catch (err) {
      // a malformed request is told why, as a refused rotation always was
      if (!(err instanceof ProtocolError)) throw err
      await ch.write({ ok: false, error: err.message })
      await stream.close().catch(() => {})
      return
    }
    const ok = await take(msg.rotation)
    await ch.write(ok ? { ok: true } : { ok: false, error: 'the key rotation was not signed by an admin of this team, or is not newer' })
    await stream.close().catch(() => {})
  } catch (err) {
    stream.abort(err as Error)
  }
}

/**
 * Departures: a member that runs `paired team leave` signs `{teamId, peerId, leftAt}` with
 * its own key and tells the team. Members then stop counting any certificate of that peer
 * issued at or before `leftAt`; a fresh invite (a later certificate) lets it back in.
 * Only the peer itself can sign its departure, so no one can push a member out this way.
 */
import { canonicalJson, peerPublicKey, verifyEd25519, type MemberCertificate, type Signer } from '../team/index.js'
import { isObject } from '../protocol/frames.js'

export interface Departure {
  v: 1
  teamId: string
  peerId: string
  leftAt: number
  sig: string
}

const DOMAIN = 'paired/leave/v1\n'

function payload (d: Omit<Departure, 'sig'>): Uint8Array {
  return new TextEncoder().encode(DOMAIN + canonicalJson({ v: d.v, teamId: d.teamId, peerId: d.peerId, leftAt: d.leftAt }))
}

export function signDeparture (teamId: string, signer: Signer, leftAt: number): Departure {
  const body = { v: 1 as const, teamId, peerId: signer.peerId, leftAt }
  return { ...body, sig: Buffer.from(signer.sign(payload(body))).toString('base64url') }
}

/** true when `value` is a well-formed departure of team `teamId` signed by its peer */
export function verifyDeparture (value: unknown, teamId: string): value is Departure {
  if (!isObject(value)) return false
  const { v, peerId, leftAt, sig } = value
  if (v !== 1 || value.teamId !== teamId || typeof peerId !== 'string' || typeof sig !== 'string') return false
  if (typeof leftAt !== 'number' || !Number.isSafeInteger(leftAt) || leftAt < 0) return false
  const key = peerPublicKey(peerId)
  if (key == null) return false
  return verifyEd25519(key, payload({ v, teamId, peerId, leftAt }), Buffer.from(sig, 'base64url'))
}

/** the latest departure per peer; a grow-only, order-free merge */
export class Departures {
  private readonly latest = new Map<string, Departure>()

  constructor (private readonly teamId: string) {}

  /** merge untrusted records; returns the peers whose departure moved forward */
  merge (values: unknown): string[] {
    if (!Array.isArray(values)) return []
    const changed: string[] = []
    for (const value of values.slice(0, 10_000)) {
      if (!verifyDeparture(value, this.teamId)) continue
      const have = this.latest.get(value.peerId)
      if (have == null || value.leftAt > have.leftAt) {
        this.latest.set(value.peerId, value)
        changed.push(value.peerId)
      }
    }
    return changed
  }

  /** has this certificate been given up by its holder? */
  covers (cert: Pick<MemberCertificate, 'peerId' | 'issuedAt'>): boolean {
    const d = this.latest.get(cert.peerId)
    return d != null && cert.issuedAt <= d.leftAt
  }

  toJSON (): Departure[] {
    return [...this.latest.values()].sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
  }
}

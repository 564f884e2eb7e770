/**
 * Departures: who is no longer a member, and why. Three signed records, each merged
 * grow-only and order-free, replicated on the roster topic and in every hello:
 *
 * - **left**: a member that runs `paired team leave` signs `{teamId, peerId, leftAt}` with
 *   its own key. Members stop counting any certificate of that peer issued at or before
 *   `leftAt`; a fresh invite (a later certificate) lets it back in. Only the peer itself
 *   signs its departure.
 * - **removed**: an admin (`paired team remove PEER`) signs `{teamId, peerId, at, by}`.
 *   Every certificate of that peer whose permission predates `at` stops counting: a
 *   team-signed certificate issued at or before `at`, or one derived from an invite an
 *   admin created at or before `at` (the joiner chooses its own `issuedAt`; the admin's
 *   grant time it cannot forge). Only a new invite, made after the removal, lets it back.
 * - **revoked**: an admin (`paired team invite revoke ID`) signs `{teamId, inviteId, at,
 *   by, keep}`: the invite admits nobody any more, except the peers in `keep` (those it
 *   had admitted when it was revoked, so a revocation does not evict them).
 *
 * A removal or revocation counts only when `by` is an admin of the roster (checked by the
 * `isAdmin` callback); a forged one is dropped like any bad signature.
 */
import { canonicalJson, peerPublicKey, verifyEd25519, type MemberCertificate, type Signer } from '../team/index.js'
import { isObject } from '../model/guards.js'
import { departureRecord, removalRecord, revocationRecord } from '../protocol/schemas/team.js'

export interface Departure {
  v: 1
  teamId: string
  peerId: string
  leftAt: number
  sig: string
}

const DOMAIN = 'paired/leave/v1\n'
const REMOVE_DOMAIN = 'paired/remove/v1\n'
const REVOKE_DOMAIN = 'paired/revoke/v1\n'

/** An admin removed a member. */
export interface Removal {
  v: 1
  type: 'removed'
  teamId: string
  peerId: string
  at: number
  by: string
  sig: string
}

/** An admin revoked an invite; `keep`: the peers it had admitted, who stay. */
export interface Revocation {
  v: 1
  type: 'revoked'
  teamId: string
  inviteId: string
  at: number
  by: string
  keep: string[]
  sig: string
}

function removalPayload (r: Omit<Removal, 'sig'>): Uint8Array {
  return new TextEncoder().encode(REMOVE_DOMAIN + canonicalJson({ v: r.v, type: r.type, teamId: r.teamId, peerId: r.peerId, at: r.at, by: r.by }))
}

function revocationPayload (r: Omit<Revocation, 'sig'>): Uint8Array {
  return new TextEncoder().encode(REVOKE_DOMAIN + canonicalJson({ v: r.v, type: r.type, teamId: r.teamId, inviteId: r.inviteId, at: r.at, by: r.by, keep: r.keep }))
}

const sign = (signer: Signer, data: Uint8Array): string => Buffer.from(signer.sign(data)).toString('base64url')

export function signRemoval (teamId: string, peerId: string, signer: Signer, at: number): Removal {
  const body = { v: 1 as const, type: 'removed' as const, teamId, peerId, at, by: signer.peerId }
  return { ...body, sig: sign(signer, removalPayload(body)) }
}

export function signRevocation (teamId: string, inviteId: string, keep: string[], signer: Signer, at: number): Revocation {
  const body = { v: 1 as const, type: 'revoked' as const, teamId, inviteId, at, by: signer.peerId, keep: [...new Set(keep)].sort() }
  return { ...body, sig: sign(signer, revocationPayload(body)) }
}

function checkSig (by: string, data: Uint8Array, sig: string): boolean {
  const key = peerPublicKey(by)
  if (key == null) return false
  try {
    return verifyEd25519(key, data, Buffer.from(sig, 'base64url'))
  } catch {
    return false
  }
}

/** true when `value` is a well-formed removal of team `teamId` signed by `value.by` (admin or not) */
export function verifyRemoval (value: unknown, teamId: string): value is Removal {
  if (!removalRecord.check(value) || value.teamId !== teamId) return false
  const { peerId, at, by, sig } = value
  return checkSig(by, removalPayload({ v: 1, type: 'removed', teamId, peerId, at, by }), sig)
}

/** true when `value` is a well-formed revocation of team `teamId` signed by `value.by` */
export function verifyRevocation (value: unknown, teamId: string): value is Revocation {
  if (!revocationRecord.check(value) || value.teamId !== teamId) return false
  const { inviteId, at, by, keep, sig } = value
  return checkSig(by, revocationPayload({ v: 1, type: 'revoked', teamId, inviteId, at, by, keep }), sig)
}

function payload (d: Omit<Departure, 'sig'>): Uint8Array {
  return new TextEncoder().encode(DOMAIN + canonicalJson({ v: d.v, teamId: d.teamId, peerId: d.peerId, leftAt: d.leftAt }))
}

export function signDeparture (teamId: string, signer: Signer, leftAt: number): Departure {
  const body = { v: 1 as const, teamId, peerId: signer.peerId, leftAt }
  return { ...body, sig: Buffer.from(signer.sign(payload(body))).toString('base64url') }
}

/** true when `value` is a well-formed departure of team `teamId` signed by its peer */
export function verifyDeparture (value: unknown, teamId: string): value is Departure {
  if (!departureRecord.check(value) || value.teamId !== teamId) return false
  const { v, peerId, leftAt, sig } = value
  const key = peerPublicKey(peerId)
  if (key == null) return false
  return verifyEd25519(key, payload({ v, teamId, peerId, leftAt }), Buffer.from(sig, 'base64url'))
}

export type DepartureRecord = Departure | Removal | Revocation

const byKey = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/** the latest departure and removal per peer, and the revocation per invite; a grow-only, order-free merge */
export class Departures {
  private readonly latest = new Map<string, Departure>()
  private readonly removals = new Map<string, Removal>()
  private readonly revocations = new Map<string, Revocation>()
  /** who counts as an admin (for removals and revocations); nobody until set */
  isAdmin: (peer: string) => boolean = () => false

  constructor (private readonly teamId: string) {}

  /**
   * merge untrusted records; returns the peers whose membership may have changed (those
   * that left or were removed, and, for a revocation, `*` since any holder may be affected)
   */
  merge (values: unknown): string[] {
    if (!Array.isArray(values)) return []
    const changed: string[] = []
    for (const value of values.slice(0, 10_000)) {
      if (isObject(value) && value.type === 'removed') {
        if (!verifyRemoval(value, this.teamId) || !this.isAdmin(value.by)) continue
        const have = this.removals.get(value.peerId)
        if (have == null || value.at > have.at || (value.at === have.at && value.sig > have.sig)) {
          this.removals.set(value.peerId, value)
          changed.push(value.peerId)
        }
      } else if (isObject(value) && value.type === 'revoked') {
        if (!verifyRevocation(value, this.teamId) || !this.isAdmin(value.by)) continue
        const have = this.revocations.get(value.inviteId)
        // the earliest revocation of an invite wins: it keeps the fewest
        if (have == null || value.at < have.at || (value.at === have.at && value.sig < have.sig)) {
          this.revocations.set(value.inviteId, value)
          changed.push('*')
        }
      } else if (verifyDeparture(value, this.teamId)) {
        const have = this.latest.get(value.peerId)
        if (have == null || value.leftAt > have.leftAt) {
          this.latest.set(value.peerId, value)
          changed.push(value.peerId)
        }
      }
    }
    return changed
  }

  /** does this certificate no longer count: given up by its holder, removed, or from a revoked invite? */
  covers (cert: Pick<MemberCertificate, 'peerId' | 'issuedAt' | 'grant'>): boolean {
    return this.coveredBy(cert) !== undefined
  }

  /**
   * Which record takes `cert` out of the team, if any: its holder's own departure, an
   * admin's removal, or the revocation of its invite (in that order, like `covers`).
   */
  coveredBy (cert: Pick<MemberCertificate, 'peerId' | 'issuedAt' | 'grant'>): DepartureRecord | undefined {
    const d = this.latest.get(cert.peerId)
    if (d != null && cert.issuedAt <= d.leftAt) return d
    const r = this.removals.get(cert.peerId)
    if (r != null && (cert.grant?.issuedAt ?? cert.issuedAt) <= r.at) return r
    const inviteId = cert.grant?.inviteId
    const v = inviteId === undefined ? undefined : this.revocations.get(inviteId)
    return v != null && !v.keep.includes(cert.peerId) ? v : undefined
  }

  /** the records about `peer` (its departure, its removal), to send it with a refusal */
  about (peer: string): DepartureRecord[] {
    return [this.latest.get(peer), this.removals.get(peer)].filter((r): r is Departure | Removal => r != null)
  }

  /** why a certificate does not count, for messages */
  reason (cert: Pick<MemberCertificate, 'peerId' | 'issuedAt' | 'grant' | 'name'>): string | undefined {
    const d = this.latest.get(cert.peerId)
    if (d != null && cert.issuedAt <= d.leftAt) return `${cert.name} (${cert.peerId}) left the team; it needs a new invite to come back`
    const r = this.removals.get(cert.peerId)
    if (r != null && (cert.grant?.issuedAt ?? cert.issuedAt) <= r.at) return `${cert.name} (${cert.peerId}) was removed from the team by an admin; it needs a new invite to come back`
    if (this.covers(cert)) return `the invite ${cert.grant?.inviteId ?? ''} was revoked by an admin`
    return undefined
  }

  toJSON (): DepartureRecord[] {
    return [
      ...[...this.latest.values()].sort((a, b) => byKey(a.peerId, b.peerId)),
      ...[...this.removals.values()].sort((a, b) => byKey(a.peerId, b.peerId)),
      ...[...this.revocations.values()].sort((a, b) => byKey(a.inviteId, b.inviteId))
    ]
  }
}

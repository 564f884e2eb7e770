/**
 * The team's membership as a state-based CRDT over certificates: merging the same
 * certificates in any order, any number of times, gives every replica the same roster.
 *
 * State (what `toJSON` returns and `merge` accepts):
 * - per peer, its greatest team-signed certificate by (issuedAt, sig);
 * - per invite (keyed by its grant signature), the peers it admitted: at most `maxUses`,
 *   the first by (issuedAt, peerId), each with its least certificate from that invite.
 *   A peer pushed out of an invite by an earlier one can never come back through it,
 *   so its certificate is dropped for good.
 *
 * View: a peer's current certificate is the greatest by (issuedAt, sig) among its
 * team-signed certificate and the ones its invites still admit it with.
 */
import { InvalidArgumentError } from '../errors.js'
import { fromBase64url } from './canonical.js'
import { isCertificateCurrent, verifyCertificate } from './certificate.js'
import type { TeamKey } from './certificate.js'
import { ED25519_PUBLIC_KEY_LENGTH } from './constants.js'
import { InvalidCertificateError, InviteUsedError } from './errors.js'
import type { MemberCertificate } from './types.js'

interface InvitePool {
  inviteId: string
  maxUses: number
  /** peerId → its least certificate derived from this invite */
  holders: Map<string, MemberCertificate>
}

function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Order of versions of one peer's certificate: (issuedAt, sig). */
function byVersion (a: MemberCertificate, b: MemberCertificate): number {
  return a.issuedAt - b.issuedAt || compareStrings(a.sig, b.sig)
}

/** Order of peers competing for an invite's uses: (issuedAt, peerId). */
function bySlot (a: MemberCertificate, b: MemberCertificate): number {
  return a.issuedAt - b.issuedAt || compareStrings(a.peerId, b.peerId)
}

export class Roster {
  private readonly team: TeamKey
  private readonly signed = new Map<string, MemberCertificate>()
  private readonly pools = new Map<string, InvitePool>()
  /** peerId → keys of the pools holding it */
  private readonly poolsOf = new Map<string, Set<string>>()
  /** peerId → current certificate (the view) */
  private readonly current = new Map<string, MemberCertificate>()
  /** the JSON of held certificates, made once each */
  private readonly heldJson = new WeakMap<MemberCertificate, string>()

  constructor (team: TeamKey) {
    if (typeof team?.publicKey !== 'string' || fromBase64url(team.publicKey, ED25519_PUBLIC_KEY_LENGTH) == null) {
      throw new InvalidArgumentError('the team public key is malformed')
    }
    this.team = { teamId: team.teamId, publicKey: team.publicKey }
  }

  /**
   * Verifies `cert` at `now` and merges it. Returns `'added'` when the roster's state
   * changed, `'exists'` when it already held this or a superseding certificate. Throws
   * `InvalidCertificateError`, or `InviteUsedError` when the cert's invite already
   * admitted `maxUses` other peers that all sort before it by (issuedAt, peerId).
   */
  add (cert: unknown, now: number): 'added' | 'exists' {
    // every hello and roster message carries the whole roster: most of it is held already
    if (this.holds(cert, now)) return 'exists'
    verifyCertificate(cert, this.team, now)
    const peerId = cert.peerId
    const grant = cert.grant
    if (grant === undefined) {
      const best = this.signed.get(peerId)
      if (best != null && byVersion(cert, best) <= 0) return 'exists'
      this.signed.set(peerId, cert)
      this.refresh(peerId)
      return 'added'
    }
    let pool = this.pools.get(grant.sig)
    const held = pool?.holders.get(peerId)
    if (pool != null && held != null) {
      if (byVersion(cert, held) >= 0) return 'exists'
      pool.holders.set(peerId, cert)
      this.refresh(peerId)
      return 'added'
    }
    if (pool == null) {
      pool = { inviteId: grant.inviteId, maxUses: grant.maxUses, holders: new Map() }
      this.pools.set(grant.sig, pool)
    }
    if (pool.holders.size >= pool.maxUses) {
      let last: MemberCertificate | undefined
      for (const holder of pool.holders.values()) {
        if (last == null || bySlot(holder, last) > 0) last = holder
      }
      if (last == null || bySlot(cert, last) > 0) {
        throw new InviteUsedError(`invite ${grant.inviteId.slice(0, 8)} was already used (max ${grant.maxUses})`)
      }
      pool.holders.delete(last.peerId)
      this.poolsOf.get(last.peerId)?.delete(grant.sig)
      this.refresh(last.peerId)
    }
    pool.holders.set(peerId, cert)
    let keys = this.poolsOf.get(peerId)
    if (keys == null) {
      keys = new Set()
      this.poolsOf.set(peerId, keys)
    }
    keys.add(grant.sig)
    this.refresh(peerId)
    return 'added'
  }

  /**
   * Whether `cert`'s invite has already admitted as many other peers as it may. A hello
   * refuses such a certificate outright, so a late holder of a used invite cannot push out
   * the member it admitted by dating its certificate earlier (merges of others' rosters
   * still follow the deterministic rule of `add`).
   */
  inviteUsedUp (cert: MemberCertificate): boolean {
    const grant = cert.grant
    if (grant === undefined) return false
    const pool = this.pools.get(grant.sig)
    return pool != null && !pool.holders.has(cert.peerId) && pool.holders.size >= pool.maxUses
  }

  /**
   * The certificate this roster would count for `cert`'s slot once `cert` is merged: `cert`
   * itself, or the earlier certificate its peer already holds from the same invite (an
   * invite keeps each holder's least certificate, so a later one from it changes nothing).
   * Pure: the roster is not changed.
   */
  kept (cert: MemberCertificate): MemberCertificate {
    const grant = cert.grant
    if (grant === undefined) return cert
    const held = this.pools.get(grant.sig)?.holders.get(cert.peerId)
    return held != null && byVersion(cert, held) >= 0 ? held : cert
  }

  private refresh (peerId: string): void {
    let best = this.signed.get(peerId)
    const keys = this.poolsOf.get(peerId)
    for (const key of keys ?? []) {
      const cert = this.pools.get(key)?.holders.get(peerId)
      if (cert != null && (best == null || byVersion(cert, best) > 0)) best = cert
    }
    if (keys != null && keys.size === 0) this.poolsOf.delete(peerId)
    if (best == null) this.current.delete(peerId)
    else this.current.set(peerId, best)
  }

  /** The peer's current certificate. */
  get (peerId: string): MemberCertificate | undefined {
    return this.current.get(peerId)
  }

  has (peerId: string): boolean {
    return this.current.has(peerId)
  }

  /** Present, and no certificate in its chain has expired at `now`. */
  isMember (peerId: string, now: number): boolean {
    const cert = this.current.get(peerId)
    return cert != null && isCertificateCurrent(cert, now)
  }

  /** Every member's current certificate, sorted by peer id (expired ones included). */
  members (): MemberCertificate[] {
    return [...this.current.values()].sort((a, b) => compareStrings(a.peerId, b.peerId))
  }

  /** Number of members. */
  get size (): number {
    return this.current.size
  }

  /**
   * The full replicated state: every certificate the roster keeps, including ones that
   * hold an invite use but are superseded. Sorted by (peerId, issuedAt, sig).
   */
  toJSON (): MemberCertificate[] {
    const all = [...this.signed.values()]
    for (const pool of this.pools.values()) all.push(...pool.holders.values())
    return all.sort((a, b) => compareStrings(a.peerId, b.peerId) || byVersion(a, b))
  }

  /**
   * Whether `cert` is, field for field, a certificate this roster holds and that is still
   * current at `now`: it was verified when it was added, so adding it again changes nothing
   * and needs no signature check (three Ed25519 verifications for an invited member's).
   */
  private holds (cert: unknown, now: number): boolean {
    if (cert == null || typeof cert !== 'object') return false
    const { peerId, sig, grant } = cert as Partial<MemberCertificate>
    if (typeof peerId !== 'string' || typeof sig !== 'string') return false
    const held = grant === undefined ? this.signed.get(peerId) : typeof grant?.sig === 'string' ? this.pools.get(grant.sig)?.holders.get(peerId) : undefined
    if (held == null || held.sig !== sig || !isCertificateCurrent(held, now)) return false
    let json = this.heldJson.get(held)
    if (json === undefined) {
      json = JSON.stringify(held)
      this.heldJson.set(held, json)
    }
    return json === JSON.stringify(cert)
  }

  /** A roster of `certs` (e.g. read from disk); entries that do not verify at `now` are skipped. */
  static fromJSON (team: TeamKey, certs: unknown, now: number): Roster {
    const roster = new Roster(team)
    if (Array.isArray(certs)) roster.merge(certs, now)
    return roster
  }

  /**
   * Adds each certificate, skipping invalid and over-used ones, and reports what changed
   * (see {@link RosterMerge}).
   */
  merge (certs: Iterable<unknown>, now: number): RosterMerge {
    const before = new Map(this.current)
    let changed = false
    for (const cert of certs) {
      try {
        if (this.add(cert, now) === 'added') changed = true
      } catch (err) {
        if (!(err instanceof InvalidCertificateError) && !(err instanceof InviteUsedError)) throw err
      }
    }
    const added: string[] = []
    const renewed: string[] = []
    for (const [peerId, cert] of this.current) {
      const was = before.get(peerId)
      if (was == null) added.push(peerId)
      else if (was !== cert) renewed.push(peerId)
    }
    return { added: added.sort(compareStrings), renewed: renewed.sort(compareStrings), changed }
  }
}

/** What {@link Roster.merge} changed. */
export interface RosterMerge {
  /** peer ids that were not members before and are now, sorted */
  added: string[]
  /**
   * peer ids that were members before and count another certificate now (a rejoin with a
   * fresh invite, a new role), sorted
   */
  renewed: string[]
  /**
   * whether the replicated state (`toJSON`) changed: true whenever `added` or `renewed` is
   * not empty, and also when only a superseded certificate was kept or dropped
   */
  changed: boolean
}

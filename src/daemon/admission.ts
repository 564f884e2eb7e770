/**
 * Who the membership hello admits: the checks on the certificate a peer presents, as pure
 * functions (no I/O, no clock of their own). They run in two steps because the departures
 * a hello carries are merged between them, and only for a certificate that passed the first:
 *
 * 1. {@link checkPresented}: the certificate is the connecting peer's own, and of this team.
 * 2. {@link checkAdmissible}: no departure, removal or revocation covers it, nor the
 *    certificate the roster would keep in its place (an invite keeps a holder's first
 *    certificate: a leaver cannot come back through the invite it used); and one this
 *    daemon has not seen yet that comes from an invite is fresh: the invite has not
 *    expired, is not used up, and the joiner dated the certificate within the clock skew
 *    (it dates it itself, so an expired or used invite cannot be replayed by backdating).
 *
 * Signatures and the certificate chain are the roster's check (`Roster.add`), made after.
 * Each refusal is a named error; its name and message go back to the peer in `refused`.
 */
import { DEFAULT_MAX_SKEW_MS } from '../state/crdt/index.js'
import { isObject } from '../model/guards.js'
import {
  InvalidCertificateError, InviteExpiredError, InviteUsedError, WrongTeamError,
  type MemberCertificate, type Roster, type TeamInfo
} from '../team/index.js'
import type { Departures } from './departures.js'

/** what {@link checkAdmissible} reads: this daemon's roster and departures, and the time */
export interface AdmissionView {
  roster: Pick<Roster, 'get' | 'inviteUsedUp' | 'kept'>
  departures: Pick<Departures, 'covers' | 'reason'>
  now: number
}

/** throws unless `cert` is a certificate for `peer` (by its peer id) in `team` */
export function checkPresented (cert: unknown, peer: string, team: Pick<TeamInfo, 'teamId' | 'name'>): asserts cert is MemberCertificate {
  if (!isObject(cert) || cert.peerId !== peer) {
    throw new InvalidCertificateError('the certificate presented is not for the connecting peer')
  }
  if (cert.teamId !== team.teamId) {
    throw new WrongTeamError(`this daemon is in team ${team.name} (${team.teamId}), not ${String(cert.teamId)}`)
  }
}

/** throws unless `peer`'s certificate `cert` (already through {@link checkPresented}) admits it now */
export function checkAdmissible (cert: MemberCertificate, peer: string, { roster, departures, now }: AdmissionView): void {
  if (departures.covers(cert)) {
    throw new InvalidCertificateError(departures.reason(cert) ?? `${cert.name} (${peer}) is not a member`)
  }
  // admit only what the roster will count: a later certificate from an invite this peer
  // already used is not kept (the earlier one is), so if that one no longer counts, nor does it
  const kept = roster.kept(cert)
  if (kept !== cert && departures.covers(kept)) {
    throw new InviteUsedError(`invite ${cert.grant?.inviteId.slice(0, 8) ?? ''} was already used: ${departures.reason(kept) ?? `${cert.name} (${peer}) is not a member`}`)
  }
  const known = roster.get(peer)
  if (cert.grant == null || (known != null && known.sig === cert.sig)) return
  if (now > cert.grant.expiresAt) {
    throw new InviteExpiredError(`the invite ${cert.grant.inviteId} expired at ${new Date(cert.grant.expiresAt).toISOString()}`)
  }
  if (roster.inviteUsedUp(cert)) {
    throw new InviteUsedError(`invite ${cert.grant.inviteId.slice(0, 8)} was already used (max ${cert.grant.maxUses})`)
  }
  if (Math.abs(now - cert.issuedAt) > DEFAULT_MAX_SKEW_MS) {
    throw new InvalidCertificateError(`the certificate of ${peer} is dated ${new Date(cert.issuedAt).toISOString()}, not now: join again with a fresh invite (or fix the clock)`)
  }
}

/**
 * This daemon's own standing in its team, as pure functions over the roster and the
 * departure records: a member, or shut out by an admin (removed, or its invite revoked).
 * A daemon that is shut out knows by whom and when, shows it (`paired team`, `paired
 * status`), refuses writes and submits with {@link RemovedFromTeamError}, dials nobody, and
 * comes back only through a newer invite ({@link checkRejoin}). The same functions tell a
 * joiner, before it changes anything, that the invite it holds cannot admit it.
 */
import { InviteUsedError, type MemberCertificate, type Roster } from '../team/index.js'
import type { Departures, DepartureRecord } from './departures.js'

/** This daemon was removed from its team (or its invite revoked): writes and submits are refused. HTTP 403, exit code 6. */
export class RemovedFromTeamError extends Error {
  override name = 'RemovedFromTeamError'
}

/** An invite made before this daemon's removal: it cannot bring the daemon back. HTTP 400, exit code 2. */
export class StaleInviteError extends Error {
  override name = 'StaleInviteError'
}

/** how an admin shut this daemon out of its team */
export interface ShutOut {
  teamId: string
  teamName: string
  /** removed by an admin, or the invite that admitted it was revoked */
  kind: 'removed' | 'revoked'
  /** the admin's peer id, and its name when the roster knows it */
  by: string
  byName: string | null
  /** when the admin signed it (ms since the epoch) */
  at: number
}

/** what {@link shutOutOf} and {@link checkRejoin} read */
export interface StandingView {
  roster: Pick<Roster, 'get' | 'kept'>
  departures: Pick<Departures, 'coveredBy' | 'covers'>
  team: { teamId: string, name: string }
}

function isShutOutRecord (r: DepartureRecord | undefined): r is Extract<DepartureRecord, { type: 'removed' | 'revoked' }> {
  return r != null && 'type' in r && (r.type === 'removed' || r.type === 'revoked')
}

/** whether an admin's record takes this daemon's certificate `own` out of the team */
export function shutOutOf (own: MemberCertificate, view: StandingView): ShutOut | undefined {
  const record = view.departures.coveredBy(own)
  if (!isShutOutRecord(record)) return undefined
  return {
    teamId: view.team.teamId,
    teamName: view.team.name,
    kind: record.type,
    by: record.by,
    byName: view.roster.get(record.by)?.name ?? null,
    at: record.at
  }
}

/** `removed from team crew by alice at 2026-…` */
export function describeShutOut (s: ShutOut): string {
  const what = s.kind === 'removed' ? 'removed from team' : 'shut out of team (its invite was revoked)'
  return `${what} ${s.teamName} by ${s.byName ?? s.by} at ${new Date(s.at).toISOString()}`
}

/** the error of a write or submit refused because of `s` */
export function removedError (s: ShutOut): RemovedFromTeamError {
  return new RemovedFromTeamError(`this daemon was ${describeShutOut(s)}: it can no longer write or submit; join a team with a new invite (paired team join) or leave (paired team leave)`)
}

/**
 * Before a joiner changes anything: throws unless its new certificate `cert`, from an
 * invite to a team it has records of, would count there. A certificate that the roster
 * would not keep (the joiner used this invite before and left since) throws
 * `InviteUsedError`; one that an admin's removal or a revocation covers, `StaleInviteError`.
 */
export function checkRejoin (cert: MemberCertificate, view: StandingView): void {
  const kept = view.roster.kept(cert)
  const record = view.departures.coveredBy(kept)
  if (record == null) return
  const inviteId = cert.grant?.inviteId.slice(0, 8) ?? ''
  if (!('type' in record)) {
    throw new InviteUsedError(`invite ${inviteId} was already used by this daemon, which left team ${view.team.name} since: ask an admin for a new invite`)
  }
  if (record.type === 'removed') {
    throw new StaleInviteError(`this invite was made before this daemon was removed from team ${view.team.name} (at ${new Date(record.at).toISOString()}): ask an admin for a new invite`)
  }
  throw new StaleInviteError(`invite ${inviteId} was revoked by an admin of team ${view.team.name}`)
}

/** the API's form of `s` */
export function removedDoc (s: ShutOut): { kind: 'removed' | 'revoked', by: string, byName: string | null, at: number, text: string } {
  return { kind: s.kind, by: s.by, byName: s.byName, at: s.at, text: describeShutOut(s) }
}

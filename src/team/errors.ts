/**
 * Errors of the team trust layer, one class per condition. Callers branch on `.name`.
 */
import type { InviteToken, TeamInfo } from './types.js'

/** A membership certificate (or a certificate in its chain) does not verify. */
export class InvalidCertificateError extends Error {
  override name = 'InvalidCertificateError'
}

/** An invite token cannot be decoded: wrong prefix, encoding, JSON or shape. */
export class MalformedInviteError extends Error {
  override name = 'MalformedInviteError'
}

/** An invite's grant is past its expiry time. */
export class InviteExpiredError extends Error {
  override name = 'InviteExpiredError'
}

/** An invite's grant is not signed by an admin of the team it names. */
export class InvalidInviteError extends Error {
  override name = 'InvalidInviteError'
}

/** An invite has already admitted as many peers as it allows. */
export class InviteUsedError extends Error {
  override name = 'InviteUsedError'
}

/** An invite is for another team than the one this daemon is in. */
export class WrongTeamError extends Error {
  override name = 'WrongTeamError'
}

/** Throws `WrongTeamError` unless `token` is an invite to `team`. */
export function assertSameTeam (token: Pick<InviteToken, 'team'>, team: Pick<TeamInfo, 'teamId' | 'name'>): void {
  if (token.team.teamId !== team.teamId) {
    throw new WrongTeamError(
      `invite is for team ${token.team.name} (${token.team.teamId}), this daemon is in team ${team.name} (${team.teamId})`
    )
  }
}

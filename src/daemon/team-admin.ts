/**
 * What an admin does to its team without leaving it: create a team, invite, remove a
 * member, revoke an invite. The daemon owns the session and the team file; these reach
 * them through {@link TeamAdminHost} (a part of the host the team moves use).
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js'
import type { InviteDoc, InviteRequest, TeamDoc } from '../model/docs.js'
import { signRemoval, signRevocation } from './departures.js'
import { inviteAddresses, issueInvite } from './invites.js'
import { newTeamFile } from './team-load.js'
import type { TeamMovesHost } from './team-moves.js'

/** the longest team name */
export const MAX_TEAM_NAME = 64

export type TeamAdminHost = Pick<TeamMovesHost, 'peerId' | 'name' | 'line' | 'emit' | 'signer' | 'requireSession' | 'enterTeam' | 'saveTeamFile' | 'team' | 'requireAdmin'> & {
  /** a peer id, a member's name, or the unique end of a member's peer id */
  resolvePeer: (arg: string) => string
}

export class TeamAdmin {
  constructor (private readonly host: TeamAdminHost, private readonly clock: () => number = Date.now) {}

  /** found a new team and switch to it; this daemon is its first admin */
  async create (name: string): Promise<TeamDoc> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_TEAM_NAME) throw new InvalidArgumentError(`a team name has 1 to ${MAX_TEAM_NAME} characters`)
    const { host } = this
    const file = newTeamFile(name.trim(), host.signer(), host.name, this.clock())
    await host.saveTeamFile(file)
    await host.enterTeam(file)
    host.line(`created team ${file.team.name} (${file.team.teamId})`)
    host.emit({ type: 'team:changed', data: await host.team() })
    return await host.team()
  }

  async invite (request: InviteRequest): Promise<InviteDoc> {
    const file = this.host.requireAdmin('invite')
    const session = this.host.requireSession()
    const addrs = request.addresses === false ? [] : await inviteAddresses(session, this.host.peerId())
    return issueInvite(file, this.host.signer(), request, addrs, this.clock())
  }

  async remove (peer: string): Promise<{ peerId: string, name: string | null, removed: true }> {
    const file = this.host.requireAdmin('remove members')
    const session = this.host.requireSession()
    const id = this.host.resolvePeer(peer)
    if (id === this.host.peerId()) throw new InvalidArgumentError('to remove this daemon from the team, use paired team leave')
    const cert = session.roster.get(id)
    if (cert == null) throw new NotFoundError(`no member ${peer}`)
    await session.announceRecords([signRemoval(file.team.teamId, id, this.host.signer(), this.clock())])
    return { peerId: id, name: cert.name, removed: true }
  }

  /** the invite admits nobody new; the members it admitted stay */
  async revokeInvite (inviteId: string): Promise<{ inviteId: string, revoked: true, kept: number }> {
    const file = this.host.requireAdmin('revoke invites')
    const session = this.host.requireSession()
    const keep = session.roster.members().filter(c => c.grant?.inviteId === inviteId).map(c => c.peerId)
    await session.announceRecords([signRevocation(file.team.teamId, inviteId, keep, this.host.signer(), this.clock())])
    return { inviteId, revoked: true, kept: keep.length }
  }
}

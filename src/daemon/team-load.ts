/**
 * A team as the daemon takes it up: a new team file (a personal team, or one made by
 * `paired team create`), and the roster and departures stored for a team file.
 */
import type { PairedDb } from '../state/store/db.js'
import { departedKey, rosterKey } from '../state/store/keys.js'
import { Roster, createTeam, type Signer } from '../team/index.js'
import { Departures } from './departures.js'
import type { TeamFile } from './team-file.js'

/** a new team founded by `founder` (named `founderName` in it), as its team file */
export function newTeamFile (name: string, founder: Signer, founderName: string, now: number): TeamFile {
  const { team, teamSeed, founderCert } = createTeam({ name, founder, founderName, now })
  return { v: 1, team, cert: founderCert, teamSeed: Buffer.from(teamSeed).toString('base64url') }
}

/** the team's stored roster, with this daemon's certificate (and its inviter's) merged in */
export async function loadRoster (db: PairedDb | undefined, file: TeamFile, now: number): Promise<Roster> {
  const stored = db != null ? await db.get(rosterKey(file.team.teamId)) : undefined
  const roster = Roster.fromJSON(file.team, Array.isArray(stored) ? stored : [], now)
  roster.merge([file.cert, ...(file.cert.grant != null ? [file.cert.grant.issuer] : [])], now)
  return roster
}

/** the team's stored departures; a removal or revocation counts when a current admin of `roster` signed it */
export async function loadDepartures (db: PairedDb | undefined, file: TeamFile, roster: Roster, clock: () => number = Date.now): Promise<Departures> {
  const departures = new Departures(file.team.teamId)
  departures.isAdmin = peer => roster.get(peer)?.role === 'admin' && roster.isMember(peer, clock())
  departures.merge(await db?.get(departedKey(file.team.teamId)))
  return departures
}

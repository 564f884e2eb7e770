/**
 * What a team session is made with (the daemon gives it): this daemon's identity and
 * certificate, the team, its roster and departures, the config, the store, and the
 * daemon's hooks.
 */
import type { Identity } from '../identity/index.js'
import type { DaemonEvent, StatusDoc } from '../model/docs.js'
import type { PairedDb } from '../state/store/db.js'
import type { MemberCertificate, Roster, Signer, TeamInfo } from '../team/index.js'
import type { PairedConfig } from './config.js'
import type { Departures } from './departures.js'
import type { ShutOut } from './standing.js'

export interface SessionInit {
  identity: Identity
  signer: Signer
  team: TeamInfo
  cert: MemberCertificate
  roster: Roster
  departures: Departures
  config: PairedConfig
  listen: string[]
  db: PairedDb
  agentVersion: string
  /** the daemon's own status, answered on the query protocol */
  status: () => Promise<StatusDoc>
  emit: (event: DaemonEvent) => void
  /** an admin sent a new network key; resolves true when it was taken */
  onRekey?: (rotation: unknown, from: string) => Promise<boolean>
  /** is anyone listening to events? (skip making those nobody reads) */
  hasListeners: () => boolean
  /** an admin's record took this daemon out of the team (at start, or learned now) */
  onShutOut?: (s: ShutOut) => void
  line: (text: string) => void
  /** the wall clock (ms); @default Date.now */
  clock?: () => number
}

/**
 * A session's watch over its own daemon's standing: at start and whenever a merged record
 * may have changed it, whether an admin took this daemon out of the team. When one did, the
 * session stops dialing and hangs up (it is told once). Also what a refusal carries: the
 * signed records that say why a peer was refused, for it to check itself.
 */
import type { MemberCertificate, Roster, TeamInfo } from '../team/index.js'
import type { Departures } from './departures.js'
import { describeShutOut, shutOutOf, type ShutOut } from './standing.js'

export interface StandingWatchComponents {
  cert: MemberCertificate
  roster: Roster
  departures: Departures
  team: TeamInfo
  line: (text: string) => void
  /** stop dialing, hang up on everyone */
  disconnect: () => void
  onShutOut?: (s: ShutOut) => void
}

function isCert (value: unknown): value is MemberCertificate {
  return typeof value === 'object' && value != null && typeof (value as { peerId?: unknown }).peerId === 'string' &&
    typeof (value as { issuedAt?: unknown }).issuedAt === 'number'
}

export class StandingWatch {
  /** set once an admin's record took this daemon out of the team */
  shutOut?: ShutOut

  constructor (private readonly components: StandingWatchComponents) {}

  private current (): ShutOut | undefined {
    const { cert, roster, departures, team } = this.components
    return shutOutOf(cert, { roster, departures, team })
  }

  /** at session start: returns (and keeps) the standing the stored records give */
  begin (): ShutOut | undefined {
    this.shutOut = this.current()
    return this.shutOut
  }

  /** after the session started: tells it once that it is shut out */
  announceAtStart (): void {
    if (this.shutOut == null) return
    this.components.line(`this daemon was ${describeShutOut(this.shutOut)}: it connects to nobody; join with a new invite or leave`)
    this.components.onShutOut?.(this.shutOut)
  }

  /** a merged record may have taken this daemon out: if it did, disconnect and tell (once) */
  check (): void {
    if (this.shutOut != null) return
    const s = this.current()
    if (s == null) return
    this.shutOut = s
    this.components.line(`this daemon was ${describeShutOut(s)}: it stops dialing the team; join with a new invite or leave`)
    this.components.disconnect()
    this.components.onShutOut?.(s)
  }

  /** the signed records that say why `peer`, presenting `cert`, was refused */
  refusalRecords (peer: string, cert: unknown): unknown[] {
    const { departures } = this.components
    const record = isCert(cert) && cert.peerId === peer ? departures.coveredBy(cert) : undefined
    return record != null ? [record] : departures.about(peer)
  }

  /** why `peer` does not count as a member, for messages */
  notMemberReason (peer: string): string {
    const cert = this.components.roster.get(peer)
    if (cert == null) return 'its certificate is not in the roster'
    return this.components.departures.reason(cert) ?? 'its certificate has expired'
  }
}

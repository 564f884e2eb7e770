/**
 * The daemon's moves between teams, and the network key's: `team join` (checked against
 * what this daemon remembers of the team before anything changes, counted only once a
 * member admitted it, and followed by a farewell to the team it leaves), `team leave`, and
 * key rotations given and taken. The daemon owns the session and the team file; these
 * moves reach them through {@link TeamMovesHost}.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { DaemonEvent, TeamDoc } from '../model/docs.js'
import { InvalidArgumentError, PeerUnreachableError } from '../errors.js'
import type { Identity } from '../identity/index.js'
import type { PairedDb } from '../state/store/db.js'
import { departedKey } from '../state/store/keys.js'
import { acceptInvite, checkInvite, decodeInvite, type Roster, type Signer } from '../team/index.js'
import { signDeparture, type Departures } from './departures.js'
import { sayFarewell, storeOwnDeparture } from './farewell.js'
import { knownPeers } from './known-peers.js'
import { newRotation, verifyRotation, type KeyRotation } from './rekey.js'
import { handOut } from './rotation.js'
import type { HelloOutcome, TeamSession } from './session.js'
import { checkRejoin } from './standing.js'
import type { TeamFile } from './team-file.js'

/** how long `team join` waits for a sign of the team (a connection under its network key) */
export const JOIN_TIMEOUT_MS = 20_000
/**
 * how long in all it waits while the team is reachable, a connection under its key opening
 * at least every {@link JOIN_TIMEOUT_MS}: a member admitting a burst of joins is busy, and
 * closes some joiners' connections before their hello; they are let in as it gets to them
 */
export const JOIN_MAX_WAIT_MS = 120_000

/**
 * What a join that is still waiting does at `now`, having started at `startedAt` and last
 * reached the team (a connection opened) at `reachedAt` (undefined: never). Pure.
 */
export function joinWait (startedAt: number, reachedAt: number | undefined, now: number): 'wait' | 'unreachable' | 'busy' {
  if (now - (reachedAt ?? startedAt) >= JOIN_TIMEOUT_MS) return reachedAt == null ? 'unreachable' : 'busy'
  return now - startedAt >= JOIN_MAX_WAIT_MS ? 'busy' : 'wait'
}

function remoteError (error: { name: string, message: string }): Error {
  return Object.assign(new Error(error.message), { name: error.name })
}

/** what the moves need of the daemon */
export interface TeamMovesHost {
  peerId: () => string
  /** the daemon's display name */
  readonly name: string
  version: () => string
  line: (text: string) => void
  emit: (event: DaemonEvent) => void
  identity: () => Identity
  signer: () => Signer
  db: () => PairedDb | undefined
  session: () => TeamSession | undefined
  requireSession: () => TeamSession
  teamFile: () => TeamFile | undefined
  setTeamFile: (file: TeamFile) => void
  /** stops the current session and starts one in `file`'s team */
  enterTeam: (file: TeamFile) => Promise<TeamSession>
  saveTeamFile: (file: TeamFile) => Promise<void>
  loadRoster: (file: TeamFile) => Promise<Roster>
  loadDepartures: (file: TeamFile, roster: Roster) => Promise<Departures>
  personalTeam: () => TeamFile
  team: () => Promise<TeamDoc>
  /** the team file, if this daemon is an admin there (throws otherwise) */
  requireAdmin: (what: string) => TeamFile
}

export class TeamMoves {
  /** farewells to teams left by a join, still under way */
  private readonly farewells = new Set<Promise<void>>()
  /**
   * the rotation this daemon took and is switching to: members relay a rotation to each
   * other, so the same one arrives several times before the switch ends; each must not
   * restart the node again (two restarts at once fail on the listen port)
   */
  private switching?: KeyRotation

  constructor (private readonly host: TeamMovesHost) {}

  /** waits for the farewells under way (each is bounded) */
  async stop (): Promise<void> {
    await Promise.all(this.farewells)
  }

  async join (text: string, options?: { signal?: AbortSignal }): Promise<TeamDoc> {
    const now = Date.now()
    const token = decodeInvite(text)
    checkInvite(token, now)
    const previous = this.host.teamFile()
    if (previous == null) throw new Error('the daemon is not started')
    // a daemon an admin removed may come back to that team, with a newer invite
    if (token.team.teamId === previous.team.teamId && this.host.session()?.shutOutBy == null) {
      throw new InvalidArgumentError(`this daemon is already a member of team ${previous.team.name} (${previous.team.teamId})`)
    }
    const cert = acceptInvite({ token, signer: this.host.signer(), name: this.host.name, now })
    const next: TeamFile = { v: 1, team: token.team, cert }
    // what this daemon remembers of that team (it left it, or was removed) may already say
    // that the invite cannot admit it: refuse before changing anything
    const known = await this.host.loadRoster(next)
    checkRejoin(cert, { roster: known, departures: await this.host.loadDepartures(next, known), team: token.team })
    // a team with other members is told that we leave it, once the join succeeded
    const leaving = previous.team.teamId !== next.team.teamId && this.host.session()?.shutOutBy == null &&
      (this.host.session()?.currentMembers().some(c => c.peerId !== this.host.peerId()) ?? false)
    const session = await this.host.enterTeam(next)
    let outcome = await this.awaitAdmission(session, token.addrs, options?.signal)
    // a member's welcome carries its roster and departures: count ourselves only if they do
    if (outcome.ok && this.host.session() === session && !session.isMember(this.host.peerId())) {
      outcome = { ok: false, error: new InvalidArgumentError(`the team does not count this daemon as a member: ${session.notMemberReason(this.host.peerId())}`) }
    }
    if (!outcome.ok) {
      await this.host.enterTeam(previous)
      throw outcome.error
    }
    // a key rotation that arrived since the admission is in the current team file already
    const current = this.host.teamFile()
    await this.host.saveTeamFile(current?.team.teamId === next.team.teamId ? current : next)
    // remember which invite admitted us, so a later rejoin through it is refused here at once
    await this.host.session()?.saveRoster()
    this.host.line(`joined team ${next.team.name} (${next.team.teamId}) as ${cert.role}`)
    if (leaving) this.farewell(previous)
    this.host.emit({ type: 'team:changed', data: await this.host.team() })
    return await this.host.team()
  }

  /** signs and stores this daemon's departure from `previous`, and tells its members in the background */
  private farewell (previous: TeamFile): void {
    const db = this.host.db()
    if (db == null) return
    const departure = signDeparture(previous.team.teamId, this.host.signer(), Date.now())
    const done = (async () => {
      await storeOwnDeparture(db, departure)
      const taken = await sayFarewell({
        privateKey: this.host.identity().privateKey,
        team: previous.team,
        cert: previous.cert,
        departure,
        peers: (await knownPeers(db, previous.team.teamId)).filter(p => p.peer !== this.host.peerId()),
        agentVersion: `paired/${this.host.version()}`
      })
      this.host.line(`told ${taken} member${taken === 1 ? '' : 's'} of team ${previous.team.name} that this daemon left it`)
    })().catch(err => { this.host.line(`could not tell team ${previous.team.name} that this daemon left it: ${(err as Error).message}`) })
    this.farewells.add(done)
    void done.finally(() => { this.farewells.delete(done) })
  }

  private async awaitAdmission (session: TeamSession, addrs: string[], signal?: AbortSignal): Promise<{ ok: true } | { ok: false, error: Error }> {
    const startedAt = Date.now()
    let reachedAt: number | undefined
    let told = false
    const onOpen = (): void => { reachedAt = Date.now() }
    const node = session.node
    node?.addEventListener('connection:open', onOpen)
    return await new Promise(resolve => {
      const timeout = setInterval(() => {
        const now = Date.now()
        const verdict = joinWait(startedAt, reachedAt, now)
        if (verdict === 'unreachable') {
          finish({ ok: false, error: new PeerUnreachableError(`no member of the team answered within ${JOIN_TIMEOUT_MS / 1000} s (tried ${addrs.length > 0 ? addrs.join(', ') : 'mDNS discovery only'}); if an admin rotated the network key since the invite was made, ask for a new invite`) })
        } else if (verdict === 'busy') {
          finish({ ok: false, error: new PeerUnreachableError(`the team's members were reachable but none admitted this daemon within ${Math.round((now - startedAt) / 1000)} s: they are overloaded; try again later`) })
        } else if (!told && reachedAt != null && now - startedAt >= JOIN_TIMEOUT_MS) {
          told = true
          this.host.line(`join: the team is reachable but busy admitting others; still waiting (up to ${JOIN_MAX_WAIT_MS / 1000} s)`)
        }
      }, 500)
      const onAbort = (): void => { finish({ ok: false, error: new Error('the join was cancelled') }) }
      signal?.addEventListener('abort', onAbort, { once: true })
      const off = session.onHelloOutcome((o: HelloOutcome) => {
        finish(o.ok ? { ok: true } : { ok: false, error: remoteError(o.error) })
      })
      let done = false
      function finish (result: { ok: true } | { ok: false, error: Error }): void {
        if (done) return
        done = true
        clearInterval(timeout)
        node?.removeEventListener('connection:open', onOpen)
        signal?.removeEventListener('abort', onAbort)
        off()
        resolve(result)
      }
      const parsed = addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
      void session.addKnownAddresses(parsed, true)
    })
  }


  async rotateKey (): Promise<{ keyEpoch: number, delivered: string[], missed: string[] }> {
    const file = this.host.requireAdmin('rotate the network key')
    const session = this.host.requireSession()
    const rotation = newRotation(file.team.teamId, (file.keyEpoch ?? 0) + 1, this.host.signer())
    // members admitted while the key goes out get it too (see rotation.ts)
    const { delivered, missed } = await handOut(session, rotation, { skip: [this.host.peerId()] })
    await this.takeRotation(file, rotation)
    return { keyEpoch: rotation.keyEpoch, delivered, missed }
  }

  /** a member received a rotation: check it, save the key, restart the node with it */
  async onRekey (rotation: unknown, from: string): Promise<boolean> {
    const file = this.host.teamFile()
    const session = this.host.session()
    if (file == null || session == null || !verifyRotation(rotation, file.team.teamId)) return false
    const signer = session.roster.get(rotation.by)
    if (signer?.role !== 'admin' || !session.isMember(rotation.by) || rotation.keyEpoch <= (file.keyEpoch ?? 0)) return false
    const switching = this.switching
    // the same rotation again while it is taken: yes, this daemon has it; another of that epoch: no
    if (switching != null && rotation.keyEpoch <= switching.keyEpoch) return rotation.sig === switching.sig
    this.switching = rotation
    this.host.line(`new network key (epoch ${rotation.keyEpoch}) from admin ${signer.name} via ${from}`)
    // answer first, then pass it on to members that only this daemon may have admitted
    // meanwhile, then switch: the replies travel on the old key
    setTimeout(() => {
      void handOut(session, rotation, { skip: [this.host.peerId(), from, rotation.by], timeoutMs: 2_000, maxRounds: 1 })
        .then(async () => { await this.takeRotation(file, rotation) })
        .catch(err => { this.host.line(`could not switch to the new network key: ${(err as Error).message}`) })
        .finally(() => { if (this.switching === rotation) this.switching = undefined })
    }, 100)
    return true
  }

  private async takeRotation (file: TeamFile, rotation: KeyRotation): Promise<void> {
    if (this.host.teamFile() !== file) return
    const next: TeamFile = { ...file, team: { ...file.team, psk: rotation.psk }, keyEpoch: rotation.keyEpoch }
    await this.host.saveTeamFile(next)
    this.host.setTeamFile(next)
    await this.host.enterTeam(next)
    this.host.emit({ type: 'team:changed', data: { teamId: next.team.teamId, keyEpoch: rotation.keyEpoch } })
  }

  async leave (): Promise<TeamDoc> {
    const previous = this.host.teamFile()
    if (previous != null) {
      const departure = signDeparture(previous.team.teamId, this.host.signer(), Date.now())
      await this.host.session()?.announceLeave(departure)
      // every record of that team stays (removals, revocations), with ours among them
      await this.host.db()?.put(departedKey(previous.team.teamId), this.host.session()?.departureRecords() ?? [departure]).catch(() => {})
    }
    const file = this.host.personalTeam()
    await this.host.saveTeamFile(file)
    await this.host.enterTeam(file)
    this.host.line(`left team ${previous?.team.name ?? ''}; now in personal team ${file.team.name}`)
    this.host.emit({ type: 'team:changed', data: await this.host.team() })
    return await this.host.team()
  }
}

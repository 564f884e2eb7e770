/**
 * The daemon: owns the home lock, the store and the current team session, and answers
 * the control interfaces (`DaemonControl`, `KvControl`, `TaskControl` in src/model/docs.ts).
 * The HTTP API over it is started by the composition root (src/app.ts), not here.
 */
import { mkdir } from 'node:fs/promises'
import type {
  DaemonControl, DaemonEvent, InviteDoc, InviteRequest, KvControl, KvEntryDoc, KvWrite, MemberDoc, PeerDoc, StatusDoc, TeamDoc,
  PeerDetailDoc, TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskStateName, TaskSubmit, TaskSummaryDoc, TaskVerifyDoc
} from '../model/docs.js'
import type { TaskService } from '../tasks/service.js'
import type { TeamState } from '../state/service.js'
import { InvalidArgumentError, PeerUnreachableError, PermissionDeniedError } from '../errors.js'
import { loadOrCreateIdentity, type Identity } from '../identity/index.js'
import { openStore, type PairedDb } from '../state/store/db.js'
import { signerFromSeed, type Signer } from '../team/index.js'
import type { PairedConfig } from './config.js'
import { homePaths, secureHome, type HomePaths } from './home.js'
import { listenFailure } from './listen-error.js'
import { HomeLock } from './lock.js'
import { TeamSession } from './session.js'
import { readTeamFile, writeTeamFile, type TeamFile } from './team-file.js'
import { removedDoc, removedError } from './standing.js'
import { TeamMoves, type TeamMovesHost } from './team-moves.js'
import { TeamAdmin, type TeamAdminHost } from './team-admin.js'
import { chooseListen, pinnedListen, type ExplicitPorts } from './ports.js'
import { connectAddress, connectedMembers, memberDocs, peerDetail, peerDocs, resolvePeer } from './peers.js'
import { loadDepartures, loadRoster, newTeamFile } from './team-load.js'
import { packageVersion } from '../model/version.js'
import { resizeMesh } from '../node/create-node.js'

export { JOIN_TIMEOUT_MS } from './team-moves.js'
export { INVITE_OTHER_MEMBERS } from './invites.js'

export interface DaemonInit {
  home: string
  config: PairedConfig
  /** flags the user set explicitly: a busy default port falls back, an explicit one fails */
  explicit?: ExplicitPorts
  line?: (text: string) => void
  /** log {@link Daemon.startLines} at the end of `start` (default true); the composition root logs them once its API is up */
  announce?: boolean
}

/** The daemon of one home; see the file's comment. */
export class Daemon implements DaemonControl, KvControl, TaskControl {
  readonly paths: HomePaths
  private readonly lock: HomeLock
  private identity?: Identity
  private signer?: Signer
  private db?: PairedDb
  private api?: { url: string }
  private session?: TeamSession
  private teamFile?: TeamFile
  private listen: string[] = []
  private readonly listeners = new Set<(e: DaemonEvent) => void>()
  private startedAt = 0
  private version = '0.0.0'
  private started = false
  /** join, leave and key rotations */
  private readonly moves: TeamMoves
  /** create, invite, remove, revoke */
  private readonly admin: TeamAdmin

  constructor (private readonly init: DaemonInit) {
    this.paths = homePaths(init.home)
    this.lock = new HomeLock(this.paths.lock, init.home)
    const host = this.teamHost()
    this.moves = new TeamMoves(host)
    this.admin = new TeamAdmin(host)
  }

  private line (text: string): void { this.init.line?.(text) }

  /** what the team moves and admin operations reach of this daemon */
  private teamHost (): TeamMovesHost & TeamAdminHost {
    return {
      peerId: () => this.peerId,
      name: this.init.config.name,
      version: () => this.version,
      line: t => { this.line(t) },
      emit: e => { this.emit(e) },
      identity: () => this.requireIdentity(),
      signer: () => this.requireSigner(),
      db: () => this.db,
      session: () => this.session,
      requireSession: () => this.requireSession(),
      teamFile: () => this.teamFile,
      setTeamFile: file => { this.teamFile = file },
      enterTeam: async file => await this.enterTeam(file),
      saveTeamFile: async file => { await this.saveTeamFile(file) },
      loadRoster: async file => await loadRoster(this.db, file, Date.now()),
      loadDepartures: async (file, roster) => await loadDepartures(this.db, file, roster),
      personalTeam: () => this.personalTeam(),
      team: async () => await this.team(),
      requireAdmin: what => this.requireAdmin(what),
      resolvePeer: arg => this.resolvePeer(arg)
    }
  }

  get peerId (): string { return this.requireIdentity().peerId.toString() }
  /** the HTTP API's URL, once the composition root started it over this daemon */
  get apiUrl (): string | undefined { return this.api?.url }
  /** the composition root tells where the API serves this daemon (undefined: it stopped) */
  setApiUrl (url: string | undefined): void { this.api = url === undefined ? undefined : { url } }

  private requireIdentity (): Identity {
    if (this.identity == null) throw new Error('the daemon is not started')
    return this.identity
  }

  private requireSession (): TeamSession {
    if (this.session == null) throw new Error('the daemon is not started')
    return this.session
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      await mkdir(this.paths.home, { recursive: true, mode: 0o700 })
      await this.lock.acquire()
      const loosened = await secureHome(this.paths)
      if (loosened.length > 0) this.line(`made ${this.paths.home} private: ${loosened.length} path${loosened.length === 1 ? ' was' : 's were'} open to other users (now 0700 folders, 0600 files)`)
      this.version = await packageVersion()
      this.identity = (await loadOrCreateIdentity(this.paths.key)).identity
      this.signer = signerFromSeed(this.identity.peerId.toString(), this.identity.seed)
      this.db = await openStore(this.paths.db)
      this.listen = await chooseListen(this.init.config, this.init.explicit, t => { this.line(t) })
      let file = await readTeamFile(this.paths.team)
      if (file == null) {
        file = this.personalTeam()
        await this.saveTeamFile(file)
      }
      await this.enterTeam(file)
      this.startedAt = Date.now()
      if (this.init.announce !== false) for (const text of this.startLines()) this.line(text)
    } catch (err) {
      await this.stop()
      throw listenFailure(err) ?? err
    }
  }

  /** what a started daemon logs: its version and peer id, its team, its addresses */
  startLines (): string[] {
    const file = this.teamFile
    return [
      `paired ${this.version} peer ${this.peerId} (${this.init.config.name})`,
      ...(file != null ? [`team ${file.team.name} (${file.team.teamId}) as ${file.cert.role}`] : []),
      `listening on ${this.requireSession().node?.getMultiaddrs().map(a => a.toString()).join(' ') ?? ''}`
    ]
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.api = undefined
    await this.moves.stop()
    await this.session?.stop().catch(() => {})
    this.session = undefined
    await this.db?.close().catch(() => {})
    this.db = undefined
    await this.lock.release()
    this.listeners.clear()
  }

  private personalTeam (): TeamFile {
    return newTeamFile(`${this.init.config.name} (personal)`, this.requireSigner(), this.init.config.name, Date.now())
  }

  private teamFileWrites: Promise<void> = Promise.resolve()

  /** writes `team.json`, one write at a time (a join and a key rotation may overlap) */
  private async saveTeamFile (file: TeamFile): Promise<void> {
    const write = this.teamFileWrites.then(async () => { await writeTeamFile(this.paths.team, file) })
    this.teamFileWrites = write.catch(() => {})
    await write
  }

  private requireSigner (): Signer {
    if (this.signer == null) throw new Error('the daemon is not started')
    return this.signer
  }

  /** the switch of team network under way, if any: API calls wait for it (`settled`) */
  private switching?: Promise<unknown>

  async settled (): Promise<void> {
    // a switch may start another (a rotation that falls back): wait until none is running
    while (this.switching != null) await this.switching.catch(() => {})
  }

  /** stop the current session (if any) and start one in `file`'s team */
  private async enterTeam (file: TeamFile): Promise<TeamSession> {
    const run = this.switchTeam(file)
    const tracked: Promise<unknown> = run.finally(() => { if (this.switching === tracked) this.switching = undefined })
    tracked.catch(() => {}) // the caller gets the failure from `run`
    this.switching = tracked
    return await run
  }

  private async switchTeam (file: TeamFile): Promise<TeamSession> {
    const identity = this.requireIdentity()
    const db = this.db
    if (db == null) throw new Error('the store is not open')
    await this.session?.stop()
    this.session = undefined
    const roster = await loadRoster(db, file, Date.now())
    const session = new TeamSession({
      identity,
      signer: this.requireSigner(),
      team: file.team,
      cert: file.cert,
      roster,
      departures: await loadDepartures(db, file, roster),
      config: this.init.config,
      listen: this.listen,
      db,
      agentVersion: `paired/${this.version}`,
      status: async () => await this.status(),
      emit: e => {
        if (e.type === 'team:member-added' || e.type === 'team:member-left') this.resizeMesh(session)
        this.emit(e)
      },
      onRekey: async (rotation, from) => await this.moves.onRekey(rotation, from),
      hasListeners: () => this.listeners.size > 0,
      onShutOut: () => { if (this.session === session) void this.team().then(doc => { this.emit({ type: 'team:changed', data: doc }) }, () => {}) },
      line: t => { this.line(t) }
    })
    await session.start()
    this.resizeMesh(session)
    this.session = session
    this.teamFile = file
    // later nodes (a new team, a new network key) bind the ports the first one got
    this.listen = pinnedListen(this.listen, session.node?.getMultiaddrs().map(a => a.toString()) ?? [])
    return session
  }

  /** the gossip mesh follows the team's size (src/node/mesh.ts): bounded fan-out in large teams */
  private resizeMesh (session: TeamSession): void {
    if (session.node != null) resizeMesh(session.node, session.currentMembers().length)
  }

  private emit (event: DaemonEvent): void {
    for (const l of this.listeners) {
      try { l(event) } catch {}
    }
  }

  subscribe (listener: (event: DaemonEvent) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  // --- DaemonControl --------------------------------------------------------------------

  async status (): Promise<StatusDoc> {
    const session = this.requireSession()
    const file = this.teamFile
    return {
      peerId: this.peerId,
      name: this.init.config.name,
      version: this.version,
      team: file != null ? { teamId: file.team.teamId, name: file.team.name, role: file.cert.role, ...this.removedField() } : null,
      addresses: session.node?.getMultiaddrs().map(a => a.toString()) ?? [],
      connectedPeers: connectedMembers(session, this.peerId),
      members: session.currentMembers().length,
      uptimeMs: this.startedAt === 0 ? 0 : Date.now() - this.startedAt,
      stateHash: await session.state?.stateHash(),
      stateDigest: await session.state?.currentDigest()
    }
  }

  // --- KvControl: the team's shared key-value state -----------------------------------

  private requireState (): TeamState {
    const state = this.session?.state
    if (state == null) throw new Error('the daemon is not started')
    return state
  }

  /** throws `RemovedFromTeamError` when an admin removed this daemon from its team */
  private requireInTeam (): void {
    const s = this.session?.shutOutBy
    if (s != null) throw removedError(s)
  }

  private removedField (): { removed?: ReturnType<typeof removedDoc> } {
    const s = this.session?.shutOutBy
    return s != null ? { removed: removedDoc(s) } : {}
  }

  async kvSet (writes: KvWrite[]): Promise<KvEntryDoc[]> { this.requireInTeam(); return await this.requireState().kvSet(writes) }
  async kvGet (key: string): Promise<KvEntryDoc> { return await this.requireState().kvGet(key) }
  async kvList (prefix: string): Promise<KvEntryDoc[]> { return await this.requireState().kvList(prefix) }
  async kvDel (key: string): Promise<{ key: string, deleted: boolean }> { this.requireInTeam(); return await this.requireState().kvDel(key) }

  // --- TaskControl: agent tasks ---------------------------------------------------------

  private requireTasks (): TaskService {
    const tasks = this.session?.tasks
    if (tasks == null) throw new Error('the daemon is not started')
    return tasks
  }

  async taskSubmit (spec: TaskSubmit): Promise<TaskDoc> { this.requireInTeam(); return await this.requireTasks().taskSubmit(spec) }
  async taskSubmitMany (specs: TaskSubmit[]): Promise<Array<{ taskId: string }>> { this.requireInTeam(); return await this.requireTasks().taskSubmitMany(specs) }
  async taskList (filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]> { return await this.requireTasks().taskList(filter) }
  async taskGet (taskId: string): Promise<TaskDoc> { return await this.requireTasks().taskGet(taskId) }
  async taskCancel (taskId: string): Promise<TaskDoc> { this.requireInTeam(); return await this.requireTasks().taskCancel(taskId) }
  async taskExplain (taskId: string): Promise<TaskExplainDoc> { return await this.requireTasks().taskExplain(taskId) }
  async taskLogs (taskId: string): Promise<TaskLogsDoc> { return await this.requireTasks().taskLogs(taskId) }
  async taskVerify (taskId: string): Promise<TaskVerifyDoc> { return await this.requireTasks().taskVerify(taskId) }

  async peers (): Promise<PeerDoc[]> { return await peerDocs(this.requireSession(), this.peerId) }

  async peer (arg: string): Promise<PeerDetailDoc> { return await peerDetail(this.requireSession(), this.peerId, arg) }

  /** a peer id, or a member's name, or the unique end of a member's peer id */
  resolvePeer (arg: string): string { return resolvePeer(this.requireSession().currentMembers(), arg) }

  async ping (peer: string, options?: { signal?: AbortSignal }): Promise<{ peerId: string, rttMs: number }> {
    const id = this.resolvePeer(peer)
    if (id === this.peerId) throw new InvalidArgumentError('that is this daemon\'s own peer id')
    try {
      return { peerId: id, rttMs: await this.requireSession().ping(id, options?.signal) }
    } catch (err) {
      throw new PeerUnreachableError(`could not reach ${id}: ${(err as Error).message}`)
    }
  }

  async query (peer: string, options?: { signal?: AbortSignal }): Promise<StatusDoc> {
    const id = this.resolvePeer(peer)
    if (id === this.peerId) return await this.status()
    try {
      return await this.requireSession().query(id, options?.signal)
    } catch (err) {
      throw new PeerUnreachableError(`could not query ${id}: ${(err as Error).message}`)
    }
  }

  async connect (address: string, options?: { signal?: AbortSignal }): Promise<{ peerId: string }> {
    return await connectAddress(this.requireSession(), address, options?.signal)
  }

  async team (): Promise<TeamDoc> {
    const file = this.teamFile
    const session = this.requireSession()
    if (file == null) throw new Error('the daemon is not started')
    return { teamId: file.team.teamId, name: file.team.name, role: file.cert.role, members: session.currentMembers().length, ...this.removedField() }
  }

  async teamMembers (): Promise<MemberDoc[]> { return memberDocs(this.requireSession(), this.peerId) }

  async teamCreate (name: string): Promise<TeamDoc> { return await this.admin.create(name) }

  async teamInvite (request: InviteRequest): Promise<InviteDoc> { return await this.admin.invite(request) }

  async teamJoin (text: string, options?: { signal?: AbortSignal }): Promise<TeamDoc> { return await this.moves.join(text, options) }

  private requireAdmin (what: string): TeamFile {
    const file = this.teamFile
    if (file == null) throw new Error('the daemon is not started')
    this.requireInTeam()
    if (file.cert.role !== 'admin') throw new PermissionDeniedError(`only admins can ${what}; you are a ${file.cert.role} of ${file.team.name}`)
    return file
  }

  async teamRemove (peer: string): Promise<{ peerId: string, name: string | null, removed: true }> { return await this.admin.remove(peer) }

  async teamRevokeInvite (inviteId: string): Promise<{ inviteId: string, revoked: true, kept: number }> { return await this.admin.revokeInvite(inviteId) }

  /**
   * admins: a new network key for the current members this daemon reaches; then this
   * daemon switches too. Returns who got it (members offline now need a new invite).
   */
  async teamRotateKey (): Promise<{ keyEpoch: number, delivered: string[], missed: string[] }> { return await this.moves.rotateKey() }

  async teamLeave (): Promise<TeamDoc> { return await this.moves.leave() }
}

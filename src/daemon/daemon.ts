import { mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { ApiServer, ensureApiToken } from '../api/index.js'
import type {
  DaemonControl, DaemonEvent, InviteDoc, InviteRequest, KvControl, KvEntryDoc, KvWrite, MemberDoc, PeerDoc, StatusDoc, TeamDoc,
  PeerDetailDoc, TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskStateName, TaskSubmit, TaskSummaryDoc, TaskVerifyDoc
} from '../model/docs.js'
import type { TaskService } from '../tasks/service.js'
import type { TeamState } from '../state/service.js'
import { InvalidArgumentError, NotFoundError, PeerUnreachableError, PermissionDeniedError } from '../errors.js'
import { loadOrCreateIdentity, type Identity } from '../identity/index.js'
import { openStore, type PairedDb } from '../state/store/db.js'
import { departedKey, rosterKey } from '../state/store/keys.js'
import {
  Roster, createInvite, createTeam, encodeInvite, signerFromSeed,
  type Signer
} from '../team/index.js'
import { DEFAULT_API_PORT, DEFAULT_LISTEN, type PairedConfig } from './config.js'
import { homePaths, secureHome, type HomePaths } from './home.js'
import { listenFailure } from './listen-error.js'
import { HomeLock } from './lock.js'
import { Departures, signRemoval, signRevocation } from './departures.js'
import { TeamSession } from './session.js'
import { readTeamFile, writeTeamFile, type TeamFile } from './team-file.js'
import { removedDoc, removedError } from './standing.js'
import { TeamMoves } from './team-moves.js'

export { JOIN_TIMEOUT_MS } from './team-moves.js'
/** an invite also names this many other connected members (with up to 2 addresses each) */
export const INVITE_OTHER_MEMBERS = 3

export interface DaemonInit {
  home: string
  config: PairedConfig
  /** flags the user set explicitly: a busy default port falls back, an explicit one fails */
  explicit?: { listen?: boolean, apiPort?: boolean }
  line?: (text: string) => void
}

let cachedVersion: string | undefined
export async function packageVersion (): Promise<string> {
  if (cachedVersion == null) {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    cachedVersion = pkg.version
  }
  return cachedVersion
}

async function portFree (host: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const srv = createServer()
    srv.once('error', () => { resolve(false) })
    srv.listen({ host, port, exclusive: true }, () => { srv.close(() => { resolve(true) }) })
  })
}

function b64url (bytes: Uint8Array): string { return Buffer.from(bytes).toString('base64url') }

/**
 * The daemon: owns the home lock, the store, the API server and the current team
 * session. It implements the API's `DaemonControl`.
 */
export class Daemon implements DaemonControl, KvControl, TaskControl {
  readonly paths: HomePaths
  private readonly lock: HomeLock
  private identity?: Identity
  private signer?: Signer
  private db?: PairedDb
  private api?: ApiServer
  private session?: TeamSession
  private teamFile?: TeamFile
  private listen: string[] = []
  private readonly listeners = new Set<(e: DaemonEvent) => void>()
  private startedAt = 0
  private version = '0.0.0'
  private started = false
  /** join, leave and key rotations */
  private readonly moves: TeamMoves

  constructor (private readonly init: DaemonInit) {
    this.paths = homePaths(init.home)
    this.lock = new HomeLock(this.paths.lock, init.home)
    this.moves = this.makeMoves()
  }

  private line (text: string): void { this.init.line?.(text) }

  private makeMoves (): TeamMoves {
    return new TeamMoves({
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
      loadRoster: async file => await this.loadRoster(file),
      loadDepartures: async (file, roster) => await this.loadDepartures(file, roster),
      personalTeam: () => this.personalTeam(),
      team: async () => await this.team(),
      requireAdmin: what => this.requireAdmin(what)
    })
  }

  get peerId (): string { return this.requireIdentity().peerId.toString() }
  get apiUrl (): string | undefined { return this.api?.url }

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
      this.listen = await this.chooseListen()
      let file = await readTeamFile(this.paths.team)
      if (file == null) {
        file = this.personalTeam()
        await this.saveTeamFile(file)
      }
      await this.enterTeam(file)
      const token = await ensureApiToken(this.paths.apiToken)
      const port = await this.chooseApiPort()
      this.api = new ApiServer({ control: this, token, socketPath: this.paths.apiSocket, host: this.init.config.apiHost, port, log: t => { this.line(t) } })
      await this.api.start()
      this.startedAt = Date.now()
      this.line(`paired ${this.version} peer ${this.peerId} (${this.init.config.name})`)
      this.line(`team ${file.team.name} (${file.team.teamId}) as ${file.cert.role}`)
      this.line(`listening on ${this.requireSession().node?.getMultiaddrs().map(a => a.toString()).join(' ') ?? ''}`)
      this.line(`api on ${this.api.url} and ${this.paths.apiSocket}`)
    } catch (err) {
      await this.stop()
      throw listenFailure(err) ?? err
    }
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.api?.stop().catch(() => {})
    this.api = undefined
    await this.moves.stop()
    await this.session?.stop().catch(() => {})
    this.session = undefined
    await this.db?.close().catch(() => {})
    this.db = undefined
    await this.lock.release()
    this.listeners.clear()
  }

  /** the default ports fall back to free ones when taken (several daemons on one machine) */
  private async chooseListen (): Promise<string[]> {
    const { listen } = this.init.config
    if (this.init.explicit?.listen === true || listen.join() !== DEFAULT_LISTEN.join()) return listen
    if (await portFree('0.0.0.0', 4801)) return listen
    this.line('port 4801 is taken: listening on a free port instead (set --listen to choose)')
    return listen.map(a => a.replace('/tcp/4801', '/tcp/0'))
  }

  private async chooseApiPort (): Promise<number> {
    const { apiPort, apiHost } = this.init.config
    if (this.init.explicit?.apiPort === true || apiPort !== DEFAULT_API_PORT) return apiPort
    if (await portFree(apiHost, apiPort)) return apiPort
    this.line(`api port ${apiPort} is taken: using a free port instead (the CLI uses the unix socket)`)
    return 0
  }

  private personalTeam (): TeamFile {
    const { team, teamSeed, founderCert } = createTeam({
      name: `${this.init.config.name} (personal)`,
      founder: this.requireSigner(),
      founderName: this.init.config.name,
      now: Date.now()
    })
    return { v: 1, team, cert: founderCert, teamSeed: b64url(teamSeed) }
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

  private async loadRoster (file: TeamFile): Promise<Roster> {
    const now = Date.now()
    const db = this.db
    const stored = db != null ? await db.get(rosterKey(file.team.teamId)) : undefined
    const roster = Roster.fromJSON(file.team, Array.isArray(stored) ? stored : [], now)
    roster.merge([file.cert, ...(file.cert.grant != null ? [file.cert.grant.issuer] : [])], now)
    return roster
  }

  private async loadDepartures (file: TeamFile, roster: Roster): Promise<Departures> {
    const departures = new Departures(file.team.teamId)
    // a removal or revocation counts when an admin of the roster signed it
    departures.isAdmin = peer => roster.get(peer)?.role === 'admin' && roster.isMember(peer, Date.now())
    departures.merge(await this.db?.get(departedKey(file.team.teamId)))
    return departures
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
    const roster = await this.loadRoster(file)
    const session = new TeamSession({
      identity,
      signer: this.requireSigner(),
      team: file.team,
      cert: file.cert,
      roster,
      departures: await this.loadDepartures(file, roster),
      config: this.init.config,
      listen: this.listen,
      db,
      agentVersion: `paired/${this.version}`,
      status: async () => await this.status(),
      emit: e => { this.emit(e) },
      onRekey: async (rotation, from) => await this.moves.onRekey(rotation, from),
      hasListeners: () => this.listeners.size > 0,
      onShutOut: () => { if (this.session === session) void this.team().then(doc => { this.emit({ type: 'team:changed', data: doc }) }, () => {}) },
      line: t => { this.line(t) }
    })
    await session.start()
    this.session = session
    this.teamFile = file
    this.pinListenPorts(session)
    return session
  }

  /**
   * After the first node bound its ports, later nodes (a new team, a new network key) bind
   * the same ones, so members that remember this daemon's addresses find it again.
   */
  private pinListenPorts (session: TeamSession): void {
    if (!this.listen.some(a => a.endsWith('/tcp/0'))) return
    const bound = session.node?.getMultiaddrs().map(a => a.toString()) ?? []
    this.listen = this.listen.map(a => {
      if (!a.endsWith('/tcp/0')) return a
      const host = a.slice(0, -'/tcp/0'.length)
      const found = bound.find(b => b.startsWith(`${host}/tcp/`)) ?? bound.find(b => b.startsWith(a.split('/').slice(0, 2).join('/') + '/'))
      const port = found === undefined ? undefined : /\/tcp\/(\d+)/.exec(found)?.[1]
      return port === undefined ? a : `${host}/tcp/${port}`
    })
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
    const members = session.currentMembers()
    const connected = members.filter(c => c.peerId !== this.peerId && session.isVerified(c.peerId) && session.isConnected(c.peerId))
    return {
      peerId: this.peerId,
      name: this.init.config.name,
      version: this.version,
      team: file != null ? { teamId: file.team.teamId, name: file.team.name, role: file.cert.role, ...this.removedField() } : null,
      addresses: session.node?.getMultiaddrs().map(a => a.toString()) ?? [],
      connectedPeers: connected.length,
      members: members.length,
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

  async peers (): Promise<PeerDoc[]> {
    const session = this.requireSession()
    const node = session.node
    const ids = new Set(session.currentMembers().map(c => c.peerId))
    for (const c of node?.getConnections() ?? []) ids.add(c.remotePeer.toString())
    ids.delete(this.peerId)
    const out: PeerDoc[] = []
    for (const id of [...ids].sort()) {
      const cert = session.roster.get(id)
      let addresses: string[] = []
      try {
        addresses = (await node?.peerStore.get(peerIdFromString(id)))?.addresses.map(a => a.multiaddr.toString()) ?? []
      } catch {}
      const connected = session.isConnected(id)
      const capacity = session.capacityOf(id)
      out.push({
        peerId: id,
        name: cert?.name ?? null,
        addresses,
        connected,
        // from the failure detector once heartbeats arrive
        state: session.presenceOf(id) ?? (connected ? (session.isVerified(id) ? 'connected' : 'unverified') : 'unknown'),
        rttMs: session.rttOf(id),
        capacity: capacity != null ? { ...capacity } : null,
        reputation: session.tasks?.reputation.view(id).score ?? null,
        reputationStatus: session.tasks?.reputation.view(id).status ?? null,
        agents: capacity?.agents ?? [],
        labels: capacity?.labels ?? {}
      })
    }
    return out
  }

  async peer (arg: string): Promise<PeerDetailDoc> {
    const id = this.resolvePeer(arg)
    const doc = (await this.peers()).find(p => p.peerId === id)
    if (doc == null) throw new NotFoundError(`no peer ${arg}`)
    const session = this.requireSession()
    return {
      ...doc,
      role: session.roster.get(id)?.role ?? null,
      gossipScore: session.gossipScore(id),
      reputationHistory: session.tasks?.reputation.history(id).map(e => ({ at: e.at, event: e.event, score: e.score, status: e.status })) ?? []
    }
  }

  /** a peer id, or a member's name, or the unique end of a member's peer id */
  resolvePeer (arg: string): string {
    const session = this.requireSession()
    try {
      return peerIdFromString(arg).toString()
    } catch {}
    const members = session.currentMembers()
    const byName = members.filter(c => c.name === arg)
    if (byName.length === 1) return byName[0].peerId
    if (byName.length > 1) throw new InvalidArgumentError(`more than one member is named "${arg}": use the peer id`)
    const bySuffix = members.filter(c => c.peerId.endsWith(arg))
    if (arg.length >= 4 && bySuffix.length === 1) return bySuffix[0].peerId
    throw new NotFoundError(`no peer ${arg}: give a peer id or a member's name (paired team members)`)
  }

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
    let ma: Multiaddr
    try {
      ma = multiaddr(address)
    } catch (err) {
      throw new InvalidArgumentError(`not a multiaddr: ${address} (${(err as Error).message})`)
    }
    try {
      const peer = await this.requireSession().dialAddress(ma, options?.signal)
      await this.requireSession().addKnownAddresses(ma.getComponents().some(c => c.name === 'p2p') ? [ma] : [])
      return { peerId: peer.toString() }
    } catch (err) {
      throw new PeerUnreachableError(`could not connect to ${address}: ${(err as Error).message}`)
    }
  }

  async team (): Promise<TeamDoc> {
    const file = this.teamFile
    const session = this.requireSession()
    if (file == null) throw new Error('the daemon is not started')
    return { teamId: file.team.teamId, name: file.team.name, role: file.cert.role, members: session.currentMembers().length, ...this.removedField() }
  }

  async teamMembers (): Promise<MemberDoc[]> {
    const session = this.requireSession()
    return session.currentMembers().map(c => ({
      peerId: c.peerId,
      name: c.name,
      role: c.role,
      self: c.peerId === this.peerId,
      connected: c.peerId === this.peerId || (session.isVerified(c.peerId) && session.isConnected(c.peerId))
    }))
  }

  async teamCreate (name: string): Promise<TeamDoc> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 64) throw new InvalidArgumentError('a team name has 1 to 64 characters')
    const { team, teamSeed, founderCert } = createTeam({ name: name.trim(), founder: this.requireSigner(), founderName: this.init.config.name, now: Date.now() })
    const file: TeamFile = { v: 1, team, cert: founderCert, teamSeed: b64url(teamSeed) }
    await this.saveTeamFile(file)
    await this.enterTeam(file)
    this.line(`created team ${team.name} (${team.teamId})`)
    this.emit({ type: 'team:changed', data: await this.team() })
    return await this.team()
  }

  async teamInvite (request: InviteRequest): Promise<InviteDoc> {
    const file = this.teamFile
    const session = this.requireSession()
    if (file == null) throw new Error('the daemon is not started')
    this.requireInTeam()
    if (file.cert.role !== 'admin') throw new PermissionDeniedError(`only admins can invite; you are a ${file.cert.role} of ${file.team.name}`)
    const addrs = request.addresses === false ? [] : await this.inviteAddresses(session)
    const token = createInvite({
      team: file.team,
      issuerCert: file.cert,
      signer: this.requireSigner(),
      role: request.role ?? 'member',
      ttlMs: request.ttlMs ?? 24 * 3600_000,
      maxUses: request.uses ?? 1,
      addrs,
      now: Date.now()
    })
    return { token: encodeInvite(token), inviteId: token.grant.inviteId, role: token.grant.role, expiresAt: token.grant.expiresAt, maxUses: token.grant.maxUses }
  }

  /**
   * Where a joiner can find the team: this daemon's addresses and those of a few connected
   * members, so the invite works while this daemon (or any one admin) is offline.
   */
  private async inviteAddresses (session: TeamSession): Promise<string[]> {
    const own = (session.node?.getMultiaddrs() ?? []).map(a => a.toString()).filter(a => a.includes('/p2p/')).slice(0, 4)
    const others: string[] = []
    const members = session.currentMembers().filter(c => c.peerId !== this.peerId && session.isConnected(c.peerId))
    for (const member of members.slice(0, INVITE_OTHER_MEMBERS)) {
      try {
        const peer = await session.node?.peerStore.get(peerIdFromString(member.peerId))
        const listen = (peer?.addresses ?? []).map(a => a.multiaddr.toString()).filter(a => !a.includes('/p2p-circuit'))
        others.push(...listen.slice(0, 2).map(a => a.includes('/p2p/') ? a : `${a}/p2p/${member.peerId}`))
      } catch {}
    }
    return [...own, ...others]
  }

  async teamJoin (text: string, options?: { signal?: AbortSignal }): Promise<TeamDoc> { return await this.moves.join(text, options) }

  private requireAdmin (what: string): TeamFile {
    const file = this.teamFile
    if (file == null) throw new Error('the daemon is not started')
    this.requireInTeam()
    if (file.cert.role !== 'admin') throw new PermissionDeniedError(`only admins can ${what}; you are a ${file.cert.role} of ${file.team.name}`)
    return file
  }

  async teamRemove (peer: string): Promise<{ peerId: string, name: string | null, removed: true }> {
    const file = this.requireAdmin('remove members')
    const session = this.requireSession()
    const id = this.resolvePeer(peer)
    if (id === this.peerId) throw new InvalidArgumentError('to remove this daemon from the team, use paired team leave')
    const cert = session.roster.get(id)
    if (cert == null) throw new NotFoundError(`no member ${peer}`)
    await session.announceRecords([signRemoval(file.team.teamId, id, this.requireSigner(), Date.now())])
    return { peerId: id, name: cert.name, removed: true }
  }

  async teamRevokeInvite (inviteId: string): Promise<{ inviteId: string, revoked: true, kept: number }> {
    const file = this.requireAdmin('revoke invites')
    const session = this.requireSession()
    const keep = session.roster.members().filter(c => c.grant?.inviteId === inviteId).map(c => c.peerId)
    await session.announceRecords([signRevocation(file.team.teamId, inviteId, keep, this.requireSigner(), Date.now())])
    return { inviteId, revoked: true, kept: keep.length }
  }

  /**
   * admins: a new network key for the current members this daemon reaches; then this
   * daemon switches too. Returns who got it (members offline now need a new invite).
   */
  async teamRotateKey (): Promise<{ keyEpoch: number, delivered: string[], missed: string[] }> { return await this.moves.rotateKey() }

  async teamLeave (): Promise<TeamDoc> { return await this.moves.leave() }
}

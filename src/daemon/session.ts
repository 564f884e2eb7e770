import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { logger } from '@libp2p/logger'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createPairedNode, type PairedLibp2p } from '../node/create-node.js'
import {
  HELLO_DEADLINE_MS, MAX_QUERY_MESSAGE_BYTES, PROTOCOL_QUERY, PROTOCOL_TEAM,
  STREAM_READ_TIMEOUT_MS, dhtProtocol, rosterTopic
} from '../node/constants.js'
import { isObject, jsonChannel } from '../protocol/frames.js'
import { Roster, type MemberCertificate, type TeamInfo } from '../team/index.js'
import { departedKey, peerKey, peerPrefix, rosterKey } from '../state/store/keys.js'
import { scanPrefix, type PairedDb } from '../state/store/db.js'
import type { Identity } from '../identity/index.js'
import type { DaemonEvent, StatusDoc } from '../api/types.js'
import type { PairedConfig } from './config.js'
import { Redialer } from './redialer.js'
import { DEFAULT_MAX_SKEW_MS } from '../state/crdt/index.js'
import { PeerLimiter, QUERY_LIMIT, REKEY_LIMIT } from '../net/limits.js'
import { answerHello, initiateHello, type HelloMessage } from './hello.js'
import { PresenceService } from '../presence/service.js'
import { TeamState } from '../state/service.js'
import type { Capacity, PeerState, Transition } from '../presence/index.js'
import type { Signer } from '../team/index.js'
import type { Departure, Departures } from './departures.js'
import { TaskService } from '../tasks/service.js'
import { PROTOCOL_REKEY, answerRotation, sendRotation, type KeyRotation } from './rekey.js'
import { withinWorkHours } from './config.js'
import { MemberGate } from './member-gate.js'

const log = logger('paired:session')

export interface KnownPeer {
  addrs: string[]
  name?: string
  lastSeen: number
}

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
  line: (text: string) => void
}

/** what a hello exchange ended with, for a join that waits on it */
export type HelloOutcome = { ok: true, peerId: string } | { ok: false, peerId: string, error: { name: string, message: string } }

const MAX_ROSTER_ENTRIES = 2_000

/**
 * One running libp2p node in one team. The daemon makes a new session when it joins,
 * creates or leaves a team (a new network key needs a new node), and stops the old one.
 */
export class TeamSession {
  node?: PairedLibp2p
  presence?: PresenceService
  state?: TeamState
  tasks?: TaskService
  /** peers that proved membership on this session's connections */
  private readonly verified = new Set<string>()
  private readonly rtt = new Map<string, number>()
  private readonly helloListeners = new Set<(o: HelloOutcome) => void>()
  private readonly deadlines = new Map<string, ReturnType<typeof setTimeout>>()
  /** gossipsub and DHT streams wait here until their peer is verified */
  private readonly gate = new MemberGate(peer => this.verified.has(peer), HELLO_DEADLINE_MS + 1_000)
  private readonly redialer: Redialer
  private readonly queryLimiter = new PeerLimiter(QUERY_LIMIT, peer => { this.tasks?.reputation.behaviour(peer, 'flood') })
  private readonly rekeyLimiter = new PeerLimiter(REKEY_LIMIT, peer => { this.tasks?.reputation.behaviour(peer, 'flood') })

  constructor (private readonly init: SessionInit) {
    this.redialer = new Redialer({
      dial: async (peer, signal) => { await this.requireNode().dial(peerIdFromString(peer), { signal }) },
      isConnected: peer => this.isConnected(peer)
    })
  }

  get team (): TeamInfo { return this.init.team }
  get cert (): MemberCertificate { return this.init.cert }
  get roster (): Roster { return this.init.roster }

  /** the roster's members less those that left (and were not invited back since) */
  currentMembers (): MemberCertificate[] {
    return this.init.roster.members().filter(c => !this.init.departures.covers(c))
  }

  isMember (peer: string, now = Date.now()): boolean {
    const cert = this.init.roster.get(peer)
    return cert != null && this.init.roster.isMember(peer, now) && !this.init.departures.covers(cert)
  }

  /** tell the team this daemon is leaving; best effort, bounded by `waitMs` */
  async announceLeave (departure: Departure, waitMs = 300): Promise<void> {
    this.init.departures.merge([departure])
    const node = this.node
    if (node == null) return
    const data = new TextEncoder().encode(JSON.stringify({ certs: [], departures: [departure] }))
    await node.services.pubsub.publish(rosterTopic(this.init.team.teamId), data).catch(() => {})
    await new Promise(resolve => setTimeout(resolve, waitMs))
  }

  private requireNode (): PairedLibp2p {
    if (this.node == null) throw new Error('the session is not started')
    return this.node
  }

  async start (): Promise<void> {
    if (this.node != null) return
    const { init } = this
    const node = await createPairedNode({
      privateKey: init.identity.privateKey,
      listen: init.listen,
      psk: init.team.psk,
      teamId: init.team.teamId,
      bootstrap: init.config.bootstrap,
      mdns: init.config.mdns,
      agentVersion: init.agentVersion
    })
    this.node = node
    try {
      for (const protocol of node.services.pubsub.protocols) node.use(protocol, this.gate.inbound)
      node.use(dhtProtocol(init.team.teamId), this.gate.both)
      await node.handle(PROTOCOL_TEAM, (stream, connection) => { void this.onHello(stream, connection) })
      await node.handle(PROTOCOL_QUERY, (stream, connection) => { void this.onQuery(stream, connection) })
      await node.handle(PROTOCOL_REKEY, (stream, connection) => { void this.onRekey(stream, connection) })
      node.addEventListener('peer:discovery', evt => {
        const { id, multiaddrs } = evt.detail
        if (id.equals(node.peerId)) return
        if (multiaddrs.length > 0) void node.peerStore.merge(id, { multiaddrs }).catch(() => {})
        this.redialer.want(id.toString(), { soon: true })
      })
      node.addEventListener('connection:open', evt => { this.onConnectionOpen(evt.detail) })
      node.addEventListener('peer:disconnect', evt => { this.onDisconnect(evt.detail) })
      node.addEventListener('peer:identify', evt => {
        const { peerId, listenAddrs } = evt.detail
        if (this.verified.has(peerId.toString())) void this.remember(peerId.toString(), listenAddrs)
      })
      await node.start()
      this.presence = new PresenceService({
        node,
        teamId: init.team.teamId,
        signer: init.signer,
        isVerified: peer => this.verified.has(peer),
        isMember: peer => this.isMember(peer),
        teamSize: () => this.currentMembers().length,
        work: () => this.tasks?.work() ?? { slots: init.config.slots, running: 0, queued: 0, agents: [], labels: init.config.labels },
        onTransition: t => { this.onPresence(t) },
        digest: () => this.state?.digest,
        onDigest: (peer, digest) => { if (this.verified.has(peer)) this.state?.onPeerDigest(peer, digest) }
      })
      await this.presence.start()
      this.state = new TeamState({
        db: init.db,
        node,
        teamId: init.team.teamId,
        signer: init.signer,
        isVerified: peer => this.verified.has(peer),
        isPending: peer => this.helloPending(peer),
        isMember: peer => this.isMember(peer),
        isKnownAuthor: author => this.init.roster.get(author) != null,
        emit: (type, data) => { init.emit({ type, data }) },
        wanted: init.hasListeners,
        onFlood: peer => { this.tasks?.reputation.behaviour(peer, 'flood') }
      })
      await this.state.start()
      this.tasks = new TaskService({
        node,
        db: init.db,
        teamId: init.team.teamId,
        selfId: this.selfId,
        signer: init.signer,
        state: this.state,
        slots: init.config.slots,
        labels: init.config.labels,
        agents: init.config.agents,
        leaseMs: init.config.tasks.leaseMs,
        adaptiveReplicas: init.config.tasks.adaptiveReplicas,
        maxPriority: init.config.tasks.maxPriority,
        reputation: { quarantineThreshold: init.config.reputation.quarantineThreshold, coolOffMs: init.config.reputation.coolOffMs },
        paused: () => this.pausedReason(),
        isVerified: peer => this.verified.has(peer),
        members: () => this.currentMembers().map(c => c.peerId),
        roleOf: peer => this.isMember(peer) ? this.init.roster.get(peer)?.role : undefined,
        peerState: peer => this.presence?.state(peer),
        capacityOf: peer => this.capacityOf(peer),
        rttOf: peer => this.rttOf(peer),
        emit: (type, data) => { init.emit({ type, data }) },
        wanted: init.hasListeners
      })
      await this.tasks.start()
      // gossip is accepted only from a peer that passed the hello, and only when it parses;
      // each certificate and departure inside is then verified on its own signatures
      node.services.pubsub.topicValidators.set(rosterTopic(init.team.teamId), (from, msg) => {
        // a member whose hello is still under way may gossip first: ignored, not penalised;
        // a peer past the hello deadline without a certificate is rejected (and scored down)
        if (!this.verified.has(from.toString())) return this.helloPending(from.toString()) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
        try {
          const parsed = JSON.parse(new TextDecoder().decode(msg.data)) as unknown
          return isObject(parsed) && Array.isArray(parsed.certs) ? TopicValidatorResult.Accept : TopicValidatorResult.Reject
        } catch {
          return TopicValidatorResult.Reject
        }
      })
      node.services.pubsub.subscribe(rosterTopic(init.team.teamId))
      node.services.pubsub.addEventListener('message', evt => {
        if (evt.detail.topic !== rosterTopic(init.team.teamId)) return
        this.onRosterGossip(evt.detail.data)
      })
      // remembered peers of this team, then every member we know of
      for (const [key, known] of await scanPrefix<KnownPeer>(init.db, peerPrefix(init.team.teamId))) {
        const peer = key.slice(peerPrefix(init.team.teamId).length)
        const addrs = known.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
        if (addrs.length > 0) await node.peerStore.merge(peerIdFromString(peer), { multiaddrs: addrs }).catch(() => {})
        this.redialer.want(peer, { soon: true })
      }
      for (const cert of this.currentMembers()) {
        if (cert.peerId !== this.selfId) this.redialer.want(cert.peerId, { soon: true })
      }
      this.redialer.start()
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  async stop (): Promise<void> {
    const node = this.node
    if (node == null) return
    // tell the team at once, so nobody waits for a failure detector to notice
    await this.presence?.stop({ announce: true }).catch(() => {})
    this.presence = undefined
    await this.tasks?.stop().catch(() => {})
    this.tasks = undefined
    await this.state?.stop().catch(() => {})
    this.state = undefined
    this.node = undefined
    this.redialer.stop()
    for (const t of this.deadlines.values()) clearTimeout(t)
    this.deadlines.clear()
    this.verified.clear()
    this.gate.close()
    await node.stop()
  }

  get selfId (): string { return this.init.identity.peerId.toString() }

  isConnected (peer: string): boolean {
    const node = this.node
    if (node == null) return false
    try {
      return node.getConnections(peerIdFromString(peer)).some(c => c.status === 'open')
    } catch {
      return false
    }
  }

  isVerified (peer: string): boolean { return this.verified.has(peer) }

  /** gossipsub's score of `peer` (null without a running node or a score record) */
  gossipScore (peer: string): number | null {
    // the class has both; the exported GossipSub interface declares neither
    const pubsub = this.node?.services.pubsub as unknown as { getScore: (peer: string) => number, score: { peerStats: Map<string, unknown> } } | undefined
    if (pubsub == null || !pubsub.score.peerStats.has(peer)) return null
    return Math.round(pubsub.getScore(peer) * 1000) / 1000
  }

  /** connected, not yet verified, and still within the hello deadline */
  helloPending (peer: string): boolean { return this.deadlines.has(peer) }

  rttOf (peer: string): number | null { return this.rtt.get(peer) ?? null }

  presenceOf (peer: string): PeerState | undefined { return this.presence?.state(peer) }

  capacityOf (peer: string): Capacity | undefined {
    return peer === this.selfId ? this.presence?.ownCapacity : this.presence?.capacity(peer)
  }

  /** why this daemon takes no new work now (config: pause on battery, work hours) */
  private pausedReason (): string | undefined {
    const { tasks } = this.init.config
    if (tasks.pauseOnBattery && this.presence?.ownCapacity?.power === 'battery') return 'on battery'
    if (!withinWorkHours(tasks.workHours)) return `outside work hours ${tasks.workHours ?? ''}`
    return undefined
  }

  private onPresence (t: Transition): void {
    if (t.peer === this.selfId) return
    this.tasks?.onPeerState(t.peer, t.to)
    const name = this.init.roster.get(t.peer)?.name ?? ''
    if (t.to !== 'alive' || t.from != null) {
      this.init.line(`peer ${t.to} ${name} ${t.peer}${t.from != null ? ` (was ${t.from})` : ''}`)
    }
    this.init.emit({ type: `peer:${t.to}`, data: { peerId: t.peer, name, from: t.from ?? null } })
  }

  /** resolves on hello outcomes until the callback returns true or the signal aborts */
  onHelloOutcome (listener: (o: HelloOutcome) => void): () => void {
    this.helloListeners.add(listener)
    return () => { this.helloListeners.delete(listener) }
  }

  /** dial addresses from an invite token or `paired connect` */
  async dialAddress (addr: Multiaddr, signal?: AbortSignal): Promise<PeerId> {
    const conn = await this.requireNode().dial(addr, { signal })
    return conn.remotePeer
  }

  /** add addresses to the peer store and keep dialing that peer with backoff */
  async addKnownAddresses (addrs: Multiaddr[]): Promise<void> {
    const node = this.requireNode()
    for (const addr of addrs) {
      const id = addr.getComponents().find(c => c.name === 'p2p')?.value
      if (id == null || id === this.selfId) continue
      await node.peerStore.merge(peerIdFromString(id), { multiaddrs: [addr] }).catch(() => {})
      this.redialer.want(id, { soon: true })
    }
  }

  async ping (peer: string, signal?: AbortSignal): Promise<number> {
    // libp2p's own figure is whole milliseconds: time it here for a useful RTT
    const t0 = performance.now()
    await this.requireNode().services.ping.ping(peerIdFromString(peer), { signal })
    const ms = Math.round((performance.now() - t0) * 1000) / 1000
    this.rtt.set(peer, ms)
    return ms
  }

  async query (peer: string, signal?: AbortSignal): Promise<StatusDoc> {
    const stream = await this.requireNode().dialProtocol(peerIdFromString(peer), PROTOCOL_QUERY, { signal })
    try {
      const ch = jsonChannel(stream, MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS)
      await ch.write({ type: 'status' }, { signal })
      const reply = await ch.read<{ status?: StatusDoc, error?: { message: string } }>({ signal })
      if (!isObject(reply) || reply.status == null) throw new Error(reply?.error?.message ?? 'the peer sent no status')
      await stream.close({ signal }).catch(() => {})
      return reply.status
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /** hands a key rotation to one member; resolves when it took it */
  async sendRekey (peer: string, rotation: KeyRotation, signal?: AbortSignal): Promise<void> {
    const stream = await this.requireNode().dialProtocol(peerIdFromString(peer), PROTOCOL_REKEY, { signal })
    await sendRotation(stream, rotation, signal)
  }

  private async onRekey (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const onRekey = this.init.onRekey
    if (!this.verified.has(peer) || onRekey == null || !this.rekeyLimiter.allow(peer)) {
      stream.abort(new Error('not a member, or too many requests'))
      return
    }
    await answerRotation(stream, async rotation => await onRekey(rotation, peer))
  }

  /** tell the team about certificates we learned (new members) */
  async publishRoster (certs: MemberCertificate[]): Promise<void> {
    const node = this.node
    if (node == null || certs.length === 0) return
    const data = new TextEncoder().encode(JSON.stringify({ certs }))
    await node.services.pubsub.publish(rosterTopic(this.init.team.teamId), data).catch(err => {
      log('roster publish failed: %s', (err as Error).message)
    })
  }

  // --- membership: the hello exchange ---------------------------------------------------

  private onConnectionOpen (connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (!this.verified.has(peer) && !this.deadlines.has(peer)) {
      // a peer that holds the network key but proves no membership is dropped
      this.deadlines.set(peer, setTimeout(() => {
        this.deadlines.delete(peer)
        if (!this.verified.has(peer)) {
          this.gate.refuse(peer, `no membership proof within ${HELLO_DEADLINE_MS} ms`)
          log('closing %s: no membership proof within %d ms', peer, HELLO_DEADLINE_MS)
          void this.node?.hangUp(connection.remotePeer).catch(() => {})
        }
      }, HELLO_DEADLINE_MS))
    }
    if (connection.direction === 'outbound' && !this.verified.has(peer)) {
      void this.sendHello(connection)
    }
  }

  private onDisconnect (peerId: PeerId): void {
    const peer = peerId.toString()
    if (this.isConnected(peer)) return
    const t = this.deadlines.get(peer)
    if (t != null) { clearTimeout(t); this.deadlines.delete(peer) }
    this.gate.refuse(peer, 'disconnected')
    if (this.verified.delete(peer)) {
      const name = this.init.roster.get(peer)?.name ?? ''
      this.init.line(`peer left ${name} ${peer}`)
      this.init.emit({ type: 'peer:disconnected', data: { peerId: peer, name } })
      if (this.node != null) this.redialer.want(peer, { soon: false })
    }
  }

  private helloPayload (type: 'hello' | 'welcome'): HelloMessage {
    return { type, cert: this.init.cert, roster: this.init.roster.toJSON().slice(0, MAX_ROSTER_ENTRIES), departures: this.init.departures.toJSON() }
  }

  private readonly helloHooks = {
    payload: (type: 'hello' | 'welcome'): HelloMessage => this.helloPayload(type),
    verify: async (peer: string, msg: HelloMessage): Promise<void> => { await this.verifyAndMerge(peer, msg) }
  }

  private async sendHello (connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const result = await initiateHello(connection, this.helloHooks)
    if (result.status === 'verified') {
      this.markVerified(peer, (result.msg.cert as MemberCertificate).name)
      return
    }
    if (result.status === 'refused-by-peer') this.refusedBy(peer, result.error)
    else log('hello with %s failed: %s', peer, result.error.message)
    // let a refused or broken peer go at once rather than at the deadline
    if (!this.verified.has(peer)) await connection.close().catch(() => {})
  }

  private refusedBy (peer: string, error: { name: string, message: string }): void {
    log('%s refused our membership: %s', peer, error.message)
    if (/removed from the team|no longer a member|revoked/.test(error.message)) this.init.line(`refused by ${peer}: ${error.message}`)
    this.notify({ ok: false, peerId: peer, error })
  }

  private async onHello (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const result = await answerHello(stream, connection, this.helloHooks)
    switch (result.status) {
      case 'verified':
        this.markVerified(peer, (result.msg.cert as MemberCertificate).name)
        return
      case 'refused':
        log('refusing %s: %s', peer, result.error.message)
        // give the refusal a moment to arrive, then drop the connection
        setTimeout(() => { void connection.close().catch(() => {}) }, 200)
        return
      case 'refused-by-peer':
        this.refusedBy(peer, result.error)
        await connection.close().catch(() => {})
        return
      case 'failed':
        log('hello from %s failed: %s', peer, result.error.message)
    }
  }

  /** verify a peer's certificate and merge its roster; throws to refuse */
  private async verifyAndMerge (peer: string, msg: HelloMessage): Promise<void> {
    const now = Date.now()
    const cert = msg.cert as MemberCertificate
    if (!isObject(cert) || cert.peerId !== peer) {
      throw Object.assign(new Error('the certificate presented is not for the connecting peer'), { name: 'InvalidCertificateError' })
    }
    if (cert.teamId !== this.init.team.teamId) {
      throw Object.assign(new Error(`this daemon is in team ${this.init.team.name} (${this.init.team.teamId}), not ${String(cert.teamId)}`), { name: 'WrongTeamError' })
    }
    if (this.applyDepartures(msg.departures).length > 0) void this.persistDepartures()
    if (this.init.departures.covers(cert)) {
      throw Object.assign(new Error(this.init.departures.reason(cert) ?? `${cert.name} (${peer}) is not a member`), { name: 'InvalidCertificateError' })
    }
    // a certificate this daemon has not seen yet, derived from an invite, must be fresh: the
    // joiner dates it itself, so an expired or used invite cannot be replayed by backdating
    const known = this.init.roster.get(peer)
    if (cert.grant != null && (known == null || known.sig !== cert.sig)) {
      if (now > cert.grant.expiresAt) {
        throw Object.assign(new Error(`the invite ${cert.grant.inviteId} expired at ${new Date(cert.grant.expiresAt).toISOString()}`), { name: 'InviteExpiredError' })
      }
      if (this.init.roster.inviteUsedUp(cert)) {
        throw Object.assign(new Error(`invite ${cert.grant.inviteId.slice(0, 8)} was already used (max ${cert.grant.maxUses})`), { name: 'InviteUsedError' })
      }
      if (Math.abs(now - cert.issuedAt) > DEFAULT_MAX_SKEW_MS) {
        throw Object.assign(new Error(`the certificate of ${peer} is dated ${new Date(cert.issuedAt).toISOString()}, not now: join again with a fresh invite (or fix the clock)`), { name: 'InvalidCertificateError' })
      }
    }
    const before = new Set(this.init.roster.members().map(c => c.peerId))
    const result = this.init.roster.add(cert, now)
    const incoming = Array.isArray(msg.roster) ? msg.roster.slice(0, MAX_ROSTER_ENTRIES) as MemberCertificate[] : []
    this.init.roster.merge(incoming, now)
    const added = this.init.roster.members().filter(c => !before.has(c.peerId))
    await this.persistRoster(added)
    if (result === 'added' || added.length > 0) void this.publishRoster(this.init.roster.toJSON())
    for (const c of added) {
      if (c.peerId !== this.selfId) {
        this.init.emit({ type: 'team:member-added', data: { peerId: c.peerId, name: c.name, role: c.role } })
        this.redialer.want(c.peerId, { soon: true })
      }
    }
  }

  private markVerified (peer: string, name: string): void {
    const t = this.deadlines.get(peer)
    if (t != null) { clearTimeout(t); this.deadlines.delete(peer) }
    if (!this.verified.has(peer)) {
      this.verified.add(peer)
      this.gate.verified(peer)
      this.redialer.connected(peer)
      this.init.line(`peer joined ${name} ${peer}`)
      this.init.emit({ type: 'peer:connected', data: { peerId: peer, name } })
      // anti-entropy on connect: fetch whatever this member has that we lack
      this.state?.pullFrom(peer)
      const node = this.node
      if (node != null) {
        void node.peerStore.get(peerIdFromString(peer)).then(p => this.remember(peer, p.addresses.map(a => a.multiaddr))).catch(() => {})
        void this.ping(peer).catch(() => {})
      }
    }
    this.notify({ ok: true, peerId: peer })
  }

  private notify (outcome: HelloOutcome): void {
    for (const l of this.helloListeners) l(outcome)
  }

  private onRosterGossip (data: Uint8Array): void {
    let parsed: unknown
    try { parsed = JSON.parse(new TextDecoder().decode(data)) } catch { return }
    if (!isObject(parsed) || !Array.isArray(parsed.certs)) return
    if (this.applyDepartures(parsed.departures).length > 0) void this.persistDepartures()
    const now = Date.now()
    const added = this.init.roster.merge(parsed.certs.slice(0, MAX_ROSTER_ENTRIES) as MemberCertificate[], now)
    if (added.length === 0) return
    const certs = added.flatMap(id => { const c = this.init.roster.get(id); return c != null ? [c] : [] })
    void this.persistRoster(certs)
    for (const c of certs) {
      if (c.peerId === this.selfId || this.init.departures.covers(c)) continue
      this.init.emit({ type: 'team:member-added', data: { peerId: c.peerId, name: c.name, role: c.role } })
      this.redialer.want(c.peerId, { soon: true })
    }
  }

  /**
   * merge departures, removals and revocations; a peer that no longer counts is let go at
   * once (its connections closed, its streams and gossip refused) and no longer redialed
   */
  private applyDepartures (values: unknown): string[] {
    const changed = this.init.departures.merge(values)
    if (changed.length === 0) return changed
    const peers = changed.includes('*') ? this.init.roster.members().map(c => c.peerId) : changed
    for (const peer of new Set(peers)) {
      const cert = this.init.roster.get(peer)
      if (cert == null || !this.init.departures.covers(cert)) continue
      if (peer === this.selfId) {
        this.init.line(`this daemon is no longer a member of team ${this.init.team.name}: ${this.init.departures.reason(cert) ?? ''}`)
        continue
      }
      if (!this.verified.has(peer) && !this.isConnected(peer) && !changed.includes(peer)) continue
      this.redialer.forget(peer)
      this.init.line(`peer ${this.init.departures.reason(cert) ?? `left the team ${cert.name} ${peer}`}`)
      this.init.emit({ type: 'team:member-left', data: { peerId: peer, name: cert.name } })
      this.verified.delete(peer)
      if (this.node != null) void this.node.hangUp(peerIdFromString(peer)).catch(() => {})
    }
    return changed
  }

  /**
   * tell the team about signed removals or revocations made here, then apply them: the
   * gossip goes out first, so the removed member itself hears why it is dropped
   */
  async announceRecords (records: unknown[], waitMs = 250): Promise<void> {
    const node = this.node
    if (node != null) {
      const data = new TextEncoder().encode(JSON.stringify({ certs: [], departures: records }))
      const sent = await node.services.pubsub.publish(rosterTopic(this.init.team.teamId), data).catch(() => undefined)
      if ((sent?.recipients.length ?? 0) > 0) await new Promise(resolve => setTimeout(resolve, waitMs))
    }
    if (this.applyDepartures(records).length > 0) await this.persistDepartures()
  }

  private async persistDepartures (): Promise<void> {
    await this.init.db.put(departedKey(this.init.team.teamId), this.init.departures.toJSON()).catch(err => {
      log('could not store departures: %s', (err as Error).message)
    })
  }

  /** the roster's whole state (not just current members: see Roster) under one key */
  private async persistRoster (changed: MemberCertificate[]): Promise<void> {
    if (changed.length === 0) return
    await this.init.db.put(rosterKey(this.init.team.teamId), this.init.roster.toJSON()).catch(err => {
      log('could not store the roster: %s', (err as Error).message)
    })
  }

  private async remember (peer: string, addrs: Multiaddr[]): Promise<void> {
    const usable = addrs.map(a => a.toString()).filter(a => !a.includes('/p2p-circuit'))
    if (usable.length === 0) return
    const value: KnownPeer = { addrs: usable.slice(0, 16), name: this.init.roster.get(peer)?.name, lastSeen: Date.now() }
    await this.init.db.put(peerKey(this.init.team.teamId, peer), value).catch(err => {
      log('could not remember %s: %s', peer, (err as Error).message)
    })
  }

  private async onQuery (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    if (!this.verified.has(peer)) {
      stream.abort(new Error('not a member'))
      return
    }
    if (!this.queryLimiter.allow(peer)) {
      stream.abort(new Error('rate limited: too many queries'))
      return
    }
    const ch = jsonChannel(stream, MAX_QUERY_MESSAGE_BYTES, STREAM_READ_TIMEOUT_MS)
    try {
      const msg = await ch.read()
      if (!isObject(msg) || msg.type !== 'status') throw new Error('unknown query')
      await ch.write({ status: await this.init.status() })
      await stream.close()
    } catch (err) {
      await ch.write({ error: { message: (err as Error).message } }).catch(() => {})
      stream.abort(err as Error)
    }
  }
}

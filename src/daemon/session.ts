/**
 * A team session: one running libp2p node in one team, and the services on it (presence,
 * replicated state, tasks). The parts of its protocol live beside it: the hello and who
 * passed it (`membership.ts`, `hello.ts`), the checks a certificate must pass
 * (`admission.ts`), roster and departure replication (`roster-gossip.ts`), status queries
 * (`status-query.ts`), key rotation (`rekey.ts`) and remembered addresses (`known-peers.ts`).
 * This file wires them to the node and to each other.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createPairedNode, type PairedLibp2p } from '../node/create-node.js'
import { MAX_QUERY_STREAMS, PROTOCOL_QUERY, PROTOCOL_TEAM, STRANGER_DIAL_EVERY_MS, dhtProtocol } from '../node/constants.js'
import { TokenBuckets } from '../net/rate-limit.js'
import type { MemberCertificate, Roster, TeamInfo } from '../team/index.js'
import type { PairedDb } from '../state/store/db.js'
import type { Identity } from '../identity/index.js'
import type { DaemonEvent, StatusDoc } from '../model/docs.js'
import type { PairedConfig } from './config.js'
import { Redialer } from './redialer.js'
import { COOL_OFF_MS, HELLO_COOL_OFF_MS, PeerLimiter, REKEY_LIMIT } from '../net/limits.js'
import { CoolOff } from '../net/cool-off.js'
import { PeerFaults } from '../net/peer-faults.js'
import { guardNode } from '../node/guard.js'
import { UnprovenConnections } from '../net/unproven-connections.js'
import { gossipReopener } from '../node/gossip-reopen.js'
import type { HelloMessage } from './hello.js'
import { PresenceService } from '../presence/service.js'
import { TeamState } from '../state/service.js'
import type { Capacity, PeerState, Transition } from '../presence/index.js'
import type { Signer } from '../team/index.js'
import type { Departure, Departures } from './departures.js'
import { TaskService } from '../tasks/service.js'
import { PROTOCOL_REKEY, answerRotation, sendRotation, type KeyRotation } from './rekey.js'
import { withinWorkHours } from './config.js'
import { Membership, type HelloOutcome } from './membership.js'
import { checkAdmissible, checkPresented } from './admission.js'
import { StatusQueries, askStatus, fromWire, toWire } from './status-query.js'
import { MAX_ROSTER_ENTRIES, RosterGossip } from './roster-gossip.js'
import { knownPeers, rememberPeer } from './known-peers.js'
import type { ShutOut } from './standing.js'
import { StandingWatch } from './standing-watch.js'

export type { KnownPeer } from './known-peers.js'

/** a dial to a discovered stranger gives up after this */
const STRANGER_DIAL_TIMEOUT_MS = 5_000
export type { HelloOutcome }

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
}

/**
 * One running libp2p node in one team. The daemon makes a new session when it joins,
 * creates or leaves a team (a new network key needs a new node), and stops the old one.
 */
export class TeamSession {
  node?: PairedLibp2p
  presence?: PresenceService
  state?: TeamState
  tasks?: TaskService
  private readonly rtt = new Map<string, number>()
  private readonly redialer: Redialer
  private readonly membership: Membership
  private readonly gossip: RosterGossip
  /** peers cut off for abuse: the connection gater refuses them */
  private readonly coolOff = new CoolOff()
  /** whether an admin removed this daemon: it then dials nobody and takes no connection */
  private readonly standing: StandingWatch
  private readonly onFlood = (peer: string, abusive: boolean): void => {
    this.tasks?.reputation.behaviour(peer, 'flood')
    if (abusive) this.cutOff(peer)
  }
  private readonly queries = new StatusQueries({ isVerified: peer => this.isVerified(peer), status: async () => toWire(await this.init.status()), onFlood: this.onFlood })
  private readonly rekeyLimiter = new PeerLimiter(REKEY_LIMIT, this.onFlood)
  /** dials of discovered peers outside the roster: one per peer per {@link STRANGER_DIAL_EVERY_MS} */
  private readonly strangerDials = new TokenBuckets({ ratePerSec: 1000 / STRANGER_DIAL_EVERY_MS, burst: 1, maxKeys: 10_000 })
  /** inbound connections that have not proven membership: a budget of their own, far below the connection limit */
  private readonly unproven = new UnprovenConnections({ isProven: peer => this.isVerified(peer) })
  /** a throw on one peer's path closes its connections and refuses it for a while (src/node/guard.ts) */
  readonly faults = new PeerFaults({
    coolOff: this.coolOff,
    selfId: () => this.selfId,
    hangUp: peer => { void this.node?.hangUp(peerIdFromString(peer)).catch(() => {}) },
    blame: peer => { if (this.isVerified(peer)) this.tasks?.reputation.behaviour(peer, 'protocol-violation') },
    line: text => { this.init.line(text) }
  })

  constructor (private readonly init: SessionInit) {
    this.standing = new StandingWatch({
      cert: init.cert,
      roster: init.roster,
      departures: init.departures,
      team: init.team,
      line: text => { init.line(text) },
      disconnect: () => {
        this.redialer.stop()
        for (const c of this.node?.getConnections() ?? []) void c.close().catch(() => {})
      },
      onShutOut: s => { init.onShutOut?.(s) }
    })
    this.redialer = new Redialer({
      dial: async (peer, signal) => { await this.requireNode().dial(peerIdFromString(peer), { signal }) },
      isConnected: peer => this.isConnected(peer),
      presence: peer => this.presence?.state(peer)
    })
    this.membership = new Membership({
      node: () => this.node,
      isConnected: peer => this.isConnected(peer),
      payload: type => this.helloPayload(type),
      verify: async (peer, msg) => { await this.verifyAndMerge(peer, msg) },
      onVerified: (peer, name) => { this.onVerified(peer, name) },
      onLost: peer => { this.onLost(peer) },
      // a key holder that proved nothing in 10 s may not come straight back
      onDeadline: peer => { this.coolOff.add(peer, Date.now() + HELLO_COOL_OFF_MS) },
      refusal: (peer, cert) => this.standing.refusalRecords(peer, cert),
      onRefused: (_peer, records) => { this.gossip.mergeDepartures(records) },
      line: text => { init.line(text) }
    })
    this.gossip = new RosterGossip({
      team: init.team,
      roster: init.roster,
      departures: init.departures,
      db: init.db,
      selfId: this.selfId,
      node: () => this.node,
      redialer: this.redialer,
      isVerified: peer => this.isVerified(peer),
      isPending: peer => this.helloPending(peer),
      isConnected: peer => this.isConnected(peer),
      unverify: peer => { this.membership.forget(peer) },
      onSelfCovered: () => { this.standing.check() },
      line: text => { init.line(text) },
      emit: event => { init.emit(event) }
    })
  }

  get team (): TeamInfo { return this.init.team }
  get cert (): MemberCertificate { return this.init.cert }
  get roster (): Roster { return this.init.roster }

  /** the roster's members less those that left (and were not invited back since) */
  currentMembers (): MemberCertificate[] {
    return this.init.roster.members().filter(c => !this.init.departures.covers(c))
  }

  /** how an admin shut this daemon out of the team, if it did */
  get shutOutBy (): ShutOut | undefined { return this.standing.shutOut }

  isMember (peer: string, now = Date.now()): boolean {
    const cert = this.init.roster.get(peer)
    return cert != null && this.init.roster.isMember(peer, now) && !this.init.departures.covers(cert)
  }

  /** why `peer` does not count as a member, for messages */
  notMemberReason (peer: string): string { return this.standing.notMemberReason(peer) }

  /** stores the roster now (after a join: its own certificate and invite use are in it) */
  async saveRoster (): Promise<void> { await this.gossip.saveRoster() }

  /** every departure, removal and revocation record of this team that this daemon holds */
  departureRecords (): unknown[] { return this.init.departures.toJSON() }

  /** tell the team this daemon is leaving; best effort, bounded by `waitMs` */
  async announceLeave (departure: Departure, waitMs = 300): Promise<void> {
    await this.gossip.announceLeave(departure, waitMs)
  }

  private requireNode (): PairedLibp2p {
    if (this.node == null) throw new Error('the session is not started')
    return this.node
  }

  async start (): Promise<void> {
    if (this.node != null) return
    const { init } = this
    this.standing.begin()
    // a daemon shut out of its team keeps its node (local reads) but connects to nobody
    const deny = (peerId: PeerId): boolean => this.standing.shutOut != null || this.coolOff.has(peerId.toString())
    const node = await createPairedNode({
      privateKey: init.identity.privateKey,
      listen: init.listen,
      psk: init.team.psk,
      teamId: init.team.teamId,
      bootstrap: init.config.bootstrap,
      mdns: init.config.mdns,
      agentVersion: init.agentVersion,
      gater: { ...this.unproven.gater(), denyDialPeer: deny, denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny }
    })
    this.node = node
    try {
      guardNode(node, (peer, err, where) => { this.faults.fault(peer, err, where) })
      // no gossip to a peer before its hello: our subscriptions name the team (member-gate.ts)
      for (const protocol of node.services.pubsub.protocols) node.use(protocol, this.membership.gate.gossip)
      const reopenGossip = gossipReopener(node)
      this.membership.gate.onVerified(peer => {
        this.unproven.proven(peer)
        reopenGossip(peerIdFromString(peer))
      })
      this.unproven.watch(node)
      node.use(dhtProtocol(init.team.teamId), this.membership.gate.both)
      await node.handle(PROTOCOL_TEAM, async (stream, connection) => { await this.membership.onHello(stream, connection) })
      // streams past libp2p's cap (32 open per connection) are reset before the limiter sees
      // them, so a flood would take seconds to count as abuse; let the limiter see them all
      await node.handle(PROTOCOL_QUERY, async (stream, connection) => { await this.queries.answer(stream, connection) }, { maxInboundStreams: MAX_QUERY_STREAMS })
      await node.handle(PROTOCOL_REKEY, async (stream, connection) => { await this.onRekey(stream, connection) })
      node.addEventListener('peer:discovery', evt => {
        const { id, multiaddrs } = evt.detail
        if (id.equals(node.peerId) || this.standing.shutOut != null) return
        if (multiaddrs.length > 0) void node.peerStore.merge(id, { multiaddrs }).catch(() => {})
        const peer = id.toString()
        if (this.init.roster.get(peer) != null) { this.redialer.want(peer, { soon: true }); return }
        // mDNS finds every team's daemons on the LAN: try a stranger now and then, never
        // keep redialing it (another team's refuses us in milliseconds at pnet)
        if (!this.isConnected(peer) && this.strangerDials.take(peer, Date.now())) {
          void node.dial(id, { signal: AbortSignal.timeout(STRANGER_DIAL_TIMEOUT_MS) }).catch(() => {})
        }
      })
      node.addEventListener('connection:open', evt => { this.membership.onConnectionOpen(evt.detail) })
      node.addEventListener('peer:disconnect', evt => { this.membership.onDisconnect(evt.detail) })
      node.addEventListener('peer:identify', evt => {
        const { peerId, listenAddrs } = evt.detail
        if (this.isVerified(peerId.toString())) void this.remember(peerId.toString(), listenAddrs)
      })
      await node.start()
      this.presence = new PresenceService({
        node,
        teamId: init.team.teamId,
        signer: init.signer,
        isVerified: peer => this.isVerified(peer),
        isMember: peer => this.isMember(peer),
        teamSize: () => this.currentMembers().length,
        work: () => this.tasks?.work() ?? { slots: init.config.slots, running: 0, queued: 0, agents: [], labels: init.config.labels },
        onTransition: t => { this.onPresence(t) },
        digest: () => this.state?.digest,
        onDigest: (peer, digest) => { if (this.isVerified(peer)) this.state?.onPeerDigest(peer, digest) }
      })
      await this.presence.start()
      this.state = new TeamState({
        db: init.db,
        node,
        teamId: init.team.teamId,
        signer: init.signer,
        isVerified: peer => this.isVerified(peer),
        isPending: peer => this.helloPending(peer),
        isMember: peer => this.isMember(peer),
        isKnownAuthor: author => this.init.roster.get(author) != null,
        emit: (type, data) => { init.emit({ type, data }) },
        wanted: init.hasListeners,
        onFlood: this.onFlood
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
        isVerified: peer => this.isVerified(peer),
        members: () => this.currentMembers().map(c => c.peerId),
        roleOf: peer => this.isMember(peer) ? this.init.roster.get(peer)?.role : undefined,
        nameOf: peer => this.init.roster.get(peer)?.name,
        peerState: peer => this.presence?.state(peer),
        capacityOf: peer => this.capacityOf(peer),
        rttOf: peer => this.rttOf(peer),
        emit: (type, data) => { init.emit({ type, data }) },
        wanted: init.hasListeners,
        line: text => { init.line(text) }
      })
      await this.tasks.start()
      this.gossip.listen(node)
      // remembered peers of this team, then every member we know of
      for (const { peer, addrs } of await knownPeers(init.db, init.team.teamId)) {
        if (addrs.length > 0) await node.peerStore.merge(peerIdFromString(peer), { multiaddrs: addrs }).catch(() => {})
        this.redialer.want(peer, { soon: true })
      }
      for (const cert of this.currentMembers()) {
        if (cert.peerId !== this.selfId) this.redialer.want(cert.peerId, { soon: true })
      }
      if (this.standing.shutOut == null) this.redialer.start()
      else this.standing.announceAtStart()
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
    this.membership.close()
    await node.stop()
  }

  get selfId (): string { return this.init.identity.peerId.toString() }

  /**
   * `peer` ran past a request limit and past its slack: hang up and refuse its connections
   * both ways for {@link COOL_OFF_MS}, so it cannot keep this daemon's event loop busy
   * refusing it while other members wait. Afterwards it is redialed like any member.
   */
  private cutOff (peer: string): void {
    if (peer === this.selfId || this.coolOff.has(peer)) return
    this.coolOff.add(peer, Date.now() + COOL_OFF_MS)
    const name = this.init.roster.get(peer)?.name ?? ''
    this.init.line(`cutting off ${name} ${peer} for ${COOL_OFF_MS / 1000} s: requests far past its limits`)
    void this.node?.hangUp(peerIdFromString(peer)).catch(() => {})
  }

  isConnected (peer: string): boolean {
    const node = this.node
    if (node == null) return false
    try {
      return node.getConnections(peerIdFromString(peer)).some(c => c.status === 'open')
    } catch {
      return false
    }
  }

  isVerified (peer: string): boolean { return this.membership.isVerified(peer) }

  /** gossipsub's score of `peer` (null without a running node or a score record) */
  gossipScore (peer: string): number | null {
    // the class has both; the exported GossipSub interface declares neither
    const pubsub = this.node?.services.pubsub as unknown as { getScore: (peer: string) => number, score: { peerStats: Map<string, unknown> } } | undefined
    if (pubsub == null || !pubsub.score.peerStats.has(peer)) return null
    return Math.round(pubsub.getScore(peer) * 1000) / 1000
  }

  /** connected, not yet verified, and still within the hello deadline */
  helloPending (peer: string): boolean { return this.membership.isPending(peer) }

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
    return this.membership.onOutcome(listener)
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
    return fromWire(await askStatus(stream, signal))
  }

  /** hands a key rotation to one member; resolves when it took it */
  async sendRekey (peer: string, rotation: KeyRotation, signal?: AbortSignal): Promise<void> {
    const stream = await this.requireNode().dialProtocol(peerIdFromString(peer), PROTOCOL_REKEY, { signal })
    await sendRotation(stream, rotation, signal)
  }

  private async onRekey (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const onRekey = this.init.onRekey
    if (!this.isVerified(peer) || onRekey == null || !this.rekeyLimiter.allow(peer)) {
      stream.abort(new Error('not a member, or too many requests'))
      return
    }
    await answerRotation(stream, async rotation => await onRekey(rotation, peer))
  }

  /** tell the team about certificates we learned (new members) */
  async publishRoster (certs: MemberCertificate[]): Promise<void> {
    await this.gossip.publish(certs)
  }

  /**
   * tell the team about signed removals or revocations made here, then apply them: the
   * gossip goes out first, so the removed member itself hears why it is dropped
   */
  async announceRecords (records: unknown[], waitMs = 250): Promise<void> {
    await this.gossip.announceRecords(records, waitMs)
  }

  // --- membership: what the hello checks, and what follows it -----------------------------

  private helloPayload (type: 'hello' | 'welcome'): HelloMessage {
    return { type, cert: this.init.cert, roster: this.init.roster.toJSON().slice(0, MAX_ROSTER_ENTRIES), departures: this.init.departures.toJSON() }
  }

  /** verify a peer's certificate and merge its roster; throws to refuse */
  private async verifyAndMerge (peer: string, msg: HelloMessage): Promise<void> {
    const now = Date.now()
    const cert = msg.cert
    checkPresented(cert, peer, this.init.team)
    // departures first: a certificate its holder gave up, or an admin removed, admits nobody
    this.gossip.mergeDepartures(msg.departures, { spread: true })
    checkAdmissible(cert, peer, { roster: this.init.roster, departures: this.init.departures, now })
    await this.gossip.mergeHello(cert, msg.roster, now)
  }

  /** `peer` proved membership, the first time since it connected */
  private onVerified (peer: string, name: string): void {
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

  /** the last connection of a verified `peer` closed */
  private onLost (peer: string): void {
    const name = this.init.roster.get(peer)?.name ?? ''
    this.init.line(`peer left ${name} ${peer}`)
    this.init.emit({ type: 'peer:disconnected', data: { peerId: peer, name } })
    if (this.node != null && this.standing.shutOut == null) this.redialer.want(peer, { soon: false })
  }

  private async remember (peer: string, addrs: Multiaddr[]): Promise<void> {
    await rememberPeer(this.init.db, this.init.team.teamId, peer, addrs, this.init.roster.get(peer)?.name)
  }
}

/**
 * A team session: one running libp2p node in one team, and the services on it (presence,
 * replicated state, tasks). The parts of its protocol live beside it: the hello and who
 * passed it (`membership.ts`, `hello.ts`), the checks a certificate must pass
 * (`admission.ts`), roster and departure replication (`roster-gossip.ts`), status queries
 * (`status-query.ts`), key rotation (`rekey.ts`) and remembered addresses (`known-peers.ts`).
 * Its decisions are pure functions (`session-policy.ts`), its node is made and wired in
 * `session-node.ts`, its services are built in `session-services.ts`, and what it is made
 * with is `SessionInit` (`session-init.ts`). This file ties them to each other.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PairedLibp2p } from '../node/create-node.js'
import { STRANGER_DIAL_EVERY_MS } from '../node/constants.js'
import { TokenBuckets } from '../net/rate-limit.js'
import type { MemberCertificate, Roster, TeamInfo } from '../team/index.js'
import type { StatusDoc } from '../model/docs.js'
import { Redialer } from './redialer.js'
import { COOL_OFF_MS, PeerLimiter, REKEY_LIMIT } from '../net/limits.js'
import { CoolOff } from '../net/cool-off.js'
import { PeerFaults } from '../net/peer-faults.js'
import { UnprovenConnections } from '../net/unproven-connections.js'
import type { HelloMessage } from './hello.js'
import type { PresenceService } from '../presence/service.js'
import type { DeadNotices } from '../presence/dead-notice.js'
import type { TeamState } from '../state/service.js'
import type { Capacity, PeerState, Transition } from '../presence/index.js'
import type { Departure } from './departures.js'
import type { TaskService } from '../tasks/service.js'
import { answerRotation, type KeyRotation } from './rekey.js'
import { Membership, type HelloOutcome } from './membership.js'
import { checkAdmissible, checkPresented } from './admission.js'
import { StatusQueries, toWire } from './status-query.js'
import { AddressHints } from './address-hints.js'
import { RosterGossip } from './roster-gossip.js'
import { knownPeers, rememberPeer } from './known-peers.js'
import type { ShutOut } from './standing.js'
import { StandingWatch } from './standing-watch.js'
import type { SessionInit } from './session-init.js'
import { currentMembers, discoveryAction, helloDeadlineCoolOffMs, helloPayload, isCurrentMember, pausedReason, presenceNotice } from './session-policy.js'
import { newOverlay, newState, newTasks, startPresence, type SessionServicesHost } from './session-services.js'
import { createSessionNode, gossipScoreOf, hasOpenConnection, pingPeer, queryPeer, sendRekey, wireNode } from './session-node.js'

export type { KnownPeer } from './known-peers.js'
export type { HelloOutcome, SessionInit }

/** a dial to a discovered stranger gives up after this */
const STRANGER_DIAL_TIMEOUT_MS = 5_000

/**
 * One running libp2p node in one team. The daemon makes a new session when it joins,
 * creates or leaves a team (a new network key needs a new node), and stops the old one.
 */
export class TeamSession implements SessionServicesHost {
  node?: PairedLibp2p
  presence?: PresenceService
  notices?: DeadNotices
  state?: TeamState
  tasks?: TaskService
  private readonly rtt = new Map<string, number>()
  private readonly redialer: Redialer
  readonly overlay = newOverlay(this, () => { this.redialer.refresh() })
  private readonly membership: Membership
  private readonly gossip: RosterGossip
  /** where members are, told in hellos so that nobody dials a member without an address */
  readonly hints: AddressHints
  /** peers cut off for abuse: the connection gater refuses them */
  private readonly coolOff = new CoolOff()
  /** whether an admin removed this daemon: it then dials nobody and takes no connection */
  private readonly standing: StandingWatch
  /** `peer` ran past a request limit (`abusive`: far past it) */
  readonly onFlood = (peer: string, abusive: boolean): void => {
    this.tasks?.reputation.behaviour(peer, 'flood')
    if (abusive) this.cutOff(peer)
  }
  private readonly queries = new StatusQueries({ isVerified: peer => this.isVerified(peer), status: async () => toWire(await this.init.status()), onFlood: this.onFlood })
  private readonly rekeyLimiter = new PeerLimiter(REKEY_LIMIT, this.onFlood)
  /** dials of discovered peers outside the roster: one per peer per {@link STRANGER_DIAL_EVERY_MS} */
  private readonly strangerDials = new TokenBuckets({ ratePerSec: 1000 / STRANGER_DIAL_EVERY_MS, burst: 1, maxKeys: 10_000 })
  /** inbound connections that have not proven membership: a budget of their own, far below the connection limit */
  // a current member's connection (Noise proved its key) needs no budget, hello or not
  private readonly unproven = new UnprovenConnections({ isProven: peer => this.isVerified(peer) || this.isMember(peer) })
  /** a throw on one peer's path closes its connections and refuses it for a while (src/node/guard.ts) */
  readonly faults = new PeerFaults({
    coolOff: this.coolOff,
    selfId: () => this.selfId,
    hangUp: peer => { void this.node?.hangUp(peerIdFromString(peer)).catch(() => {}) },
    blame: peer => { if (this.isVerified(peer)) this.tasks?.reputation.behaviour(peer, 'protocol-violation') },
    line: text => { this.init.line(text) }
  })

  private readonly clock: () => number

  constructor (private readonly init: SessionInit) {
    this.clock = init.clock ?? Date.now
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
      // an open connection whose hello has not passed may still fail: not parked on for a minute
      isConnected: peer => this.isVerified(peer) && this.isConnected(peer),
      presence: peer => this.presence?.state(peer),
      wanted: peer => this.overlay.wants(peer)
    })
    this.hints = new AddressHints({ selfId: this.selfId, node: () => this.node, redialer: this.redialer, isConnected: peer => this.isConnected(peer) })
    this.membership = new Membership({
      node: () => this.node,
      isConnected: peer => this.isConnected(peer),
      payload: (type, hints) => this.helloPayload(type, hints),
      verify: async (peer, msg) => { await this.verifyAndMerge(peer, msg) },
      onVerified: (peer, name) => { this.onVerified(peer, name) },
      onLost: peer => { this.onLost(peer) },
      // a key holder that proved nothing in 10 s may not come straight back, unless a member
      onDeadline: peer => { const ms = helloDeadlineCoolOffMs(this.isMember(peer)); if (ms > 0) this.coolOff.add(peer, this.clock() + ms) },
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
      knowsAddress: peer => this.hints.knows(peer),
      unverify: peer => { this.membership.forget(peer) },
      onSelfCovered: () => { this.standing.check() },
      line: text => { init.line(text) },
      emit: event => { if (event.type.startsWith('team:member-')) this.overlay.changed(); init.emit(event) }
    })
  }

  get team (): TeamInfo { return this.init.team }
  get cert (): MemberCertificate { return this.init.cert }
  get roster (): Roster { return this.init.roster }

  /** the roster's members less those that left (and were not invited back since) */
  currentMembers (): MemberCertificate[] { return currentMembers(this.init.roster, this.init.departures) }

  /** how an admin shut this daemon out of the team, if it did */
  get shutOutBy (): ShutOut | undefined { return this.standing.shutOut }

  isMember (peer: string, now = this.clock()): boolean { return isCurrentMember(this.init.roster, this.init.departures, peer, now) }

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
    const deny = (peerId: PeerId): boolean => this.standing.shutOut != null || this.coolOff.has(peerId.toString(), this.clock())
    const node = await createSessionNode(init, this.unproven, deny)
    this.node = node
    try {
      await wireNode(node, {
        teamId: init.team.teamId,
        membership: this.membership,
        unproven: this.unproven,
        faults: this.faults,
        answerQuery: async (stream, connection) => { await this.queries.answer(stream, connection) },
        answerRekey: async (stream, connection) => { await this.onRekey(stream, connection) },
        onDiscovery: (id, multiaddrs) => { this.onDiscovery(node, id, multiaddrs) },
        onIdentify: (peer, addrs) => { if (this.isVerified(peer)) void this.remember(peer, addrs) },
        line: text => { init.line(text) },
        nameOf: peer => init.roster.get(peer)?.name ?? ''
      })
      await node.start()
      ;({ presence: this.presence, notices: this.notices } = await startPresence(node, init, this))
      this.state = newState(node, init, this)
      await this.state.start()
      this.tasks = newTasks(node, this.state, init, this)
      await this.tasks.start()
      this.gossip.listen(node)
      // remembered peers of this team, then every member we know of
      for (const { peer, addrs } of await knownPeers(init.db, init.team.teamId)) {
        if (addrs.length > 0) await node.peerStore.merge(peerIdFromString(peer), { multiaddrs: addrs }).catch(() => {})
        this.hints.learn(peer, addrs)
        this.redialer.want(peer, { soon: true })
      }
      for (const cert of this.currentMembers()) {
        if (cert.peerId !== this.selfId) this.redialer.want(cert.peerId, { soon: true })
      }
      this.overlay.start()
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
    this.notices?.stop()
    await this.presence?.stop({ announce: true }).catch(() => {})
    this.presence = undefined
    await this.tasks?.stop().catch(() => {})
    this.tasks = undefined
    await this.state?.stop().catch(() => {})
    this.state = undefined
    this.node = undefined
    this.redialer.stop()
    this.overlay.stop()
    this.membership.close()
    await node.stop()
  }

  get selfId (): string { return this.init.identity.peerId.toString() }

  /** a peer found by mDNS, the DHT or bootstrap: see {@link discoveryAction} */
  private onDiscovery (node: PairedLibp2p, id: PeerId, multiaddrs: Multiaddr[]): void {
    const peer = id.toString()
    const action = discoveryAction({
      self: id.equals(node.peerId),
      shutOut: this.standing.shutOut != null,
      inRoster: this.init.roster.get(peer) != null,
      connected: this.isConnected(peer),
      mayDialStranger: () => this.strangerDials.take(peer, this.clock())
    })
    if (action === 'ignore') return
    if (multiaddrs.length > 0) void node.peerStore.merge(id, { multiaddrs }).catch(() => {})
    if (action === 'redial') this.redialer.want(peer, { soon: true })
    if (action === 'dial') void node.dial(id, { signal: AbortSignal.timeout(STRANGER_DIAL_TIMEOUT_MS) }).catch(() => {})
  }

  /**
   * `peer` ran past a request limit and past its slack: hang up and refuse its connections
   * both ways for {@link COOL_OFF_MS}, so it cannot keep this daemon's event loop busy
   * refusing it while other members wait. Afterwards it is redialed like any member.
   */
  private cutOff (peer: string): void {
    if (peer === this.selfId || this.coolOff.has(peer, this.clock())) return
    this.coolOff.add(peer, this.clock() + COOL_OFF_MS)
    const name = this.init.roster.get(peer)?.name ?? ''
    this.init.line(`cutting off ${name} ${peer} for ${COOL_OFF_MS / 1000} s: requests far past its limits`)
    void this.node?.hangUp(peerIdFromString(peer)).catch(() => {})
  }

  isConnected (peer: string): boolean { return hasOpenConnection(this.node, peer) }
  isVerified (peer: string): boolean { return this.membership.isVerified(peer) }

  /** gossipsub's score of `peer` (null without a running node or a score record) */
  gossipScore (peer: string): number | null { return gossipScoreOf(this.node, peer) }

  /** connected, not yet verified, and still within the hello deadline */
  helloPending (peer: string): boolean { return this.membership.isPending(peer) }

  rttOf (peer: string): number | null { return this.rtt.get(peer) ?? null }
  presenceOf (peer: string): PeerState | undefined { return this.presence?.state(peer) }

  capacityOf (peer: string): Capacity | undefined {
    return peer === this.selfId ? this.presence?.ownCapacity : this.presence?.capacity(peer)
  }

  /** why this daemon takes no new work now (config: pause on battery, work hours) */
  pausedReason (): string | undefined {
    return pausedReason(this.init.config.tasks, this.presence?.ownCapacity?.power, new Date(this.clock()))
  }

  /** a peer's presence changed: tell the tasks, the log and the event stream */
  onPresence (t: Transition): void {
    if (t.peer === this.selfId) return
    this.tasks?.onPeerState(t.peer, t.to)
    const notice = presenceNotice(t, this.init.roster.get(t.peer)?.name ?? '')
    if (notice.line !== undefined) this.init.line(notice.line)
    this.init.emit(notice.event)
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

  /** add addresses to the peer store and keep dialing that peer with backoff (short while `joining` through it) */
  async addKnownAddresses (addrs: Multiaddr[], joining = false): Promise<void> { await this.hints.addKnown(this.requireNode(), addrs, joining) }

  /** the round trip to `peer` (ms), kept as its RTT */
  async ping (peer: string, signal?: AbortSignal): Promise<number> {
    const ms = await pingPeer(this.requireNode(), peer, signal)
    this.rtt.set(peer, ms)
    return ms
  }

  async query (peer: string, signal?: AbortSignal): Promise<StatusDoc> { return await queryPeer(this.requireNode(), peer, signal) }

  /** hands a key rotation to one member; resolves when it took it */
  async sendRekey (peer: string, rotation: KeyRotation, signal?: AbortSignal): Promise<void> { await sendRekey(this.requireNode(), peer, rotation, signal) }

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

  private helloPayload (type: 'hello' | 'welcome', hints: boolean): HelloMessage {
    const msg = helloPayload(type, this.init.cert, this.init.roster, this.init.departures)
    return hints ? { ...msg, addrs: this.hints.outgoing(this.currentMembers().map(c => c.peerId)) } : msg
  }

  /** verify a peer's certificate and merge its roster; throws to refuse */
  private async verifyAndMerge (peer: string, msg: HelloMessage): Promise<void> {
    const now = this.clock()
    const cert = msg.cert
    checkPresented(cert, peer, this.init.team)
    // departures first: a certificate its holder gave up, or an admin removed, admits nobody
    this.gossip.mergeDepartures(msg.departures, { spread: true })
    checkAdmissible(cert, peer, { roster: this.init.roster, departures: this.init.departures, now })
    // the hints of a verified peer, for members: in the peer store before they are dialed
    await this.gossip.mergeHello(cert, msg.roster, now, async () => { await this.hints.apply(msg.addrs, id => this.init.roster.get(id) != null) })
  }

  /** `peer` proved membership, the first time since it connected */
  private onVerified (peer: string, name: string): void {
    this.redialer.connected(peer)
    this.presence?.helloed(peer)
    this.init.line(`peer joined ${name} ${peer}`)
    this.init.emit({ type: 'peer:connected', data: { peerId: peer, name } })
    // anti-entropy on connect: fetch whatever this member has that we lack
    this.state?.pullFrom(peer)
    const node = this.node
    if (node != null) {
      void node.peerStore.get(peerIdFromString(peer)).then(async p => { await this.remember(peer, p.addresses.map(a => a.multiaddr)) }).catch(() => {})
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
    this.hints.learn(peer, addrs)
    await rememberPeer(this.init.db, this.init.team.teamId, peer, addrs, this.init.roster.get(peer)?.name)
  }
}

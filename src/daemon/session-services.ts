/**
 * The services a team session runs on its node, built here and started by the session in
 * order: presence (heartbeats, capacity, failure detection), the replicated state, and
 * the tasks. What they ask of the session (who is verified, who is a member, ...) is
 * {@link SessionServicesHost}, which `TeamSession` implements.
 */
import type { PairedLibp2p } from '../node/create-node.js'
import { PresenceService } from '../presence/service.js'
import { DeadNotices } from '../presence/dead-notice.js'
import { FULL_TEAM_MAX } from '../node/mesh.js'
import { prune, quietDisconnects } from './pruner.js'
import { Overlay } from './overlay.js'
import type { Capacity, Transition } from '../presence/index.js'
import { TeamState } from '../state/service.js'
import { TaskService } from '../tasks/service.js'
import type { MemberCertificate } from '../team/index.js'
import type { AddressHints } from './address-hints.js'
import type { SessionInit } from './session-init.js'

export interface SessionServicesHost {
  readonly selfId: string
  readonly presence?: PresenceService
  readonly notices?: DeadNotices
  readonly state?: TeamState
  readonly tasks?: TaskService
  isVerified: (peer: string) => boolean
  /** whom this daemon keeps connected (src/daemon/overlay.ts) */
  readonly overlay: Overlay
  isMember: (peer: string) => boolean
  /** connected, not yet verified, and still within the hello deadline */
  helloPending: (peer: string) => boolean
  currentMembers: () => MemberCertificate[]
  capacityOf: (peer: string) => Capacity | undefined
  rttOf: (peer: string) => number | null
  /** a peer's presence changed */
  onPresence: (t: Transition) => void
  /** `peer` ran past a request limit (`abusive`: far past it) */
  onFlood: (peer: string, abusive: boolean) => void
  /** why this daemon takes no new work now, or undefined */
  pausedReason: () => string | undefined
  /** where members are: this daemon's own addresses go into its heartbeats, and a member's into the peer store */
  readonly hints: Pick<AddressHints, 'own' | 'announced'>
}

/**
 * whom the session keeps connected (src/daemon/overlay.ts), and what it prunes in a large
 * team; `refresh` tells the redialer the overlay moved
 */
export function newOverlay (host: Pick<SessionServicesHost, 'selfId' | 'currentMembers' | 'isVerified'> & { readonly node?: PairedLibp2p }, refresh: () => void): Overlay {
  const overlay: Overlay = new Overlay({
    selfId: () => host.selfId,
    members: () => host.currentMembers().map(c => c.peerId),
    onChange: refresh,
    prune: neighbours => { if (host.node != null) prune(host.node, neighbours, { keep: p => overlay.wants(p), isVerified: p => host.isVerified(p), now: Date.now() }) }
  })
  return overlay
}

export function newPresence (node: PairedLibp2p, init: SessionInit, host: SessionServicesHost): PresenceService {
  return new PresenceService({
    // a pruned connection's close is no news: see quietDisconnects
    node: quietDisconnects(node, peer => !host.overlay.wants(peer)),
    teamId: init.team.teamId,
    signer: init.signer,
    isVerified: peer => host.isVerified(peer),
    isMember: peer => host.isMember(peer),
    teamSize: () => host.currentMembers().length,
    work: () => host.tasks?.work() ?? { slots: init.config.slots, running: 0, queued: 0, agents: [], labels: init.config.labels },
    onTransition: t => {
      if (t.to === 'dead') host.notices?.saw(t.peer)
      host.onPresence(t)
    },
    onProbe: (peer, outcome) => { if (outcome === 'refused') host.notices?.saw(peer) },
    digest: () => host.state?.digest,
    onDigest: (peer, digest) => { if (host.isVerified(peer)) host.state?.onPeerDigest(peer, digest) },
    addresses: () => host.hints.own(),
    onAddresses: (peer, addrs) => { void host.hints.announced(peer, addrs) }
  })
}

/**
 * presence and its death notices, started: above {@link FULL_TEAM_MAX} members a daemon is
 * connected to a few of them only, and learns of the others' deaths from those that saw them
 */
export async function startPresence (node: PairedLibp2p, init: SessionInit, host: SessionServicesHost): Promise<{ presence: PresenceService, notices: DeadNotices }> {
  const presence = newPresence(node, init, host)
  const notices = new DeadNotices({
    pubsub: node.services.pubsub,
    teamId: init.team.teamId,
    signer: init.signer,
    isVerified: peer => host.isVerified(peer),
    isMember: peer => host.isMember(peer),
    shouldTell: () => host.currentMembers().length > FULL_TEAM_MAX,
    onNotice: (peer, by) => { presence.heardDeath(peer, by) }
  })
  await presence.start()
  notices.start()
  return { presence, notices }
}

export function newState (node: PairedLibp2p, init: SessionInit, host: SessionServicesHost): TeamState {
  return new TeamState({
    db: init.db,
    node,
    teamId: init.team.teamId,
    signer: init.signer,
    isVerified: peer => host.isVerified(peer),
    isPending: peer => host.helloPending(peer),
    isMember: peer => host.isMember(peer),
    isKnownAuthor: author => init.roster.get(author) != null,
    emit: (type, data) => { init.emit({ type, data }) },
    wanted: init.hasListeners,
    onFlood: (peer, abusive) => { host.onFlood(peer, abusive) }
  })
}

export function newTasks (node: PairedLibp2p, state: TeamState, init: SessionInit, host: SessionServicesHost): TaskService {
  const { config } = init
  return new TaskService({
    node,
    db: init.db,
    teamId: init.team.teamId,
    selfId: host.selfId,
    signer: init.signer,
    state,
    slots: config.slots,
    labels: config.labels,
    agents: config.agents,
    leaseMs: config.tasks.leaseMs,
    adaptiveReplicas: config.tasks.adaptiveReplicas,
    maxPriority: config.tasks.maxPriority,
    reputation: { quarantineThreshold: config.reputation.quarantineThreshold, coolOffMs: config.reputation.coolOffMs },
    paused: () => host.pausedReason(),
    isVerified: peer => host.isVerified(peer),
    members: () => host.currentMembers().map(c => c.peerId),
    roleOf: peer => host.isMember(peer) ? init.roster.get(peer)?.role : undefined,
    nameOf: peer => init.roster.get(peer)?.name,
    peerState: peer => host.presence?.state(peer),
    capacityOf: peer => host.capacityOf(peer),
    rttOf: peer => host.rttOf(peer),
    emit: (type, data) => { init.emit({ type, data }) },
    wanted: init.hasListeners,
    line: text => { init.line(text) }
  })
}

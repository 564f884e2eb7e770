import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { GossipSub } from '@libp2p/gossipsub'
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import type { Identify } from '@libp2p/identify'
import type { KadDHT } from '@libp2p/kad-dht'
import type { ConnectionGater, Ed25519PrivateKey, Libp2p, PeerDiscovery, StreamMiddleware } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import { teamNetwork } from '../net/pnet.js'
import {
  BEHAVIOUR_PENALTY_DECAY, CONNECTION_PING_INTERVAL_MS, CONNECTION_PING_TIMEOUT_MS, GOSSIP_HEARTBEAT_MS, GOSSIP_SCORE_DECAY_MS, IDONTWANT_MIN_BYTES, INBOUND_UPGRADE_TIMEOUT_MS,
  INVALID_MESSAGE_DECAY, MAX_CONNECTIONS, MAX_INCOMING_PENDING_CONNECTIONS, MDNS_SERVICE_TAG,
  INVALID_MESSAGE_WEIGHT, TCP_CONNECT_TIMEOUT_MS, YAMUX_KEEPALIVE_MS, dhtProtocol, presenceTopic, rosterTopic, stateTopic
} from './constants.js'
import { meshFor, type MeshParams } from './mesh.js'
import { lazyWindowUpdates } from './yamux-window.js'

/** a per-second decay factor, applied once per score decay interval instead */
const perDecayInterval = (perSecond: number): number => perSecond ** (GOSSIP_SCORE_DECAY_MS / 1000)

export type PairedServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
}

export type PairedLibp2p = Libp2p<PairedServices>

export interface NodeInit {
  privateKey: Ed25519PrivateKey
  listen: string[]
  /** 32-byte team network key as 64 hex characters */
  psk: string
  teamId: string
  bootstrap: string[]
  mdns: { enabled: boolean, intervalMs: number }
  gater?: ConnectionGater
  agentVersion: string
  /** members of the team (this daemon included) when the node is made: sizes the gossip mesh ({@link meshFor}); default 1 */
  teamSize?: number
}

function networkKey (pskHex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(pskHex)) throw new Error('the team network key must be 64 hex characters')
  return Buffer.from(pskHex, 'hex')
}

/** The pnet swarm-key file format that `@libp2p/pnet` expects (for any stock pnet peer). */
export function swarmKey (pskHex: string): Uint8Array {
  networkKey(pskHex)
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${pskHex}`)
}

function teamTopicScores (teamId: string): Record<string, TopicScoreParams> {
  const params = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0,
    firstMessageDeliveriesWeight: 0,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
    invalidMessageDeliveriesDecay: perDecayInterval(INVALID_MESSAGE_DECAY)
  })
  return { [rosterTopic(teamId)]: params, [stateTopic(teamId)]: params, [presenceTopic(teamId)]: params }
}

/**
 * Build (not start) the libp2p node: TCP, pnet under Noise, yamux, identify, ping,
 * a server-mode kad-dht under the team's protocol prefix, gossipsub, and mDNS/bootstrap
 * discovery. Discovered peers are dialed by the daemon, not here.
 */
export async function createPairedNode (init: NodeInit): Promise<PairedLibp2p> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = [] // eslint-disable-line @typescript-eslint/no-explicit-any
  if (init.mdns.enabled) {
    peerDiscovery.push(mdns({ interval: init.mdns.intervalMs, serviceTag: MDNS_SERVICE_TAG }))
  }
  if (init.bootstrap.length > 0) {
    peerDiscovery.push(bootstrap({ list: init.bootstrap, timeout: 100 }))
  }
  // a window update per heartbeat received was half an idle daemon's frames (see the module)
  lazyWindowUpdates()
  const node = await createLibp2p({
    privateKey: init.privateKey,
    nodeInfo: { userAgent: init.agentVersion },
    start: false,
    addresses: { listen: init.listen },
    // Node's `timeout` connect option (libp2p's type names a subset of what it passes on to
    // net.connect): a SYN dropped by a partition fails the dial in 1.5 s, not ~2 minutes
    transports: [tcp({ dialOpts: { timeout: TCP_CONNECT_TIMEOUT_MS } as TCPSocketOptions })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ keepAliveInterval: YAMUX_KEEPALIVE_MS })],
    // pnet on the wire, refusing a dialer without the key at its first bytes (src/net/pnet.ts)
    connectionProtector: teamNetwork({ key: networkKey(init.psk), timeoutMs: INBOUND_UPGRADE_TIMEOUT_MS }),
    connectionGater: {
      // loopback and private addresses are how teams on one LAN or machine meet
      denyDialMultiaddr: () => false,
      ...init.gater
    },
    peerDiscovery,
    // libp2p pings every connection every 10 s by default (a new stream each: ~10 frames
    // and a peer-store write per side). In a team of five that was ~0.35 % of a core per
    // idle daemon, the largest cost after heartbeats. Presence already judges every
    // member's liveness from heartbeats, and probes the silent ones; this monitor is kept
    // only to clear connections left half-open, which can wait a minute; and a ping stuck
    // behind a burst of gossip on a busy machine must not cut a member off (5 s by default)
    connectionMonitor: { pingInterval: CONNECTION_PING_INTERVAL_MS, pingTimeout: { minTimeout: CONNECTION_PING_TIMEOUT_MS } },
    // a dialer without the team key never finishes the pnet/Noise upgrade: let it go after
    // 2 s (libp2p's default is 10 s). Unproven connections have their own budget (the
    // session's UnprovenConnections, in the gater), so libp2p's limits sit far above it
    connectionManager: {
      inboundUpgradeTimeout: INBOUND_UPGRADE_TIMEOUT_MS,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS,
      maxConnections: MAX_CONNECTIONS,
      // libp2p refuses a host's 6th inbound connection within a second: daemons sharing an
      // address (a CI box, one NAT) that join or meet in a burst were refused for seconds.
      // What one address may hold is the unproven budget's; this only paces its opening
      inboundConnectionThreshold: 64
    },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: dhtProtocol(init.teamId),
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        initialQuerySelfInterval: 200
      }),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        // every payload carries its own Ed25519 signatures (certificates, departures, op
        // batches); gossipsub's per-message signing would only halve the throughput
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: msg => createHash('sha256').update(msg.topic).update(msg.data).digest(),
        heartbeatInterval: GOSSIP_HEARTBEAT_MS,
        ...meshFor(init.teamSize ?? 1),
        // the score decays on a timer of its own; its decay factors are rescaled so that
        // penalties fade at the same rate per second whatever the interval
        scoreParams: {
          topics: teamTopicScores(init.teamId),
          decayInterval: GOSSIP_SCORE_DECAY_MS,
          behaviourPenaltyDecay: perDecayInterval(BEHAVIOUR_PENALTY_DECAY),
          // gossipsub scores peers sharing an IP down by (count − 10)² × 5: with 15 daemons on
          // one machine, a CI box or behind one NAT every member fell below the publish and
          // graylist thresholds (−405 each at 20), so no publish went to it and all it sent,
          // subscriptions included, was dropped. The penalty prices Sybils by address; a
          // member here proved its certificate before any gossip (the member gate)
          IPColocationFactorWeight: 0
        },
        // gossipsub 1.2 answers the first copy of every message of 512 bytes or more with an
        // IDONTWANT to each other mesh peer. A heartbeat (~0.5 kB) then cost three control
        // frames per receipt, each as dear as the copy it might spare (per frame: yamux, noise,
        // pnet, a write syscall and a yamux window update back; the bytes are the cheap part).
        // Keep it for messages where the bytes dominate: large op batches.
        idontwantMinDataSize: IDONTWANT_MIN_BYTES
      })
    }
  })
  copyMiddlewareChains(node)
  return node
}

/**
 * Resize the gossip mesh of a running node for a team of `teamSize` members (one joined or
 * left): gossipsub reads these options at each heartbeat and publish. Throws if gossipsub's
 * internals moved, so an upgrade cannot silently keep the old fan-out.
 */
export function resizeMesh (node: PairedLibp2p, teamSize: number): void {
  const opts = (node.services.pubsub as unknown as { opts?: Partial<MeshParams> }).opts
  if (opts == null || typeof opts.D !== 'number' || typeof opts.floodPublish !== 'boolean') throw new Error('gossipsub changed: no opts.D / opts.floodPublish to resize (see resizeMesh)')
  Object.assign(opts, meshFor(teamSize))
}

/**
 * libp2p 3.3.11 hands out the registered middleware array of a protocol itself, and every
 * inbound stream appends its handler to it (js-libp2p#3534, open): the second stream on a
 * protocol with middleware would run the handler twice, outbound streams would run it too.
 * Hand out copies instead. Throws if libp2p's internals moved, so an upgrade cannot silently
 * drop the member gate (src/daemon/member-gate.ts).
 */
function copyMiddlewareChains (node: Libp2p): void {
  const registrar = (node as unknown as { components?: { registrar?: { getMiddleware?: (protocol: string) => StreamMiddleware[] } } }).components?.registrar
  const getMiddleware = registrar?.getMiddleware
  if (registrar == null || getMiddleware == null) throw new Error('libp2p changed: no registrar.getMiddleware to patch (see copyMiddlewareChains)')
  registrar.getMiddleware = protocol => [...getMiddleware.call(registrar, protocol)]
}


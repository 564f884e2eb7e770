/**
 * A PresenceService wired to fakes, for its state-machine tests: a manual clock, a gossipsub
 * that records what is published and hands received heartbeats to the service's topic
 * validator, a ping the test answers, node events the test fires, fake connections that
 * record being hung up on, and fixed machine readings. Peers are real Ed25519 keys, so
 * their heartbeats are signed and verified as on the wire. No network, no wall-clock timers.
 */
import type { Connection } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Clock } from '../../../src/model/clock.js'
import type { Capacity, PowerInfo, ReadCapacityOptions } from '../../../src/presence/capacity.js'
import type { GossipMessageEvent, PresenceNode, PresencePing, PresencePubsub, PresenceValidator, SubscriptionChange } from '../../../src/presence/edges.js'
import type { PeerState, Transition } from '../../../src/presence/failure-detector.js'
import { PresenceService, signHeartbeat, type Heartbeat, type PresenceInit } from '../../../src/presence/service.js'
import { presenceTopic } from '../../../src/node/constants.js'
import { ManualClock } from '../../helpers/manual-clock.js'
import type { TestPeer } from '../team/helpers.js'

export const TEAM_ID = 'team-presence-test'
export const TOPIC = presenceTopic(TEAM_ID)

/** a probe sent with the ping service, waiting for the test to answer it */
export interface SentPing {
  peer: string
  at: number
  signal: AbortSignal
  answer: () => void
  refuse: (reason?: string) => void
}

export interface Published { at: number, hb: Heartbeat }

export interface FakeConnection { peer: string, aborted?: Error }

export interface Harness {
  service: PresenceService
  clock: ManualClock
  self: TestPeer
  /** heartbeats this daemon published, in order, with the clock time of each */
  published: Published[]
  beats: () => Published[]
  /** every state change the service reported */
  transitions: Transition[]
  pings: SentPing[]
  /** peer ids subscribed to the presence topic (gossipsub's view), and so reached by a publish */
  subscribers: Set<string>
  members: Set<string>
  verified: Set<string>
  /** digests reported by members' heartbeats */
  digests: Array<{ peer: string, digest: string }>
  powerReads: () => number
  /** the event-loop utilization (0..1) the service reads at its next samples; 0 unless a test sets it */
  utilization: number
  /** timers of the service that have fired (its wakeups) */
  wakeups: () => number
  /** listeners the service has on the node and on gossipsub now */
  listeners: () => number
  validatorInstalled: () => boolean
  /**
   * `peer`'s next heartbeat (a fresh seq) arrives, relayed by `from` (default: its sender);
   * returns the validator's verdict
   */
  beat: (peer: TestPeer, options?: { from?: TestPeer, type?: 'beat' | 'left', direct?: string[], digest?: string, seq?: number, addrs?: string[] }) => TopicValidatorResult
  /** delivers raw heartbeat bytes as received from `from` */
  receive: (from: string, data: Uint8Array) => TopicValidatorResult
  /** a gossip message on another topic, handed to us by `from` (gossipsub's `gossipsub:message`) */
  gossip: (from: string) => void
  /** a peer subscribes to the presence topic (gossipsub's `subscription-change`) */
  subscribe: (peer: string) => void
  /** the last connection to `peer` closed */
  disconnect: (peer: string) => void
  /** an open connection to `peer`, opened at `openedAt` (wall-clock ms) */
  connect: (peer: string, openedAt?: number) => FakeConnection
  connections: FakeConnection[]
  /** lets promises and queued microtasks (publishes, probe results) run */
  flush: () => Promise<void>
  /** moves the clock on by `ms` in steps, letting promises settle between the timers */
  run: (ms: number, step?: number) => Promise<void>
  stateOf: (peer: TestPeer) => PeerState | undefined
  /** `peer` beats every `everyMs` on the clock from now on, until the returned stop */
  keepBeating: (peer: TestPeer, everyMs?: number) => () => void
}

export interface HarnessOptions {
  self: TestPeer
  /** the team's other members, verified and subscribed */
  peers: TestPeer[]
  init?: Partial<PresenceInit>
}

export const CAPACITY: Capacity = {
  cores: 4, load1: 0.1, load5: 0.1, load15: 0.1, memTotalMb: 4096, memFreeMb: 1024,
  slots: 2, running: 0, queued: 0, freeSlots: 2, agents: [], labels: {}, power: 'ac', batteryPercent: null
}

export function harness (options: HarnessOptions): Harness {
  const clock = new ManualClock()
  const { self, peers } = options
  const published: Published[] = []
  const transitions: Transition[] = []
  const pings: SentPing[] = []
  const digests: Array<{ peer: string, digest: string }> = []
  const subscribers = new Set(peers.map(p => p.peerId))
  const members = new Set([self.peerId, ...peers.map(p => p.peerId)])
  const verified = new Set(peers.map(p => p.peerId))
  const seqs = new Map<string, number>()
  const connections: FakeConnection[] = []
  let validator: PresenceValidator | undefined
  let powerReads = 0
  let wakeups = 0
  // the service's clock: the manual clock, counting the service's timers that fire
  const serviceClock: Clock = {
    now: clock.now,
    setTimeout: (fn, ms) => clock.setTimeout(() => { wakeups++; fn() }, ms),
    setInterval: (fn, ms) => clock.setInterval(() => { wakeups++; fn() }, ms)
  }
  const nodeListeners = new Map<string, Set<(evt: CustomEvent) => void>>()
  const subListeners = new Set<(evt: SubscriptionChange) => void>()
  const msgListeners = new Set<(evt: GossipMessageEvent) => void>()
  const emit = (type: string, detail: unknown): void => {
    for (const l of [...(nodeListeners.get(type) ?? [])]) l(new CustomEvent(type, { detail }))
  }
  const asConnection = (c: FakeConnection & { openedAt: number }): Connection => ({
    remotePeer: { toString: () => c.peer },
    remoteAddr: { toString: () => `/ip4/127.0.0.1/tcp/4801/p2p/${c.peer}` },
    timeline: { open: c.openedAt },
    abort: (err: Error) => { c.aborted = err }
  }) as unknown as Connection
  const open: Array<FakeConnection & { openedAt: number }> = []

  const pubsub: PresencePubsub = {
    topicValidators: { set: (topic: string, v: PresenceValidator) => { if (topic === TOPIC) validator = v } },
    subscribe: () => {},
    publish: async (topic, data) => {
      if (topic === TOPIC) published.push({ at: clock.now(), hb: JSON.parse(new TextDecoder().decode(data)) })
      return { recipients: [...subscribers].map(p => peerIdFromString(p)) }
    },
    getSubscribers: () => [...subscribers].map(p => peerIdFromString(p)),
    addEventListener: (type: string, l: (evt: never) => void) => {
      if (type === 'gossipsub:message') msgListeners.add(l as (evt: GossipMessageEvent) => void)
      else subListeners.add(l as (evt: SubscriptionChange) => void)
    },
    removeEventListener: (type: string, l: (evt: never) => void) => {
      if (type === 'gossipsub:message') msgListeners.delete(l as (evt: GossipMessageEvent) => void)
      else subListeners.delete(l as (evt: SubscriptionChange) => void)
    }
  }
  const ping: PresencePing = {
    ping: async (peer, { signal }) => await new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) })
      pings.push({
        peer: peer.toString(),
        at: clock.now(),
        signal,
        answer: () => { resolve(1) },
        refuse: reason => { reject(new Error(reason ?? 'connection refused')) }
      })
    })
  }
  // one listener registry for the node's events (peer:disconnect, connection:open)
  const node = {
    getConnections: () => open.filter(c => c.aborted == null).map(asConnection),
    addEventListener: (type: string, l: (evt: CustomEvent) => void) => {
      nodeListeners.set(type, (nodeListeners.get(type) ?? new Set()).add(l))
    },
    removeEventListener: (type: string, l: (evt: CustomEvent) => void) => { nodeListeners.get(type)?.delete(l) },
    services: { pubsub, ping }
  } as unknown as PresenceNode

  const service = new PresenceService({
    node,
    teamId: TEAM_ID,
    signer: self.signer,
    isVerified: peer => verified.has(peer),
    isMember: peer => members.has(peer),
    teamSize: () => members.size,
    work: () => ({ slots: 2, running: 0, queued: 0, agents: [], labels: {} }),
    onTransition: t => { transitions.push(t) },
    digest: () => 'digest-self',
    onDigest: (peer, digest) => { digests.push({ peer, digest }) },
    clock: serviceClock,
    meter: () => result.utilization,
    machine: {
      readPower: async (): Promise<PowerInfo> => { powerReads++; return { power: 'ac', batteryPercent: null } },
      readCapacity: async (o: ReadCapacityOptions): Promise<Capacity> => ({ ...CAPACITY, slots: o.slots, power: o.power?.power ?? 'unknown' })
    },
    ...options.init
  })

  const receive = (from: string, data: Uint8Array): TopicValidatorResult => {
    if (validator == null) throw new Error('no topic validator installed')
    return validator(peerIdFromString(from), { data })
  }
  const beat: Harness['beat'] = (peer, o = {}) => {
    const seq = o.seq ?? (seqs.get(peer.peerId) ?? 0) + 1
    seqs.set(peer.peerId, Math.max(seq, seqs.get(peer.peerId) ?? 0))
    const hb = signHeartbeat({
      v: 1,
      type: o.type ?? 'beat',
      peerId: peer.peerId,
      seq,
      intervalMs: 3000,
      ...(o.digest != null ? { digest: o.digest } : {}),
      ...(o.direct != null ? { direct: o.direct } : {}),
      ...(o.addrs != null ? { addrs: o.addrs } : {})
    }, peer.signer)
    return receive((o.from ?? peer).peerId, new TextEncoder().encode(JSON.stringify(hb)))
  }
  const flush = async (): Promise<void> => { for (let i = 0; i < 50; i++) await Promise.resolve() }

  const result: Harness = {
    utilization: 0,
    service,
    clock,
    self,
    published,
    beats: () => published.filter(p => p.hb.type === 'beat'),
    transitions,
    pings,
    subscribers,
    members,
    verified,
    digests,
    powerReads: () => powerReads,
    wakeups: () => wakeups,
    listeners: () => subListeners.size + msgListeners.size + [...nodeListeners.values()].reduce((n, s) => n + s.size, 0),
    validatorInstalled: () => validator != null,
    beat,
    receive,
    gossip: from => {
      const evt = new CustomEvent('gossipsub:message', { detail: { propagationSource: peerIdFromString(from) } })
      for (const l of [...msgListeners]) l(evt)
    },
    subscribe: peer => {
      subscribers.add(peer)
      const evt = new CustomEvent('subscription-change', { detail: { subscriptions: [{ topic: TOPIC, subscribe: true }] } })
      for (const l of [...subListeners]) l(evt)
    },
    disconnect: peer => { emit('peer:disconnect', peerIdFromString(peer)) },
    connect: (peer, openedAt = Date.now()) => {
      const c = { peer, openedAt }
      open.push(c)
      connections.push(c)
      emit('connection:open', asConnection(c))
      return c
    },
    connections,
    flush,
    run: async (ms, step = 10) => {
      for (let done = 0; done < ms; done += step) {
        clock.advance(Math.min(step, ms - done))
        await flush()
      }
    },
    stateOf: peer => service.state(peer.peerId),
    keepBeating: (peer, everyMs = 3000) => {
      const timer = clock.setInterval(() => { beat(peer) }, everyMs)
      return () => { timer.clear() }
    }
  }
  return result
}

/**
 * What the presence shell ({@link PresenceService}) touches outside itself, as narrow
 * interfaces: the parts of the libp2p node it uses (gossipsub on the presence topic, ping,
 * the disconnect and connection-open events, the open connections), the machine readings
 * that go into its capacity, and its clock. The daemon passes its libp2p node and the
 * defaults; a unit test passes fakes and a manual clock, and runs the state machine
 * without a network or a wall-clock wait.
 */
import type { PeerId } from '@libp2p/interface'
import type { TopicValidatorResult } from '@libp2p/gossipsub'
import { systemClock, type Clock } from '../model/clock.js'
import { readCapacity, readPower, type Capacity, type PowerInfo, type ReadCapacityOptions } from './capacity.js'
import type { StaleConnectionsComponents } from './stale-connections.js'

/** the topic validator presence installs: it sees each heartbeat once, and decides its relay */
export type PresenceValidator = (from: PeerId, msg: { data: Uint8Array }) => TopicValidatorResult

/** a peer's subscriptions changed (gossipsub's `subscription-change`) */
export type SubscriptionChange = CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>

/** gossipsub's `gossipsub:message`: a message on any topic, and the neighbour that handed it to us */
export type GossipMessageEvent = CustomEvent<{ propagationSource: PeerId }>

/** the gossipsub surface presence uses */
export interface PresencePubsub {
  topicValidators: { set: (topic: string, validator: PresenceValidator) => unknown }
  subscribe: (topic: string) => void
  /** resolves with the peers the message was actually handed to */
  publish: (topic: string, data: Uint8Array) => Promise<{ recipients: PeerId[] }>
  getSubscribers: (topic: string) => PeerId[]
  addEventListener: ((type: 'subscription-change', listener: (evt: SubscriptionChange) => void) => void) &
  ((type: 'gossipsub:message', listener: (evt: GossipMessageEvent) => void) => void)
  removeEventListener: ((type: 'subscription-change', listener: (evt: SubscriptionChange) => void) => void) &
  ((type: 'gossipsub:message', listener: (evt: GossipMessageEvent) => void) => void)
}

/** the libp2p ping service: resolves (with the round trip) when `peer` answers */
export interface PresencePing {
  ping: (peer: PeerId, options: { signal: AbortSignal }) => Promise<unknown>
}

/**
 * The libp2p node as presence sees it: a `PairedLibp2p` is one. `connection:open` and
 * `getConnections` are for {@link StaleConnections} (and a new connection is a sign of
 * life); `peer:disconnect` (a member's last connection closed) makes presence probe that
 * member at once.
 */
export type PresenceNode = StaleConnectionsComponents['node'] & {
  addEventListener: (type: 'peer:disconnect', listener: (evt: CustomEvent<PeerId>) => void) => void
  removeEventListener: (type: 'peer:disconnect', listener: (evt: CustomEvent<PeerId>) => void) => void
  services: { pubsub: PresencePubsub, ping: PresencePing }
}

/** the machine readings a heartbeat's capacity is made of */
export interface PresenceMachine {
  readPower: () => Promise<PowerInfo>
  readCapacity: (options: ReadCapacityOptions) => Promise<Capacity>
}

/** this machine's own readings (`/proc`, `/sys`, `pmset`) */
export const hostMachine: PresenceMachine = {
  readPower: async () => readPower(),
  readCapacity
}

/**
 * The presence default clock: Node's timers, and `now()` from `performance.now()`. Presence
 * only compares its times with each other (heartbeat gaps, suspicion timeouts, its own
 * timer lag), so it reads a monotonic clock: a step of the wall clock (NTP) must not look
 * like every member falling silent at once. A test's manual clock serves as well.
 */
export const monotonicClock: Clock = { ...systemClock, now: () => performance.now() }

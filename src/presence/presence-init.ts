/**
 * What a {@link PresenceService} is made with: the node, who counts (verified, members),
 * what goes into this daemon's heartbeats and what to do with what members' beats say.
 */
import type { Signer } from '../team/index.js'
import type { Clock } from '../model/clock.js'
import type { PresenceMachine, PresenceNode } from './edges.js'
import type { ProbeOutcome, Transition } from './failure-detector.js'
import type { UtilizationMeter } from './load-watch.js'

export interface PresenceInit {
  /** the libp2p node (its gossipsub, ping, events and connections), or a test's fake */
  node: PresenceNode
  teamId: string
  signer: Signer
  isVerified: (peer: string) => boolean
  isMember: (peer: string) => boolean
  teamSize: () => number
  /** what goes into this daemon's capacity */
  work: () => { slots: number, running: number, queued: number, agents: string[], labels: Record<string, string> }
  onTransition: (t: Transition) => void
  /** how each probe ended (a refusal is a sighting of a death, told to the team: dead-notice.ts) */
  onProbe?: (peer: string, outcome: ProbeOutcome) => void
  /** this daemon's state digest to put in heartbeats */
  digest?: () => string | undefined
  /** a member's heartbeat carried this digest */
  onDigest?: (peer: string, digest: string) => void
  /** this daemon's own dialable addresses, for its beats (a few) */
  addresses?: () => string[]
  /** a member not connected to this daemon says in its signed beat where it listens (unfiltered) */
  onAddresses?: (peer: string, addrs: string[]) => void
  /**
   * the timers and the time presence runs on; its times are only compared with each
   * other, so `now()` may be monotonic. @default {@link monotonicClock}
   */
  clock?: Clock
  /** where this daemon's capacity is read from. @default {@link hostMachine} */
  machine?: PresenceMachine
  /** this process's event-loop utilization between calls. @default {@link eventLoopMeter} */
  meter?: UtilizationMeter
}

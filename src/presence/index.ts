/**
 * @packageDocumentation
 *
 * Presence: what each daemon tells the team about itself, and what it concludes about
 * the others. The pure cores live here: capacity readers and the work policy, the
 * heartbeat interval by team size, the alive / suspect / dead / left failure detector
 * (phi accrual + Lifeguard-style suspicion) and the relay rule for heartbeats. The network
 * shell publishes heartbeats on the presence topic, sends probes and feeds the detector.
 */
export {
  acceptingWork, readPower, parseLoadavg, parseMeminfo, parsePmset, parsePowerSupply, readCapacity,
  type Capacity, type LoadAverage, type MemoryInfo, type PowerInfo, type PowerSource,
  type PowerSupplyEntry, type ReadCapacityOptions, type WorkPolicy
} from './capacity.js'
export { FailureDetector, type FailureDetectorInit, type PeerState, type Transition } from './failure-detector.js'
export { heartbeatBandwidth, heartbeatInterval, type HeartbeatIntervalOptions } from './interval.js'
export { IntervalWindow, phiOf } from './phi.js'
export { needsRelay, peerTag, PEER_TAG_LENGTH } from './relay.js'
export * from './constants.js'

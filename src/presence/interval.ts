/**
 * Heartbeat period by team size, so heartbeats cost each daemon a bounded bandwidth.
 *
 * Every member publishes one heartbeat per interval `I` on the presence topic. gossipsub
 * forwards each new message to every mesh peer except the one it came from, and does not
 * know which of them already have it, so a daemon with `c = min(n − 1, D)` mesh peers
 * receives up to `c` copies of each heartbeat (one first delivery, the rest duplicates)
 * and sends up to `c` copies of each (its own, and every other it forwards). Control
 * traffic (IHAVE/IWANT gossip) and framing (yamux, noise) add a fraction `o` per copy.
 * Per daemon, inbound + outbound:
 *
 * ```
 * bytes/s = ((n − 1)·c  +  n·c) · B · (1 + o) / (I / 1000)
 *         = (2n − 1) · c · B · (1 + o) · 1000 / I
 * I       = max(baseMs, ceil((2n − 1) · c · B · (1 + o) · 1000 / budget))
 * ```
 *
 * With the defaults (B = 400 bytes, D = 6, o = 0.25, budget 20 kB/s): the 3 s base up to
 * 10 members, ≈ 3.2 s at 11, ≈ 15 s at 50, ≈ 5 min at 1,000. The base is set by CPU, not
 * bandwidth: each heartbeat wakes every receiver, and its sender once per receiver for the
 * yamux window update, and at 1 s that was most of an idle daemon's CPU in a team of five.
 * The model counts gossipsub's relaying; the presence shell skips it when the sender
 * reaches everyone itself, so small teams stay well under budget. The failure detector
 * scales its suspicion timeouts with the observed interval, so large teams detect silent
 * failures more slowly, in proportion (a closed connection is probed at once, at any size).
 */
import { InvalidArgumentError } from '../errors.js'
import {
  DEFAULT_GOSSIP_FANOUT, DEFAULT_GOSSIP_OVERHEAD, DEFAULT_HEARTBEAT_BASE_MS,
  DEFAULT_HEARTBEAT_BYTES, DEFAULT_HEARTBEAT_MAX_BYTES_PER_SEC
} from './constants.js'

export interface HeartbeatIntervalOptions {
  /** Interval for small teams, and the floor. @default 3000 */
  baseMs?: number
  /** Budget per daemon, inbound + outbound. @default 20000 */
  maxBytesPerSec?: number
  /** Size of one heartbeat on the wire. @default 400 */
  heartbeatBytes?: number
  /** gossipsub mesh degree D: copies of each message received and sent per daemon. @default 6 */
  fanout?: number
  /** Control and framing overhead per copy, as a fraction. @default 0.25 */
  overhead?: number
}

function resolve (options: HeartbeatIntervalOptions): Required<HeartbeatIntervalOptions> {
  const o = {
    baseMs: options.baseMs ?? DEFAULT_HEARTBEAT_BASE_MS,
    maxBytesPerSec: options.maxBytesPerSec ?? DEFAULT_HEARTBEAT_MAX_BYTES_PER_SEC,
    heartbeatBytes: options.heartbeatBytes ?? DEFAULT_HEARTBEAT_BYTES,
    fanout: options.fanout ?? DEFAULT_GOSSIP_FANOUT,
    overhead: options.overhead ?? DEFAULT_GOSSIP_OVERHEAD
  }
  if (!(o.baseMs > 0) || !(o.maxBytesPerSec > 0) || !(o.heartbeatBytes > 0) || !(o.fanout >= 1) || !(o.overhead >= 0)) {
    throw new InvalidArgumentError('heartbeat interval: baseMs, maxBytesPerSec and heartbeatBytes must be > 0, fanout ≥ 1, overhead ≥ 0')
  }
  return o
}

function checkTeamSize (teamSize: number): void {
  if (!Number.isInteger(teamSize) || teamSize < 1) {
    throw new InvalidArgumentError(`team size must be a whole number ≥ 1, got ${teamSize}`)
  }
}

/** Heartbeat bytes per interval for one daemon in a team of `teamSize`, inbound + outbound. */
function bytesPerInterval (teamSize: number, o: Required<HeartbeatIntervalOptions>): number {
  const copies = Math.min(teamSize - 1, o.fanout)
  return (2 * teamSize - 1) * copies * o.heartbeatBytes * (1 + o.overhead)
}

/** Modelled heartbeat bandwidth (bytes/s) of one daemon at a given interval. */
export function heartbeatBandwidth (teamSize: number, intervalMs: number, options: HeartbeatIntervalOptions = {}): number {
  checkTeamSize(teamSize)
  return bytesPerInterval(teamSize, resolve(options)) * 1000 / intervalMs
}

/** The heartbeat interval (whole ms) that keeps {@link heartbeatBandwidth} within budget; never below `baseMs`. */
export function heartbeatInterval (teamSize: number, options: HeartbeatIntervalOptions = {}): number {
  checkTeamSize(teamSize)
  const o = resolve(options)
  const needed = Math.ceil(bytesPerInterval(teamSize, o) * 1000 / o.maxBytesPerSec)
  return Math.max(o.baseMs, needed)
}

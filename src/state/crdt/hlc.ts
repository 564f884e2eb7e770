/**
 * Hybrid logical clock (Kulkarni et al., 2014): a timestamp that stays close to physical
 * time, never goes backwards, and is strictly greater than every timestamp its node has
 * issued or received. Time is always passed in, so the clock is pure and testable.
 */
import { ClockSkewError, InvalidHlcError } from './errors.js'

/** One hybrid-logical-clock reading. Totally ordered by `compareHlc`. */
export interface Hlc {
  /** Physical component, ms since the epoch (a non-negative safe integer). */
  readonly wall: number
  /** Counter that orders events sharing a `wall`, `0..MAX_HLC_LOGICAL`. */
  readonly logical: number
  /** The issuing node; printable ASCII without spaces (peer ids are base58). */
  readonly node: string
}

/** Largest `wall`: every safe integer fits the 16-digit encoding. */
export const MAX_HLC_WALL = Number.MAX_SAFE_INTEGER
/** Largest `logical`; past it the clock moves `wall` on by 1 ms instead. */
export const MAX_HLC_LOGICAL = 0xffff_ffff
/** Longest accepted node id. */
export const MAX_HLC_NODE_LENGTH = 256
/** Default for `HlcClockInit.maxSkewMs`: one minute. */
export const DEFAULT_MAX_SKEW_MS = 60_000

const WALL_DIGITS = 16
const LOGICAL_DIGITS = 10
const NODE_PATTERN = /^[\x21-\x7e]+$/
const ENCODED_PATTERN = /^(\d{16})-(\d{10})-([\x21-\x7e]+)$/

/**
 * Total order: `wall`, then `logical`, then `node` (by UTF-16 code unit, which for the
 * printable-ASCII node ids allowed here is also byte order). Returns -1, 0 or 1.
 */
export function compareHlc (a: Hlc, b: Hlc): -1 | 0 | 1 {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1
  if (a.node !== b.node) return a.node < b.node ? -1 : 1
  return 0
}

/**
 * Compares only the time part (`wall`, `logical`), ignoring `node`. Two distinct events
 * whose time parts are equal cannot be causally related: a clock that has seen an event
 * always issues a strictly greater time part.
 */
export function compareHlcTime (a: Hlc, b: Hlc): -1 | 0 | 1 {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1
  return 0
}

/** Throws `InvalidHlcError` unless `hlc` is a well-formed reading. */
export function assertHlc (hlc: Hlc): void {
  if (!Number.isSafeInteger(hlc.wall) || hlc.wall < 0) {
    throw new InvalidHlcError(`hlc wall must be a non-negative safe integer, got ${String(hlc.wall)}`)
  }
  if (!Number.isInteger(hlc.logical) || hlc.logical < 0 || hlc.logical > MAX_HLC_LOGICAL) {
    throw new InvalidHlcError(`hlc logical must be an integer in 0..${MAX_HLC_LOGICAL}, got ${String(hlc.logical)}`)
  }
  assertNode(hlc.node)
}

function assertNode (node: string): void {
  if (typeof node !== 'string' || node.length > MAX_HLC_NODE_LENGTH || !NODE_PATTERN.test(node)) {
    throw new InvalidHlcError(`hlc node must be 1..${MAX_HLC_NODE_LENGTH} printable ASCII characters without spaces`)
  }
}

/**
 * Encodes to `WWWWWWWWWWWWWWWW-LLLLLLLLLL-node`: zero-padded decimal wall (16 digits) and
 * logical (10 digits), then the node id. The numeric fields have a fixed width, so plain
 * string (and UTF-8 byte) order of encodings equals `compareHlc` order — usable as a
 * LevelDB key component.
 */
export function encodeHlc (hlc: Hlc): string {
  assertHlc(hlc)
  return `${String(hlc.wall).padStart(WALL_DIGITS, '0')}-${String(hlc.logical).padStart(LOGICAL_DIGITS, '0')}-${hlc.node}`
}

/** Inverse of `encodeHlc`; throws `InvalidHlcError` on anything it would not produce. */
export function decodeHlc (encoded: string): Hlc {
  const match = ENCODED_PATTERN.exec(encoded)
  if (match === null) throw new InvalidHlcError('not an encoded hlc')
  const hlc: Hlc = { wall: Number(match[1]), logical: Number(match[2]), node: match[3] }
  assertHlc(hlc)
  return hlc
}

/** Options of `HlcClock`. */
export interface HlcClockInit {
  /** This node's id, stamped on every reading it issues. */
  node: string
  /**
   * How far (ms) a remote wall time may run ahead of the local physical clock before
   * `receive` refuses it with `ClockSkewError`.
   *
   * @default 60_000
   */
  maxSkewMs?: number
  /** The last reading issued before a restart, so the clock resumes after it. */
  last?: Hlc
}

/** A node's hybrid logical clock. Holds only the last reading; does no I/O. */
export class HlcClock {
  readonly node: string
  readonly maxSkewMs: number
  private wall: number
  private logical: number

  constructor (init: HlcClockInit) {
    assertNode(init.node)
    const maxSkewMs = init.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
    if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0) {
      throw new InvalidHlcError(`maxSkewMs must be a non-negative number, got ${String(maxSkewMs)}`)
    }
    this.node = init.node
    this.maxSkewMs = maxSkewMs
    this.wall = 0
    this.logical = 0
    if (init.last !== undefined) {
      assertHlc(init.last)
      this.wall = init.last.wall
      this.logical = init.last.logical
    }
  }

  /** The last reading issued (or restored), without ticking. */
  peek (): Hlc {
    return { wall: this.wall, logical: this.logical, node: this.node }
  }

  /** Ticks for a local event (an op this node authors) at physical time `physicalMs`. */
  now (physicalMs: number): Hlc {
    const pt = physical(physicalMs)
    if (pt > this.wall) return this.set(pt, 0)
    return this.set(this.wall, this.logical + 1)
  }

  /**
   * Merges a remote reading received at physical time `physicalMs`; the result is strictly
   * greater than both the remote reading and every reading this clock issued before.
   * Throws `ClockSkewError` (clock unchanged) if `remote.wall > physicalMs + maxSkewMs`.
   */
  receive (remote: Hlc, physicalMs: number): Hlc {
    assertHlc(remote)
    const pt = physical(physicalMs)
    if (remote.wall > pt + this.maxSkewMs) {
      const skewMs = remote.wall - pt
      throw new ClockSkewError(
        `remote clock of ${remote.node} is ${skewMs} ms ahead (limit ${this.maxSkewMs} ms)`, skewMs)
    }
    const wall = Math.max(this.wall, remote.wall, pt)
    if (wall === this.wall && wall === remote.wall) {
      return this.set(wall, Math.max(this.logical, remote.logical) + 1)
    }
    if (wall === this.wall) return this.set(wall, this.logical + 1)
    if (wall === remote.wall) return this.set(wall, remote.logical + 1)
    return this.set(wall, 0)
  }

  private set (wall: number, logical: number): Hlc {
    if (logical > MAX_HLC_LOGICAL) {
      // four billion events in one ms: borrow the next ms rather than overflow the encoding
      wall += 1
      logical = 0
    }
    if (wall > MAX_HLC_WALL) throw new InvalidHlcError('hlc wall overflow')
    this.wall = wall
    this.logical = logical
    return { wall, logical, node: this.node }
  }
}

function physical (physicalMs: number): number {
  if (!Number.isFinite(physicalMs) || physicalMs < 0) {
    throw new InvalidHlcError(`physical time must be a non-negative finite number of ms, got ${String(physicalMs)}`)
  }
  return Math.min(Math.floor(physicalMs), MAX_HLC_WALL)
}

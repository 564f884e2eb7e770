/**
 * Errors of the CRDT core. Callers branch on `.name`, never on the message.
 */

/**
 * A remote hybrid-logical-clock reading is further in the future than the local physical
 * clock allows (`remote.wall > physicalMs + maxSkewMs`). The op carrying it is refused and
 * the local clock is left untouched, so one peer with a broken clock cannot drag every
 * replica's clock forward.
 */
export class ClockSkewError extends Error {
  override name = 'ClockSkewError'
  /** How far ahead of the local physical clock the remote wall time was, in ms. */
  readonly skewMs: number

  constructor (message: string, skewMs: number) {
    super(message)
    this.skewMs = skewMs
  }
}

/** A hybrid-logical-clock value, its encoding or a physical time is malformed. */
export class InvalidHlcError extends Error {
  override name = 'InvalidHlcError'
}

/** Two task records with different `taskId`s were asked to merge. */
export class TaskMismatchError extends Error {
  override name = 'TaskMismatchError'
}

export { CanonicalEncodingError } from '../../model/canonical.js'

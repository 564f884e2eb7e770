/**
 * Errors of ops and op batches. Callers branch on `.name`, never on the message.
 */

/** An op from outside (or built locally) is malformed: the one error `validateOp` throws. */
export class InvalidOpError extends Error {
  override name = 'InvalidOpError'
}

/** A batch is malformed, out of its limits, or its signature does not verify. */
export class InvalidBatchError extends Error {
  override name = 'InvalidBatchError'
}

/** A kv value is larger than `MAX_KV_VALUE_BYTES` (1 MiB) once canonically encoded. */
export class ValueTooLargeError extends Error {
  override name = 'ValueTooLargeError'
  /** the value's encoded size, in bytes */
  readonly bytes: number
  /** the limit it broke, in bytes */
  readonly limit: number

  constructor (message: string, bytes: number, limit: number) {
    super(message)
    this.bytes = bytes
    this.limit = limit
  }
}

/** Ops to sign do not fit one batch (`MAX_OPS_PER_BATCH` ops, `MAX_BATCH_BYTES` bytes). */
export class BatchTooLargeError extends Error {
  override name = 'BatchTooLargeError'
}

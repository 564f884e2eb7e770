/**
 * Errors of the op store. Callers branch on `.name`, never on the message.
 */

/**
 * The disk holding the store is full: the write was refused and nothing of it was
 * acknowledged. Reads keep working; writes succeed again once space returns.
 */
export class StoreFullError extends Error {
  override name = 'StoreFullError'
}

/**
 * LevelDB refused a write for another reason (I/O error, store closed): nothing of it was
 * acknowledged.
 */
export class StoreWriteError extends Error {
  override name = 'StoreWriteError'
}

/** A local batch does not continue its author's log (`fromSeq` is not head + 1). */
export class SeqConflictError extends Error {
  override name = 'SeqConflictError'
}

/**
 * An author signed two different ops for one seq (equivocation): the second batch is
 * refused and the author's log keeps the first.
 */
export class ConflictingOpError extends Error {
  override name = 'ConflictingOpError'
}

/** A snapshot is malformed, its content hash does not match, or a record in it does not verify. */
export class InvalidSnapshotError extends Error {
  override name = 'InvalidSnapshotError'
}

/** The store has no signer, so it cannot author ops. */
export class NoSignerError extends Error {
  override name = 'NoSignerError'
}

/**
 * The puller's side of a sync stream, over any channel: it reads `batch` frames and hands
 * each to the store without waiting for the one before to be applied, so the next frame
 * is read, decoded and verified while the previous batch's LevelDB write runs (on the
 * thread pool). At most `depth` ingests are in flight; credit (`more`) is granted as they
 * finish, so what waits in memory stays bounded by the window however long the catch-up.
 *
 * Order is kept: the store serialises its writes in call order, and a batch that still
 * arrives ahead of its predecessor waits in the store's gap buffer.
 */
import type { PulledFrame } from './channel.js'

/** ingests in flight at once on one pull: enough to overlap decoding with the write */
export const SYNC_PIPELINE_DEPTH = 4

export interface PullChannel {
  /** the next frame, checked by its schema (a `ProtocolError` if it is not one) */
  readPulled(): Promise<PulledFrame>
  write(value: unknown): Promise<void>
}

export interface PullTarget {
  /** `raw`: the JSON the batch was parsed from, on its own, for the store to keep as is */
  ingest(batch: unknown, raw?: Uint8Array): Promise<{ applied: number }>
  /** a server cannot slip in ops of someone who was never a member */
  isKnownAuthor(author: string): boolean
}

export interface PullOptions {
  /** the frames granted up front (sent in the `pull`) */
  window: number
  /** ingests in flight at most; @default SYNC_PIPELINE_DEPTH */
  depth?: number
  /** told the ops each batch applied, as it is applied */
  onApplied?: (applied: number) => void
}

/**
 * Reads frames until `done`; resolves with the ops applied. A bad frame (a
 * `ProtocolError` from `read`), an `error` frame or a refused batch rejects, but only
 * once every ingest already started has settled: what they applied is counted.
 */
export async function pullFrames (ch: PullChannel, target: PullTarget, options: PullOptions): Promise<number> {
  const depth = Math.max(1, Math.min(options.depth ?? SYNC_PIPELINE_DEPTH, options.window))
  const refill = Math.max(1, Math.floor(options.window / 2))
  const inFlight: Array<Promise<number>> = []
  let applied = 0
  let consumed = 0

  const settleOldest = async (): Promise<void> => {
    const n = await (inFlight.shift() as Promise<number>)
    applied += n
    if (++consumed % refill === 0) await ch.write({ type: 'more', frames: refill })
  }

  try {
    for (;;) {
      const { msg, raw } = await ch.readPulled()
      if (msg.type === 'done') break
      if (msg.type === 'error') throw new Error(`the peer refused the pull: ${msg.error?.message ?? 'no reason given'}`)
      const author = msg.batch.author
      const known = typeof author === 'string' && target.isKnownAuthor(author)
      const run = known
        ? target.ingest(msg.batch, raw).then(r => { if (r.applied > 0) options.onApplied?.(r.applied); return r.applied })
        : Promise.resolve(0)
      // awaited in order below; until then a rejection is not "unhandled"
      run.catch(() => {})
      inFlight.push(run)
      if (inFlight.length >= depth) await settleOldest()
    }
    while (inFlight.length > 0) await settleOldest()
    return applied
  } finally {
    // on failure: the ingests already started still finish (they hold verified data)
    await Promise.allSettled(inFlight)
  }
}

/**
 * When to compact the op log: after `COMPACT_EVERY_OPS` new ops, once the state has been
 * quiet for `COMPACT_WHEN_QUIET_MS` (never in the middle of a burst or a catch-up), so
 * that a member catching up fetches what is live, not the whole history. One compaction
 * at a time; a failure is logged, and the next burst tries again.
 */
import { logger } from '@libp2p/logger'
import type { OpStore } from './store/index.js'

const log = logger('paired:state')

/** fold superseded ops away after this many new ones */
export const COMPACT_EVERY_OPS = 10_000
/** ...once the state has been quiet this long */
export const COMPACT_WHEN_QUIET_MS = 5_000

export class CompactionSchedule {
  private sinceCompaction = 0
  private compacting?: Promise<void>
  private timer?: ReturnType<typeof setTimeout>

  constructor (private readonly store: Pick<OpStore, 'compact'>) {}

  /** `ops` new ops were applied: (re)arm the quiet timer once enough have gathered */
  counted (ops: number): void {
    this.sinceCompaction += ops
    if (this.sinceCompaction < COMPACT_EVERY_OPS) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.compact() }, COMPACT_WHEN_QUIET_MS)
    this.timer.unref?.()
  }

  /** cancels a compaction not yet started; waits for one under way */
  async stop (): Promise<void> {
    clearTimeout(this.timer)
    await this.compacting
  }

  private compact (): void {
    if (this.compacting != null) return
    this.sinceCompaction = 0
    this.compacting = this.store.compact().then(r => {
      log('compacted: %d superseded ops dropped, %d → %d records', r.droppedOps, r.recordsBefore, r.recordsAfter)
    }, err => {
      log('compaction failed: %s', (err as Error).message)
    }).finally(() => { this.compacting = undefined })
  }
}

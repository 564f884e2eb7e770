/**
 * Group commit of this daemon's own writes: concurrent callers share one LevelDB write and
 * one fsync, each caller's ops staying together in that atomic write, and each gets back
 * the ops that were its own. The records are appended under the store's lock and made
 * durable outside it, so ingests go on during the fsync. A group that fails is retried
 * one caller at a time: one bad write does not sink the others.
 */
import type { OpBatch, OpDraft } from './ops/index.js'
import type { OpStore } from './store/index.js'

/** most ops one group commit takes; the store splits them into signed batches of ≤ 1000 */
export const MAX_GROUP_OPS = 5_000

interface Pending {
  drafts: OpDraft[]
  resolve: (batches: OpBatch[]) => void
  reject: (err: unknown) => void
}

export interface GroupCommitInit {
  store: Pick<OpStore, 'write' | 'durable'>
  /** every durable write's batches, before its callers hear of it */
  committed: (batches: OpBatch[]) => void
}

export class GroupCommit {
  private queue: Pending[] = []
  private flushing = false

  constructor (private readonly init: GroupCommitInit) {}

  /** Resolves once `drafts` are durable, with the batch holding them. */
  async write (drafts: OpDraft[]): Promise<OpBatch[]> {
    return await new Promise((resolve, reject) => {
      this.queue.push({ drafts, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  /** Waits until every write queued has its answer. */
  async drained (): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise(resolve => setTimeout(resolve, 5))
  }

  private async flush (): Promise<void> {
    const { store } = this.init
    this.flushing = true
    try {
      while (this.queue.length > 0) {
        const group: Pending[] = []
        let ops = 0
        while (this.queue.length > 0 && (group.length === 0 || ops + this.queue[0].drafts.length <= MAX_GROUP_OPS)) {
          const p = this.queue.shift() as Pending
          group.push(p)
          ops += p.drafts.length
        }
        let batches: OpBatch[]
        try {
          batches = await store.write(group.flatMap(p => p.drafts), { sync: false })
          await store.durable()
        } catch (err) {
          if (group.length > 1) {
            for (const p of group) {
              try {
                const own = await store.write(p.drafts)
                this.init.committed(own)
                p.resolve(own)
              } catch (e) { p.reject(e) }
            }
          } else {
            group[0].reject(err)
          }
          continue
        }
        this.init.committed(batches)
        // hand each caller the ops that were its own, in order
        const all = batches.flatMap(b => b.ops)
        let at = 0
        for (const p of group) {
          const mine = all.slice(at, at + p.drafts.length)
          at += p.drafts.length
          p.resolve([{ ...batches[0], ops: mine }])
        }
      }
    } finally {
      this.flushing = false
    }
  }
}

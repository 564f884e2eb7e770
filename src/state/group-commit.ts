/**
 * Group commit of this daemon's own writes: concurrent callers share one LevelDB write and
 * one fsync, each caller's ops staying together in that atomic write, and each gets back
 * the ops that were its own. The records are appended under the store's lock and made
 * durable outside it, so ingests go on during the fsync, and so does the append of the
 * next group (pipelined: one group fsyncing, the next appending). A caller hears back only
 * once its records are durable, and groups are answered in the order they were written.
 * A group whose append fails is retried one caller at a time: one bad write does not
 * sink the others; a group whose fsync fails fails its own callers only.
 */
import type { OpBatch, OpDraft } from './ops/index.js'
import { opHash } from './ops/encode.js'
import { toBase64url } from '../team/canonical.js'
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
  /** wakes the flush loop waiting on an fsync: a write arrived, to append meanwhile */
  private wake?: () => void

  constructor (private readonly init: GroupCommitInit) {}

  /** Resolves once `drafts` are durable, with the batch holding them. */
  async write (drafts: OpDraft[]): Promise<OpBatch[]> {
    return await new Promise((resolve, reject) => {
      this.queue.push({ drafts, resolve, reject })
      if (!this.flushing) void this.flush()
      else this.wake?.()
    })
  }

  /** Waits until every write queued has its answer. */
  async drained (): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise(resolve => setTimeout(resolve, 5))
  }

  private async flush (): Promise<void> {
    const { store } = this.init
    this.flushing = true
    // the answer of the group whose fsync is under way: the next group is appended
    // meanwhile, and its callers are answered only after this one's
    let previous: Promise<void> = Promise.resolve()
    let unanswered = false
    try {
      for (;;) {
        if (this.queue.length === 0) {
          if (!unanswered) break
          // an fsync is under way: wait for it, or for a write to append meanwhile
          const last = previous
          await new Promise<void>(resolve => { this.wake = resolve; last.then(resolve, resolve) })
          this.wake = undefined
          if (this.queue.length === 0) unanswered = false
          continue
        }
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
        } catch (err) {
          // nothing of this group was written: retried one caller at a time, so one bad
          // write does not sink the others (each a durable write of its own)
          await previous
          unanswered = false
          await this.oneByOne(group, err)
          continue
        }
        const answered = this.answer(previous, store.durable(), group, batches)
        // at most one group waits for its fsync while the next one is appended
        await previous
        previous = answered
        unanswered = true
      }
    } finally {
      this.flushing = false
    }
  }

  /** answers `group` once its records are durable and the group before it is answered */
  private async answer (previous: Promise<void>, durable: Promise<void>, group: Pending[], batches: OpBatch[]): Promise<void> {
    let failed: { err: unknown } | undefined
    try { await durable } catch (err) { failed = { err } }
    await previous
    // the fsync failed: these callers hear so (their records may or may not have reached
    // the disk, but none was acknowledged); the other groups' callers are not touched
    if (failed !== undefined) {
      for (const p of group) p.reject(failed.err)
      return
    }
    this.init.committed(batches)
    if (group.length === 1) {
      group[0].resolve(batches)
      return
    }
    // hand each caller the batches holding its own ops, pruned to them: a pruned batch keeps
    // the signed hash list, so the caller can pass it on (a `done`) and it still verifies
    const all = batches.flatMap(b => b.ops)
    const hashes = new Map<OpBatch, string[]>()
    let at = 0
    for (const p of group) {
      const mine = all.slice(at, at + p.drafts.length)
      at += p.drafts.length
      if (mine.length === 0) { p.resolve([]); continue }
      const lo = mine[0].seq
      const hi = mine[mine.length - 1].seq
      p.resolve(batches.filter(b => b.toSeq >= lo && b.fromSeq <= hi).map(b => {
        if (b.fromSeq >= lo && b.toSeq <= hi) return b
        let list = hashes.get(b)
        if (list === undefined) {
          list = b.hashes ?? b.ops.map(op => toBase64url(opHash(op)))
          hashes.set(b, list)
        }
        return { ...b, ops: b.ops.filter(op => op.seq >= lo && op.seq <= hi), hashes: list }
      }))
    }
  }

  private async oneByOne (group: Pending[], err: unknown): Promise<void> {
    if (group.length === 1) {
      group[0].reject(err)
      return
    }
    for (const p of group) {
      try {
        const own = await this.init.store.write(p.drafts)
        this.init.committed(own)
        p.resolve(own)
      } catch (e) { p.reject(e) }
    }
  }
}

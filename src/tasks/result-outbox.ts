/**
 * The executor's outbox: every lease and result it records goes through here. What arrives
 * in one turn of the event loop is written at its end in one durable write, so the attempts
 * that finish close together share one receipt-signing call, one write and one `done`
 * message per coordinator, and a noop task's lease and result land in the same atomic write
 * instead of two group commits. One write is under way at a time; what arrives meanwhile
 * goes in the next. That keeps this executor's writes out of each other's group commits:
 * a write that shares one comes back as part of a batch no coordinator can verify, and its
 * `done` is lost (measured: the 8-slot task bench at half the rate). A lease waits at most
 * one write, so a long task's lease replicates promptly. Until its result is durable, an
 * attempt counts as held (`pending`): the executor keeps renewing it, so a slow disk (a
 * write can take seconds on an overloaded machine) does not make its coordinator run it again.
 *
 * A write carries at most `MAX_RESULTS_PER_WRITE` results and about `MAX_WRITE_BYTES` of
 * output, so the store signs it as one batch: `done` carries that batch, which a coordinator
 * can only check whole.
 */
import { logger } from '@libp2p/logger'
import type { OpBatch, OpDraft, TaskResultBody } from '../state/ops/index.js'
import { taskDrafts } from '../state/ops/index.js'
import type { Signer } from '../team/index.js'
import type { TaskMessage } from './messages.js'
import { signReceipts, type Receipt, type ReceiptBody } from './receipt.js'

const log = logger('paired:tasks:executor')

/** results in one write: with their leases, within the store's 1,000 ops of one signed batch */
export const MAX_RESULTS_PER_WRITE = 400
/** output bytes in one write, well under the 4 MiB of a batch and of a `done` message */
export const MAX_WRITE_BYTES = 2 * 1024 * 1024
/** what an op costs beyond its output, for the byte budget */
const OP_OVERHEAD_BYTES = 2_048

/** a finished attempt: its result op without the receipt, which is signed with the others of its write */
export interface FinishedAttempt {
  /** `${taskId}#${attempt}`: the key its lease is queued under */
  key: string
  coordinator: string
  receipt: ReceiptBody
  result: Omit<TaskResultBody, 'receipt'>
  /** bytes of its replicated output */
  bytes: number
  /** its lease, for renewals until the result is durable */
  leaseMs: number
}

export interface OutboxInit {
  selfId: string
  signer: Signer
  /** durable, signed, replicated */
  write: (drafts: OpDraft[]) => Promise<OpBatch[]>
  report: (coordinator: string, msg: TaskMessage) => void
  /** before each write: the executor sends its `finished` news first, so a slot frees before its result lands */
  beforeWrite?: () => void
  /** runs `fn` once the current turn of the event loop is done (`setImmediate`) */
  defer?: (fn: () => void) => void
}

export class ResultOutbox {
  /** leases not written yet, by attempt key (a renewal replaces the queued one) */
  private readonly leases = new Map<string, OpDraft>()
  private results: FinishedAttempt[] = []
  /** finished attempts whose results are not durable yet, by key */
  private readonly unwritten = new Map<string, FinishedAttempt>()
  private armed = false
  private writing = false
  private readonly defer: (fn: () => void) => void

  constructor (private readonly init: OutboxInit) {
    this.defer = init.defer ?? (fn => { setImmediate(fn) })
  }

  /** finished attempts whose results are queued or being written */
  pending (): Iterable<FinishedAttempt> { return this.unwritten.values() }

  /** records a lease (or its renewal) in the next write */
  lease (key: string, draft: OpDraft): void {
    this.leases.set(key, draft)
    this.arm()
  }

  /** records a finished attempt's result (with its lease, if that is not written yet) in the next write */
  result (attempt: FinishedAttempt): void {
    this.results.push(attempt)
    this.unwritten.set(attempt.key, attempt)
    this.arm()
  }

  private arm (): void {
    if (this.armed || this.writing) return
    this.armed = true
    this.defer(() => {
      this.armed = false
      void this.flush()
    })
  }

  private async flush (): Promise<void> {
    if (this.writing) return
    this.writing = true
    try {
      while (this.leases.size > 0 || this.results.length > 0) {
        await this.writeSome().catch((err: Error) => { log('a write of results failed: %s', err.message) })
      }
    } finally {
      this.writing = false
    }
  }

  /**
   * the receipts of `finished`, in one signing call; if one body cannot be signed (a bug),
   * the others are signed alone and only that attempt goes without a result (its lease lapses)
   */
  private sign (finished: FinishedAttempt[]): Array<Receipt | undefined> {
    try {
      return signReceipts(finished.map(f => f.receipt), this.init.signer)
    } catch {
      return finished.map(f => {
        try {
          return signReceipts([f.receipt], this.init.signer)[0]
        } catch (err) {
          log('receipt of %s not signed: %s', f.key, (err as Error).message)
          return undefined
        }
      })
    }
  }

  /** one durable write: the results that fit, their leases, and the other queued leases */
  private async writeSome (): Promise<void> {
    let bytes = 0
    let n = 0
    while (n < this.results.length && n < MAX_RESULTS_PER_WRITE) {
      const more = this.results[n].bytes + OP_OVERHEAD_BYTES
      if (n > 0 && bytes + more > MAX_WRITE_BYTES) break
      bytes += more
      n++
    }
    const finished = this.results.slice(0, n)
    this.results = this.results.slice(n)
    try {
      await this.writeFinished(finished, n, bytes)
    } finally {
      // durable, or lost: either way no longer renewed (a lost one lapses and runs again)
      for (const f of finished) this.unwritten.delete(f.key)
    }
  }

  private async writeFinished (finished: FinishedAttempt[], n: number, bytes: number): Promise<void> {
    const drafts: OpDraft[] = []
    for (const f of finished) {
      const lease = this.leases.get(f.key)
      if (lease !== undefined) {
        this.leases.delete(f.key)
        drafts.push(lease)
      }
    }
    // leases of attempts still running, unless the results already fill the write
    if (n < MAX_RESULTS_PER_WRITE && bytes < MAX_WRITE_BYTES) {
      for (const [key, lease] of this.leases) {
        if (drafts.length + n >= 2 * MAX_RESULTS_PER_WRITE) break
        this.leases.delete(key)
        drafts.push(lease)
      }
    }
    const receipts = this.sign(finished)
    finished.forEach((f, i) => {
      const receipt = receipts[i]
      if (receipt !== undefined) drafts.push(taskDrafts.result({ ...f.result, receipt }))
    })
    if (drafts.length === 0) return
    this.init.beforeWrite?.()
    let batches: OpBatch[]
    try {
      batches = await this.init.write(drafts)
    } catch (err) {
      // not durable: say nothing; the leases lapse and the coordinators run the attempts again
      log('%d results and %d leases not recorded: %s', n, drafts.length - n, (err as Error).message)
      return
    }
    // a write that shared its group commit with another caller's comes back pruned to its
    // own ops: a coordinator could only hold those until the rest of the batch arrives by
    // gossip, so only whole batches go out as `done`
    if (finished.length === 0) return
    const to = new Set<string>()
    for (const f of finished) if (f.coordinator !== this.init.selfId) to.add(f.coordinator)
    for (const batch of batches) {
      if (batch.hashes !== undefined || batch.ops.length !== batch.toSeq - batch.fromSeq + 1) continue
      for (const coordinator of to) this.init.report(coordinator, { t: 'done', batch })
    }
  }
}

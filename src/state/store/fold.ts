/**
 * Compaction of one author's log, pure: given which ops are still live in the views,
 * each stored record is kept, pruned to its live ops (keeping the signed hash list, so
 * every kept op still verifies), or, when none of its ops is live, merged with its dead
 * neighbours into one unsigned `FoldRecord`.
 *
 * A log never ends in a fold: its last record stays a signed batch (pruned, perhaps to no
 * ops at all), and a replica applies a fold only together with the signed record after
 * it. So a fold can claim ops superseded, but never move an author's head past a seq the
 * author signed.
 */
import { isFoldRecord, pruneBatch } from '../ops/index.js'
import type { FoldRecord, LogRecord, Op } from '../ops/index.js'

/** Most stored records one fold record replaces in one step (one atomic write). */
export const MAX_FOLD_RUN = 4096

/** What to do with the stored records, in order. */
export type FoldStep =
  | { type: 'keep', key: string, record: LogRecord }
  /** delete the keys in `removes`, then store `record` (keyed by its `toSeq`) */
  | { type: 'replace', record: LogRecord, removes: string[] }

interface Run {
  fromSeq: number
  toSeq: number
  keys: string[]
  /** the run is one record that already is a fold: nothing to rewrite */
  only?: FoldRecord
}

/** Feed one author's stored records in key (seq) order with `push`, then call `end`. */
export class AuthorFolder {
  /** ops dropped so far (superseded ops of dead or pruned records) */
  droppedOps = 0
  /** dead records to fold */
  private run?: Run
  /** the latest dead record, held back: if it turns out to be the log's last, it stays signed */
  private last?: { key: string, record: LogRecord }

  constructor (
    private readonly author: string,
    private readonly isLive: (op: Op) => boolean,
    private readonly maxRun = MAX_FOLD_RUN
  ) {}

  push (key: string, record: LogRecord): FoldStep[] {
    const steps: FoldStep[] = []
    const fold = isFoldRecord(record)
    const dead = fold || !record.ops.some(op => this.isLive(op))
    if (!dead) {
      steps.push(...this.closeRun(true))
      const pruned = pruneBatch(record, this.isLive)
      if (pruned === record) {
        steps.push({ type: 'keep', key, record })
      } else {
        this.droppedOps += record.ops.length - pruned.ops.length
        steps.push({ type: 'replace', record: pruned, removes: [key] })
      }
      return steps
    }
    if (this.last !== undefined) steps.push(...this.extendRun(this.last.key, this.last.record))
    this.last = { key, record }
    return steps
  }

  /** After the last record: folds the dead run, but keeps the log's last record signed. */
  end (): FoldStep[] {
    const last = this.last
    this.last = undefined
    if (last === undefined || isFoldRecord(last.record)) {
      const steps = last !== undefined ? this.extendRun(last.key, last.record) : []
      return [...steps, ...this.closeRun(false)]
    }
    const steps = this.closeRun(false)
    const emptied = pruneBatch(last.record, () => false)
    this.droppedOps += last.record.ops.length
    steps.push(emptied === last.record
      ? { type: 'keep', key: last.key, record: last.record }
      : { type: 'replace', record: emptied, removes: [last.key] })
    return steps
  }

  private extendRun (key: string, record: LogRecord): FoldStep[] {
    const steps: FoldStep[] = []
    const run = this.run
    if (run !== undefined && (record.fromSeq > run.toSeq + 1 || run.keys.length >= this.maxRun)) {
      steps.push(...this.closeRun(false))
    }
    if (!isFoldRecord(record)) this.droppedOps += record.ops.length
    if (this.run === undefined) {
      this.run = { fromSeq: record.fromSeq, toSeq: record.toSeq, keys: [key], only: isFoldRecord(record) ? record : undefined }
    } else {
      this.run.fromSeq = Math.min(this.run.fromSeq, record.fromSeq)
      this.run.toSeq = Math.max(this.run.toSeq, record.toSeq)
      this.run.keys.push(key)
      this.run.only = undefined
    }
    return steps
  }

  /** Emits the run as one fold record; with `withLast`, the held-back record joins it first. */
  private closeRun (withLast: boolean): FoldStep[] {
    const steps: FoldStep[] = []
    if (withLast && this.last !== undefined) {
      steps.push(...this.extendRun(this.last.key, this.last.record))
      this.last = undefined
    }
    const run = this.run
    this.run = undefined
    if (run === undefined) return steps
    if (run.only !== undefined) {
      steps.push({ type: 'keep', key: run.keys[0], record: run.only })
    } else {
      const record: FoldRecord = { author: this.author, fromSeq: run.fromSeq, toSeq: run.toSeq, folded: true }
      steps.push({ type: 'replace', record, removes: run.keys })
    }
    return steps
  }
}

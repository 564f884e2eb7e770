/**
 * Verified remote records that cannot be applied yet, held in memory: records past their
 * author's head (a gap), and fold records, which wait for the signed record that follows
 * them (so a fold never moves a head past a seq its author signed). Bounded in count and
 * bytes; what does not fit is dropped, and anti-entropy fetches it again. Not durable:
 * holding a record acknowledges nothing.
 */
import { isFoldRecord, type LogRecord, type Op } from '../ops/index.js'

/** A record that passed its checks, ready to apply. */
export interface Prepared {
  record: LogRecord
  /** the ops the record carries (none for a fold) */
  ops: Op[]
  /** every op hash of the range, for a batch */
  hashes?: Uint8Array[]
  /** bytes of the ops' canonical encodings */
  bytes: number
  /** the JSON the record was parsed from, when it is to be stored as is */
  raw?: Uint8Array
}

/** @default 256 */
export const DEFAULT_MAX_PENDING_BATCHES = 256
/** @default 64 MiB */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024

/** one held record per range and kind */
function slot (p: Prepared): string {
  return `${p.record.fromSeq}-${p.record.toSeq}${isFoldRecord(p.record) ? 'f' : ''}`
}

export class GapBuffer {
  private readonly byAuthor = new Map<string, Map<string, Prepared>>()
  private count = 0
  private bytes = 0

  constructor (
    private readonly maxBatches = DEFAULT_MAX_PENDING_BATCHES,
    private readonly maxBytes = DEFAULT_MAX_PENDING_BYTES
  ) {}

  /** Holds `p` unless the buffer is full; true when held (or already held). */
  add (p: Prepared): boolean {
    const author = p.record.author
    let mine = this.byAuthor.get(author)
    if (mine?.has(slot(p)) === true) return true
    if (this.count + 1 > this.maxBatches || this.bytes + p.bytes > this.maxBytes) return false
    if (mine === undefined) {
      mine = new Map()
      this.byAuthor.set(author, mine)
    }
    mine.set(slot(p), p)
    this.count++
    this.bytes += p.bytes
    return true
  }

  /**
   * The held records of `author` that together continue `head` up to a signed record:
   * zero or more fold records, then a batch. `undefined` while no such chain is complete.
   * Records `head` already covers are dropped first. The chain stays held until `remove`.
   */
  chain (author: string, head: number): Prepared[] | undefined {
    const mine = this.byAuthor.get(author)
    if (mine === undefined) return undefined
    for (const p of [...mine.values()]) if (p.record.toSeq <= head) this.remove(p)
    // depth-first over the held folds (few: the buffer is bounded), signed records first
    const tried = new Set<number>()
    const search = (at: number): Prepared[] | undefined => {
      if (tried.has(at)) return undefined
      tried.add(at)
      const next = [...mine.values()].filter(p => p.record.fromSeq <= at + 1 && p.record.toSeq > at)
      const batches = next.filter(p => !isFoldRecord(p.record)).sort((a, b) => b.record.toSeq - a.record.toSeq)
      if (batches.length > 0) return [batches[0]]
      for (const fold of next.sort((a, b) => b.record.toSeq - a.record.toSeq)) {
        const rest = search(fold.record.toSeq)
        if (rest !== undefined) return [fold, ...rest]
      }
      return undefined
    }
    return search(head)
  }

  remove (p: Prepared): void {
    const mine = this.byAuthor.get(p.record.author)
    if (mine?.get(slot(p)) !== p) return
    mine.delete(slot(p))
    if (mine.size === 0) this.byAuthor.delete(p.record.author)
    this.count--
    this.bytes -= p.bytes
  }

  /** records held */
  get size (): number {
    return this.count
  }
}

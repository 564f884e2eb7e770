/**
 * Version vectors over per-author op logs: author → highest contiguous seq applied
 * (seqs start at 1; a missing author means 0). Anti-entropy exchanges them to find what
 * the other side lacks.
 */

/** author → highest contiguous seq. Treat as immutable; every function returns a new one. */
export type VersionVector = Readonly<Record<string, number>>

/** How two version vectors relate. */
export type VvOrder = 'equal' | 'before' | 'after' | 'concurrent'

/** A contiguous run of one author's seqs, both ends inclusive. */
export interface SeqRange {
  author: string
  fromSeq: number
  toSeq: number
}

/** The seq recorded for `author` (0 if absent). Safe for any author string. */
export function vvGet (vv: VersionVector, author: string): number {
  return Object.hasOwn(vv, author) ? vv[author] : 0
}

/** Pointwise maximum: the join. Keys are emitted sorted, so equal inputs give equal outputs. */
export function vvMerge (a: VersionVector, b: VersionVector): VersionVector {
  const authors = new Set([...Object.keys(a), ...Object.keys(b)])
  return Object.fromEntries([...authors].sort().map(author => [author, Math.max(vvGet(a, author), vvGet(b, author))]))
}

/**
 * `'before'` if `a` has seen strictly less than `b` (a ≤ b pointwise, not equal), `'after'`
 * for the converse, `'equal'`, or `'concurrent'` when each has seen something the other
 * has not. Missing authors count as 0, so `{x: 0}` equals `{}`.
 */
export function vvCompare (a: VersionVector, b: VersionVector): VvOrder {
  let aAhead = false
  let bAhead = false
  for (const author of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = vvGet(a, author)
    const y = vvGet(b, author)
    if (x > y) aAhead = true
    else if (y > x) bAhead = true
  }
  if (aAhead && bAhead) return 'concurrent'
  if (aAhead) return 'after'
  if (bAhead) return 'before'
  return 'equal'
}

/** The seq ranges `theirs` has applied and `mine` lacks, sorted by author. */
export function vvMissing (mine: VersionVector, theirs: VersionVector): SeqRange[] {
  const ranges: SeqRange[] = []
  for (const author of Object.keys(theirs).sort()) {
    const have = vvGet(mine, author)
    const toSeq = vvGet(theirs, author)
    if (toSeq > have) ranges.push({ author, fromSeq: have + 1, toSeq })
  }
  return ranges
}

/** Whether `vv` has applied op `seq` of `author`. */
export function vvIncludes (vv: VersionVector, author: string, seq: number): boolean {
  return seq <= vvGet(vv, author)
}

/**
 * Records op `seq` of `author` if it extends the contiguous prefix (`seq` is the next one);
 * otherwise returns `vv` unchanged — a gap must be filled first.
 */
export function vvAdvance (vv: VersionVector, author: string, seq: number): VersionVector {
  if (seq !== vvGet(vv, author) + 1) return vv
  return vvMerge(vv, { [author]: seq })
}

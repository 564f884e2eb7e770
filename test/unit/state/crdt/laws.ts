import fc from 'fast-check'
import { expect } from 'vitest'

/** Runs per law: every merge is checked on this many generated cases. */
export const LAW_RUNS = 1000

export interface LawOptions<T> {
  numRuns?: number
  /** Throws when `x` and `y` differ; deep strict equality by default. */
  assertEqual?: (x: T, y: T) => void
}

type Merge<T> = (a: T, b: T) => T

const strictEqual = <T>(x: T, y: T): void => { expect(x).toStrictEqual(y) }

/** merge(a, b) = merge(b, a). Throws (fast-check report) on a counterexample. */
export function assertCommutative<T> (arb: fc.Arbitrary<T>, merge: Merge<T>, opts: LawOptions<T> = {}): void {
  const eq = opts.assertEqual ?? strictEqual
  fc.assert(fc.property(arb, arb, (a, b) => { eq(merge(a, b), merge(b, a)) }), { numRuns: opts.numRuns ?? LAW_RUNS })
}

/** merge(merge(a, b), c) = merge(a, merge(b, c)). */
export function assertAssociative<T> (arb: fc.Arbitrary<T>, merge: Merge<T>, opts: LawOptions<T> = {}): void {
  const eq = opts.assertEqual ?? strictEqual
  fc.assert(fc.property(arb, arb, arb, (a, b, c) => {
    eq(merge(merge(a, b), c), merge(a, merge(b, c)))
  }), { numRuns: opts.numRuns ?? LAW_RUNS })
}

/** merge(a, a) = a, and merging again changes nothing: merge(merge(a, b), b) = merge(a, b). */
export function assertIdempotent<T> (arb: fc.Arbitrary<T>, merge: Merge<T>, opts: LawOptions<T> = {}): void {
  const eq = opts.assertEqual ?? strictEqual
  fc.assert(fc.property(arb, arb, (a, b) => {
    eq(merge(a, a), a)
    const ab = merge(a, b)
    eq(merge(ab, b), ab)
  }), { numRuns: opts.numRuns ?? LAW_RUNS })
}

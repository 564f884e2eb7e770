/**
 * A small seeded pseudo-random generator (a 32-bit xorshift-multiply mix): the same seed
 * gives the same sequence on every machine, so a schedule replays from its seed alone.
 */
export class Rng {
  private state: number

  constructor (readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`a seed is a whole number >= 0, got ${seed}`)
    this.state = (seed % 0x1_0000_0000) ^ 0x9e37_79b9
    if (this.state === 0) this.state = 0x6d2b_79f5
  }

  /** a float in [0, 1) */
  next (): number {
    this.state = (this.state + 0x6d2b_79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }

  /** a whole number in [min, max] */
  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** one item of a non-empty list */
  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[Math.floor(this.next() * items.length)]
  }

  /** true with probability `p` */
  chance (p: number): boolean {
    return this.next() < p
  }
}

/** a fresh seed for a run that was given none */
export function randomSeed (): number {
  return Math.floor(Math.random() * 0x7fff_ffff)
}

/**
 * A seeded PRNG for the simulator: xoshiro128** seeded through splitmix32, so a run is a
 * pure function of its seed. 32-bit integer math only (Math.imul), which V8 keeps exact
 * and fast; `Math.random` is never used anywhere under src/sim.
 */

/** splitmix32: spreads a small seed over the whole state, so seeds 1 and 2 do not start alike */
function splitmix32 (state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number) {
    const st = { s: seed | 0 }
    this.a = splitmix32(st)
    this.b = splitmix32(st)
    this.c = splitmix32(st)
    this.d = splitmix32(st)
    // xoshiro's all-zero state is a fixed point
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1
  }

  /** a 32-bit unsigned integer */
  nextU32 (): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9)
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return r >>> 0
  }

  /** uniform in [0, 1) */
  next (): number {
    return this.nextU32() / 4294967296
  }

  /** an integer in [0, n) */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  chance (p: number): boolean {
    return p > 0 && this.next() < p
  }

  /** exponential with the given mean */
  exp (mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  /** standard normal (Box–Muller; one of the pair is dropped, to keep the state simple) */
  normal (): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** a new generator drawn from this one, so a sub-model's draws do not shift the others' */
  fork (): Rng {
    return new Rng(this.nextU32())
  }

  /** Fisher–Yates, in place */
  shuffle<T> (items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const x = items[i]
      items[i] = items[j]
      items[j] = x
    }
    return items
  }
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

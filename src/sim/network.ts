/**
 * The simulated network: one-way latency drawn per message from a log-normal (a median
 * and a spread, floored at 0.1 ms), independent loss per message, and partitions, which
 * drop every message between the sides. No bandwidth limit and no reordering beyond what
 * the latency draws give.
 */
import type { Rng } from './rng.js'

export interface NetworkConfig {
  /** median one-way latency (ms) */
  latencyMedianMs: number
  /** σ of ln(latency): 0.5 puts the 99th percentile at ≈ 3.2× the median */
  latencySigma: number
  /** probability that a message is lost */
  loss: number
}

export class Network {
  /** side of each node while a partition is in force; undefined when whole */
  private sides: Uint8Array | undefined

  constructor (private readonly cfg: NetworkConfig, private readonly rng: Rng) {}

  split (sides: Uint8Array): void {
    this.sides = sides
  }

  heal (): void {
    this.sides = undefined
  }

  get partitioned (): boolean {
    return this.sides !== undefined
  }

  /** the delivery delay of one message, or -1 when it is lost */
  delay (from: number, to: number): number {
    if (this.sides !== undefined && this.sides[from] !== this.sides[to]) return -1
    if (this.rng.chance(this.cfg.loss)) return -1
    return Math.max(0.1, this.cfg.latencyMedianMs * Math.exp(this.cfg.latencySigma * this.rng.normal()))
  }
}

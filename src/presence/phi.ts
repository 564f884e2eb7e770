/**
 * Phi accrual (Hayashibara et al., 2004) with Akka's logistic approximation of the normal
 * tail: `phi = -log10(P(next heartbeat later than t))`. Pure numbers, no state beyond the
 * sliding window of inter-arrival samples.
 */

/** A fixed-size ring of inter-arrival samples with O(1) mean and standard deviation. */
export class IntervalWindow {
  private readonly samples: number[] = []
  private next = 0
  private sum = 0
  private sumSq = 0

  /**
   * Seeded like Akka's detector with two samples `expected ± expected/4`, so a peer seen
   * once already has a sensible mean and spread; real samples push the seeds out.
   */
  constructor (private readonly size: number, expectedMs: number) {
    this.add(expectedMs - expectedMs / 4)
    this.add(expectedMs + expectedMs / 4)
  }

  add (sample: number): void {
    if (this.samples.length < this.size) {
      this.samples.push(sample)
    } else {
      const old = this.samples[this.next]
      this.sum -= old
      this.sumSq -= old * old
      this.samples[this.next] = sample
      this.next = (this.next + 1) % this.size
    }
    this.sum += sample
    this.sumSq += sample * sample
    if (this.next === 0 && this.samples.length === this.size) this.resum()
  }

  /** Recompute the running sums once per lap so floating-point drift cannot build up. */
  private resum (): void {
    this.sum = 0
    this.sumSq = 0
    for (const s of this.samples) {
      this.sum += s
      this.sumSq += s * s
    }
  }

  count (): number {
    return this.samples.length
  }

  mean (): number {
    return this.sum / this.samples.length
  }

  stdDev (): number {
    const n = this.samples.length
    const mean = this.sum / n
    return Math.sqrt(Math.max(0, this.sumSq / n - mean * mean))
  }
}

/**
 * Phi for a silence of `elapsedMs` when inter-arrivals are ~N(mean, sd). Computed as
 * `log10(1 + exp(z))` with `z = y(1.5976 + 0.070566 y²)`, `y = (elapsed − mean) / sd`,
 * which equals Akka's two-branch form without overflow at either end.
 */
export function phiOf (elapsedMs: number, meanMs: number, sdMs: number): number {
  const y = (elapsedMs - meanMs) / sdMs
  const z = y * (1.5976 + 0.070566 * y * y)
  return (z > 30 ? z : Math.log1p(Math.exp(z))) / Math.LN10
}

/**
 * The smallest y (in standard deviations) with phiOf(y, 0, 1) ≥ threshold, by bisection,
 * rounded up a hair, so that a check at that silence always finds phi at the threshold
 * whatever the rounding of `(elapsed − mean) / sd`.
 */
export function thresholdCrossing (threshold: number): number {
  let lo = 0
  let hi = 1
  while (phiOf(hi, 0, 1) < threshold) hi *= 2
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2
    if (phiOf(mid, 0, 1) >= threshold) hi = mid
    else lo = mid
  }
  return hi * (1 + 1e-9)
}

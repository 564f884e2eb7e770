import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redialer, backoffDelay } from '../../../src/daemon/redialer.js'

describe('redial backoff', () => {
  afterEach(() => { vi.useRealTimers() })

  it('grows exponentially, is capped, and jitters within ±20 %', () => {
    expect(backoffDelay(0, 500, 60_000, 0.5)).toBe(500)
    expect(backoffDelay(3, 500, 60_000, 0.5)).toBe(4_000)
    expect(backoffDelay(30, 500, 60_000, 0.5)).toBe(60_000)
    expect(backoffDelay(3, 500, 60_000, 0)).toBe(3_200)
    expect(backoffDelay(3, 500, 60_000, 1)).toBe(4_800)
  })

  it('retries a failing peer with growing gaps and stops once connected', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    let up = false
    const r = new Redialer({
      tickMs: 100,
      minBackoffMs: 1_000,
      maxBackoffMs: 8_000,
      isConnected: () => up,
      dial: async () => {
        attempts.push(Date.now())
        if (attempts.length < 4) throw new Error('refused')
        up = true
      }
    })
    r.start()
    r.want('peer-a', { soon: true })
    await vi.advanceTimersByTimeAsync(60_000)
    r.stop()
    expect(attempts).toHaveLength(4)
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i])
    expect(gaps[1]).toBeGreaterThan(gaps[0])
    expect(gaps[2]).toBeGreaterThan(gaps[1])
  })
})

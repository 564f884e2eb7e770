import { describe, expect, it } from 'vitest'
import { PeerLimiter } from '../../../src/net/limits.js'

describe('PeerLimiter', () => {
  it('refuses one peer past its burst, reports the flood at most once a second, and leaves others alone', () => {
    const floods: string[] = []
    const limiter = new PeerLimiter({ ratePerSec: 10, burst: 5 }, peer => { floods.push(peer) })
    const granted = Array.from({ length: 20 }, (_, i) => limiter.allow('noisy', 1_000 + i)).filter(Boolean).length
    expect(granted).toBe(5)
    expect(limiter.refused).toBe(15)
    expect(floods).toStrictEqual(['noisy'])
    expect(limiter.allow('quiet', 1_020)).toBe(true)
    // refills at 10/s: 100 ms later one more; a second later the flood is reported again
    expect(limiter.allow('noisy', 1_125)).toBe(true)
    expect(limiter.allow('noisy', 1_126)).toBe(false)
    expect(floods).toHaveLength(1)
    for (let i = 0; i < 10; i++) limiter.allow('noisy', 2_100)
    expect(floods).toStrictEqual(['noisy', 'noisy'])
  })
})

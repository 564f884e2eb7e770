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

  it('reports a peer abusive, at once, only when it runs past its slack of refusals too', () => {
    const reports: Array<[string, boolean]> = []
    const limiter = new PeerLimiter({ ratePerSec: 50, burst: 100, slack: { ratePerSec: 50, burst: 100 } }, (peer, abusive) => { reports.push([peer, abusive]) })
    // a client polling at 100/s for 5 s: refused about half the time, never abusive
    for (let t = 0; t < 5_000; t += 10) limiter.allow('poller', t)
    expect(reports.filter(([p]) => p === 'poller').every(([, abusive]) => !abusive)).toBe(true)
    expect(limiter.refused).toBeGreaterThan(100)
    // a flood at 3,000/s: burst (100) and slack (100) are gone after ~200 requests, ~70 ms
    let abusiveAt = -1
    for (let i = 0; i < 3_000 && abusiveAt < 0; i++) {
      limiter.allow('flooder', 10_000 + i / 3)
      if (reports.some(([p, a]) => p === 'flooder' && a)) abusiveAt = i
    }
    expect(abusiveAt).toBeGreaterThanOrEqual(200)
    expect(abusiveAt).toBeLessThan(215)
    // reported once a second, not per request
    for (let i = 0; i < 100; i++) limiter.allow('flooder', 10_100 + i)
    expect(reports.filter(([p, a]) => p === 'flooder' && a)).toHaveLength(1)
    // without a slack, never abusive
    const plain: boolean[] = []
    const strict = new PeerLimiter({ ratePerSec: 1, burst: 1 }, (_p, abusive) => { plain.push(abusive) })
    for (let i = 0; i < 1_000; i++) strict.allow('x', 5_000 + i * 10)
    expect(plain.length).toBeGreaterThan(0)
    expect(plain.every(a => !a)).toBe(true)
  })
})

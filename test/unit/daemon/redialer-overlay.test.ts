import { afterEach, describe, expect, it, vi } from 'vitest'
import { Redialer } from '../../../src/daemon/redialer.js'

describe('redialer: only the members this daemon is to keep connected (the overlay)', () => {
  afterEach(() => { vi.useRealTimers() })

  function dialer (wanted: (peer: string) => boolean): { r: Redialer, dialed: string[] } {
    const dialed: string[] = []
    const r = new Redialer({
      isConnected: () => false,
      wanted,
      dial: async peer => { dialed.push(peer); throw new Error('refused') }
    })
    return { r, dialed }
  }

  it('never dials a target outside the overlay, and keeps dialing those inside', async () => {
    vi.useFakeTimers()
    const { r, dialed } = dialer(peer => peer !== 'far')
    r.start()
    r.want('near', { soon: true })
    r.want('far', { soon: true })
    await vi.advanceTimersByTimeAsync(10_000)
    r.stop()
    expect(dialed.filter(p => p === 'far')).toHaveLength(0)
    expect(dialed.filter(p => p === 'near').length).toBeGreaterThan(1)
  })

  it('still dials a peer this daemon joins through (eager), overlay or not', async () => {
    vi.useFakeTimers()
    const { r, dialed } = dialer(() => false)
    r.start()
    r.want('admitter', { soon: true, eager: true })
    await vi.advanceTimersByTimeAsync(3_000)
    r.stop()
    expect(dialed.filter(p => p === 'admitter').length).toBeGreaterThan(0)
  })

  it('dials a parked target at once when the overlay changes to take it in (refresh)', async () => {
    vi.useFakeTimers()
    let inside = false
    const { r, dialed } = dialer(() => inside)
    r.start()
    r.want('later', { soon: true })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(dialed).toHaveLength(0)
    inside = true
    r.refresh()
    await vi.advanceTimersByTimeAsync(50)
    r.stop()
    expect(dialed).toEqual(['later'])
  })
})

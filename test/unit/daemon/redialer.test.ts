import { afterEach, describe, expect, it, vi } from 'vitest'
import { FAST_REDIAL_FOR_MS, FAST_REDIAL_MAX_MS, Redialer, backoffDelay, memberRedialDelay, refusedDial } from '../../../src/daemon/redialer.js'

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

describe('redialing a lost member', () => {
  afterEach(() => { vi.useRealTimers() })

  /** a redialer whose dials all fail with `error`; returns the times of the attempts */
  function failing (presence: 'dead' | 'left', error: Error, hangMs = 0): { r: Redialer, attempts: number[] } {
    const attempts: number[] = []
    const r = new Redialer({
      isConnected: () => false,
      presence: () => presence,
      dial: async (_peer, signal) => {
        attempts.push(Date.now())
        if (hangMs > 0) {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, hangMs)
            signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true })
          })
        }
        throw error
      },
      dialTimeoutMs: 2_000
    })
    return { r, attempts }
  }

  it('a member declared dead is redialed at least every half second, however many dials failed', async () => {
    vi.useFakeTimers()
    const { r, attempts } = failing('dead', new Error('connection error 10.0.0.2:4801: Connection timeout after 1500ms'))
    r.start()
    r.connected('peer-a')
    r.want('peer-a', { soon: false })
    await vi.advanceTimersByTimeAsync(120_000)
    r.stop()
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i])
    expect(attempts.length).toBeGreaterThan(200)
    expect(Math.max(...gaps)).toBeLessThanOrEqual(FAST_REDIAL_MAX_MS)
  })

  it('a dial that hangs is cut at the dial timeout and tried again', async () => {
    vi.useFakeTimers()
    const { r, attempts } = failing('dead', new Error('unreachable'), 60_000)
    r.start()
    r.connected('peer-a')
    r.want('peer-a', { soon: true })
    await vi.advanceTimersByTimeAsync(30_000)
    r.stop()
    expect(attempts.length).toBeGreaterThanOrEqual(10)
  })

  it('a member that left, or whose host refuses the dial, backs off to long gaps', async () => {
    vi.useFakeTimers()
    for (const { presence, error } of [
      { presence: 'left' as const, error: new Error('connection error: Connection timeout after 1500ms') },
      { presence: 'dead' as const, error: new Error('connection error 10.0.0.2:4801: connect ECONNREFUSED 10.0.0.2:4801') }
    ]) {
      const { r, attempts } = failing(presence, error)
      r.start()
      r.connected('peer-a')
      r.want('peer-a', { soon: false })
      await vi.advanceTimersByTimeAsync(120_000)
      r.stop()
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i])
      expect(attempts.length, presence).toBeLessThan(15)
      expect(Math.max(...gaps), presence).toBeGreaterThan(20_000)
    }
  })

  it('the delay cap is 0.5 s for the first 5 minutes, then 1/600 of the time gone, up to the maximum', () => {
    expect(memberRedialDelay(1, 1_000, 500, 60_000, 1)).toBe(FAST_REDIAL_MAX_MS)
    expect(memberRedialDelay(30, FAST_REDIAL_FOR_MS, 500, 60_000, 1)).toBe(FAST_REDIAL_MAX_MS)
    expect(memberRedialDelay(30, FAST_REDIAL_FOR_MS, 500, 60_000, 0)).toBe(FAST_REDIAL_MAX_MS / 2)
    expect(memberRedialDelay(30, 60 * 60_000, 500, 60_000, 1)).toBe(6_000)
    expect(memberRedialDelay(30, 24 * 60 * 60_000, 500, 60_000, 1)).toBe(60_000)
  })

  it('tells a refused dial from an unreachable one', () => {
    expect(refusedDial(new Error('connect ECONNREFUSED 127.0.0.1:4801'))).toBe(true)
    expect(refusedDial(new AggregateError([new Error('connect ECONNREFUSED a'), new Error('connect ECONNREFUSED b')]))).toBe(true)
    expect(refusedDial(new AggregateError([new Error('connect ECONNREFUSED a'), new Error('Connection timeout after 1500ms')]))).toBe(false)
    expect(refusedDial(new Error('Connection timeout after 1500ms'))).toBe(false)
  })
})

describe('redialer scheduling', () => {
  afterEach(() => { vi.useRealTimers() })

  it('with every dial slot taken, waits for a dial to end instead of waking over and over', async () => {
    vi.useFakeTimers()
    const pending: Array<() => void> = []
    let looks = 0
    const r = new Redialer({
      concurrency: 1,
      isConnected: () => { looks++; return false },
      dial: async () => { await new Promise<void>(resolve => { pending.push(resolve) }) },
      dialTimeoutMs: 60_000
    })
    r.start()
    r.want('a', { soon: true })
    r.want('b', { soon: true })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(pending).toHaveLength(1)
    expect(looks).toBeLessThan(20)
    pending[0]()
    await vi.advanceTimersByTimeAsync(100)
    expect(pending).toHaveLength(2)
    r.stop()
  })
})

describe('a dial that connects but does not stay', () => {
  afterEach(() => { vi.useRealTimers() })

  it('a lost member whose new connection dies before the hello is dialed again within a second', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    const r = new Redialer({
      isConnected: () => false,
      presence: () => 'dead',
      // the dial succeeds, but the connection is gone before anyone looks
      dial: async () => { attempts.push(Date.now()) }
    })
    r.start()
    r.connected('peer-a')
    r.want('peer-a', { soon: true })
    await vi.advanceTimersByTimeAsync(5_000)
    r.stop()
    expect(attempts.length).toBeGreaterThanOrEqual(5)
  })
})

describe('a peer that connects but is never verified', () => {
  afterEach(() => { vi.useRealTimers() })

  it('backs off like a failing one', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    const r = new Redialer({ isConnected: () => false, dial: async () => { attempts.push(Date.now()) } })
    r.start()
    r.want('stranger', { soon: true })
    await vi.advanceTimersByTimeAsync(120_000)
    r.stop()
    expect(attempts.length).toBeLessThan(15)
  })
})

describe('new addresses for a peer that backs off', () => {
  afterEach(() => { vi.useRealTimers() })

  it('dial it at once instead of after the backoff its address-less dials earned', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    let addressed = false
    let up = false
    const r = new Redialer({
      minBackoffMs: 500,
      maxBackoffMs: 60_000,
      // no jitter: dials at 0, 1 s and 3 s, and the fourth would wait until 7 s
      random: () => 0.5,
      isConnected: () => up,
      dial: async () => {
        attempts.push(Date.now())
        if (!addressed) throw new Error('no valid addresses')
        up = true
      }
    })
    r.start()
    const t0 = Date.now()
    r.want('peer-a', { soon: true })
    // three failures: the next try is ~4 s away
    await vi.advanceTimersByTimeAsync(1_000 + 2_400 + 100)
    expect(attempts.length).toBeGreaterThanOrEqual(3)
    const before = attempts.length
    addressed = true
    r.addressesArrived('peer-a')
    await vi.advanceTimersByTimeAsync(50)
    r.stop()
    expect(attempts).toHaveLength(before + 1)
    expect(attempts[before] - t0).toBeLessThan(3_600)
    expect(up).toBe(true)
  })

  it('dial again as soon as a dial that was in flight when they came ends', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    let addressed = false
    const r = new Redialer({
      minBackoffMs: 500,
      isConnected: () => false,
      dial: async () => {
        attempts.push(Date.now())
        const had = addressed
        await new Promise(resolve => setTimeout(resolve, 1_000))
        if (!had) throw new Error('no valid addresses')
      }
    })
    r.start()
    r.want('peer-a', { soon: true })
    await vi.advanceTimersByTimeAsync(100)
    expect(attempts).toHaveLength(1)
    addressed = true
    r.addressesArrived('peer-a')
    // the first dial ends at 1 s; without the reset the next would wait ~0.8–1.2 s more
    await vi.advanceTimersByTimeAsync(1_000)
    r.stop()
    expect(attempts).toHaveLength(2)
    expect(attempts[1] - attempts[0]).toBeLessThan(1_050)
  })

  it('leave a peer nobody wants alone', async () => {
    vi.useFakeTimers()
    const dial = vi.fn(async () => {})
    const r = new Redialer({ isConnected: () => false, dial })
    r.start()
    r.addressesArrived('stranger')
    await vi.advanceTimersByTimeAsync(5_000)
    r.stop()
    expect(dial).not.toHaveBeenCalled()
  })
})

describe('a member never reached that presence hears alive', () => {
  afterEach(() => { vi.useRealTimers() })

  function run (presence: 'alive' | undefined, forMs: number): Promise<number[]> {
    vi.useFakeTimers()
    const attempts: number[] = []
    const r = new Redialer({
      random: () => 0.5,
      isConnected: () => false,
      presence: () => presence,
      dial: async () => { attempts.push(Date.now()); throw new Error('Encryption failed') }
    })
    r.start()
    r.want('busy-peer', { soon: true })
    return vi.advanceTimersByTimeAsync(forMs).then(() => { r.stop(); return attempts })
  }

  it('is dialed again within a couple of seconds after failures, not after the minute its failures earned', async () => {
    const heard = await run('alive', 60_000)
    const unheard = await run(undefined, 60_000)
    // unheard: 0.5, 1, 2, 4, 8, 16, 32 s … apart: 7 tries in a minute
    expect(unheard.length).toBeLessThan(10)
    expect(heard.length).toBeGreaterThan(25)
    const gaps = heard.slice(1).map((t, i) => t - heard[i])
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2_000)
  })

  it('slows down over time, so a pair that cannot reach each other does not dial every 2 s forever', async () => {
    const heard = await run('alive', 3 * 3600_000)
    const lastHour = heard.filter(t => t >= heard[0] + 2 * 3600_000)
    // capped at elapsed/60: a minute apart by the third hour
    expect(lastHour.length).toBeLessThan(90)
    expect(lastHour.length).toBeGreaterThan(30)
  })
})

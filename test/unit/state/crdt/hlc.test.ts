import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ClockSkewError, HlcClock, MAX_HLC_LOGICAL, compareHlc, decodeHlc, encodeHlc, type Hlc
} from '../../../../src/state/crdt/index.js'

const MAX_SKEW = 60_000
const T0 = 1_700_000_000_000

const nodeArb = fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '0', '~', '!'), minLength: 1, maxLength: 4 })
const anyHlcArb: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.oneof(fc.integer({ min: T0, max: T0 + 3 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  logical: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_HLC_LOGICAL })),
  node: nodeArb
}, { noNullPrototype: true })

type ClockEvent =
  | { kind: 'now', pt: number }
  | { kind: 'receive', pt: number, remote: Hlc }

// physical times that jump forwards and backwards, remotes near (and sometimes past) the skew limit
const ptArb = fc.integer({ min: T0 - 100_000, max: T0 + 100_000 })
const eventArb: fc.Arbitrary<ClockEvent> = fc.oneof(
  fc.record({ kind: fc.constant('now' as const), pt: ptArb }),
  fc.record({
    kind: fc.constant('receive' as const),
    pt: ptArb,
    remote: fc.record({
      wall: fc.integer({ min: T0 - 100_000, max: T0 + 200_000 }),
      logical: fc.integer({ min: 0, max: 5 }),
      node: fc.constantFrom('r1', 'r2', 'me')
    })
  })
)

describe('HlcClock', () => {
  it('is strictly monotonic under arbitrary physical times, receive() exceeds both inputs', () => {
    fc.assert(fc.property(fc.array(eventArb, { minLength: 1, maxLength: 40 }), events => {
      const clock = new HlcClock({ node: 'me', maxSkewMs: MAX_SKEW })
      let last: Hlc = clock.peek()
      for (const event of events) {
        let next: Hlc
        if (event.kind === 'now') {
          next = clock.now(event.pt)
        } else {
          if (event.remote.wall > event.pt + MAX_SKEW) {
            expect(() => clock.receive(event.remote, event.pt)).toThrow(ClockSkewError)
            expect(clock.peek()).toStrictEqual(last) // refused: clock untouched
            continue
          }
          next = clock.receive(event.remote, event.pt)
          expect(compareHlc(next, event.remote)).toBe(1)
        }
        expect(compareHlc(next, last)).toBe(1)
        expect(next.node).toBe('me')
        expect(next.wall).toBeGreaterThanOrEqual(event.pt) // never behind physical time
        last = next
      }
    }), { numRuns: 1000 })
  })

  it('stays at physical time when the physical clock moves forward', () => {
    const clock = new HlcClock({ node: 'me' })
    expect(clock.now(T0)).toStrictEqual({ wall: T0, logical: 0, node: 'me' })
    expect(clock.now(T0)).toStrictEqual({ wall: T0, logical: 1, node: 'me' })
    expect(clock.now(T0 - 5_000)).toStrictEqual({ wall: T0, logical: 2, node: 'me' }) // clock stepped back
    expect(clock.now(T0 + 1)).toStrictEqual({ wall: T0 + 1, logical: 0, node: 'me' })
    expect(clock.receive({ wall: T0 + 10, logical: 7, node: 'r' }, T0 + 2)).toStrictEqual({ wall: T0 + 10, logical: 8, node: 'me' })
  })

  it('refuses a remote reading more than maxSkewMs ahead with a named error', () => {
    const clock = new HlcClock({ node: 'me', maxSkewMs: 1_000 })
    clock.now(T0)
    expect(clock.receive({ wall: T0 + 1_000, logical: 0, node: 'r' }, T0).wall).toBe(T0 + 1_000) // at the limit: accepted
    let error: unknown
    try {
      clock.receive({ wall: T0 + 2_001, logical: 0, node: 'r' }, T0 + 1_000)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ClockSkewError)
    expect((error as ClockSkewError).name).toBe('ClockSkewError')
    expect((error as ClockSkewError).skewMs).toBe(1_001)
    expect(clock.peek()).toStrictEqual({ wall: T0 + 1_000, logical: 1, node: 'me' })
    expect(new HlcClock({ node: 'me' }).maxSkewMs).toBe(60_000)
  })

  it('resumes after a restored reading and borrows the next ms when logical would overflow', () => {
    const clock = new HlcClock({ node: 'me', last: { wall: T0, logical: MAX_HLC_LOGICAL, node: 'me' } })
    expect(clock.now(T0 - 10)).toStrictEqual({ wall: T0 + 1, logical: 0, node: 'me' })
    const other = new HlcClock({ node: 'me' })
    expect(other.receive({ wall: T0, logical: MAX_HLC_LOGICAL, node: 'r' }, T0)).toStrictEqual({ wall: T0 + 1, logical: 0, node: 'me' })
  })

  it('rejects malformed nodes, physical times and remote readings', () => {
    expect(() => new HlcClock({ node: '' })).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    expect(() => new HlcClock({ node: 'has space' })).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    const clock = new HlcClock({ node: 'me' })
    expect(() => clock.now(Number.NaN)).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    expect(() => clock.now(-1)).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    expect(() => clock.receive({ wall: 1.5, logical: 0, node: 'r' }, T0)).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    expect(() => clock.receive({ wall: 1, logical: -1, node: 'r' }, T0)).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
  })
})

describe('encodeHlc / decodeHlc', () => {
  it('string order of encodings equals compareHlc order, and decoding round-trips', () => {
    fc.assert(fc.property(anyHlcArb, anyHlcArb, (a, b) => {
      const ea = encodeHlc(a)
      const eb = encodeHlc(b)
      const byString = ea === eb ? 0 : ea < eb ? -1 : 1
      expect(byString).toBe(compareHlc(a, b))
      // LevelDB compares UTF-8 bytes: same order
      expect(Math.sign(Buffer.compare(Buffer.from(ea), Buffer.from(eb)))).toBe(compareHlc(a, b))
      expect(decodeHlc(ea)).toStrictEqual(a)
    }), { numRuns: 1000 })
  })

  it('has a fixed-width numeric prefix', () => {
    expect(encodeHlc({ wall: 1, logical: 2, node: 'n' })).toBe('0000000000000001-0000000002-n')
    expect(encodeHlc({ wall: Number.MAX_SAFE_INTEGER, logical: MAX_HLC_LOGICAL, node: 'n' }))
      .toBe('9007199254740991-4294967295-n')
  })

  it('refuses to decode anything it would not produce', () => {
    for (const bad of ['', '1-2-n', '0000000000000001-0000000002-', '0000000000000001-0000000002-a b',
      '9999999999999999-0000000000-n', '0000000000000001-9999999999-n', 'x000000000000001-0000000002-n']) {
      expect(() => decodeHlc(bad), bad).toThrow(expect.objectContaining({ name: 'InvalidHlcError' }))
    }
  })
})

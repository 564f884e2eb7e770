import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../../src/model/duration.js'
import { InvalidArgumentError } from '../../../src/errors.js'

describe('parseDuration', () => {
  it('reads each unit', () => {
    expect(parseDuration('1500ms')).toBe(1500)
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('30m')).toBe(1_800_000)
    expect(parseDuration('24h')).toBe(86_400_000)
    expect(parseDuration('7d')).toBe(604_800_000)
  })

  it('reads numbers, digit strings, fractions, compounds, case and spaces', () => {
    expect(parseDuration(2500)).toBe(2500)
    expect(parseDuration(0)).toBe(0)
    expect(parseDuration('2500')).toBe(2500)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration(' 10S ')).toBe(10_000)
  })

  it('throws InvalidArgumentError naming the field for anything else', () => {
    for (const bad of ['', 'abc', '-5s', '5 s', '1y', 's', '1.h', 'h1', '1e3s']) {
      expect(() => parseDuration(bad, 'ttl'), bad).toThrow(InvalidArgumentError)
      expect(() => parseDuration(bad, 'ttl'), bad).toThrow(/^ttl: /)
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => parseDuration(bad), String(bad)).toThrow(InvalidArgumentError)
    }
    expect(() => parseDuration('9'.repeat(30) + 'd')).toThrow(/too long/)
  })

  it('n<unit> is n times the unit, for any whole n', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(['ms', 1], ['s', 1e3], ['m', 6e4], ['h', 36e5], ['d', 864e5]), (n, [unit, size]) => {
      expect(parseDuration(`${n}${unit}`)).toBe(n * (size as number))
    }))
  })
})

describe('formatDuration', () => {
  it('is short and readable', () => {
    expect(formatDuration(420)).toBe('420ms')
    expect(formatDuration(61_000)).toBe('1m 1s')
    expect(formatDuration(3_723_000)).toBe('1h 2m 3s')
    expect(formatDuration(90_061_000)).toBe('1d 1h 1m')
    expect(formatDuration(3_600_000)).toBe('1h')
  })
})

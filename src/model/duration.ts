/**
 * Durations as people type them: `90s`, `30m`, `24h`, `7d`, `1500ms`, `1h30m`, or a
 * number of milliseconds.
 */
import { InvalidArgumentError } from '../errors.js'

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000
}

const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g

/**
 * Milliseconds in `value`. A number, or a string of digits, is milliseconds already.
 * Throws `InvalidArgumentError` (naming `field`, if given) for anything else, negative
 * or not finite.
 */
export function parseDuration (value: string | number, field?: string): number {
  const bad = (why: string): InvalidArgumentError => new InvalidArgumentError(
    `${field != null ? `${field}: ` : ''}${why}: use a number with a unit, like 90s, 30m, 24h or 7d`
  )
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw bad(`invalid duration ${String(value)}`)
    return Math.round(value)
  }
  if (typeof value !== 'string') throw bad('a duration must be a string or a number')
  const text = value.trim().toLowerCase()
  if (/^\d+$/.test(text)) return Number(text)
  if (!WHOLE.test(text)) throw bad(`invalid duration "${value}"`)
  let total = 0
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit]
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) throw bad(`duration "${value}" is too long`)
  return Math.round(total)
}

/** `1h 2m 3s`: for people, not for parsing back */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms)
  if (ms < 1_000) return `${Math.round(ms)}ms`
  let rest = Math.floor(ms / 1_000)
  const parts: string[] = []
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || (unit === 's' && parts.length === 0)) parts.push(`${n}${unit}`)
  }
  return parts.slice(0, 3).join(' ')
}

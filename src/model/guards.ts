/**
 * Small shape checks used at every edge (decoded JSON from a peer, an API body, a file).
 * One copy: import these instead of writing another.
 */

/** An object that is not null and not an array (decoded JSON: a `{...}`). */
export function isObject (value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value)
}

/** A plain object (not an array, not a class instance). */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** True when `record` has exactly the keys `required` plus any of `optional`. */
export function hasExactKeys (record: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  const keys = Object.keys(record)
  if (!required.every(k => Object.hasOwn(record, k))) return false
  return keys.every(k => required.includes(k) || optional.includes(k))
}

/**
 * A canonical, injective-enough text encoding of replicated values: equal values give
 * byte-identical encodings whatever their key or insertion order.
 */

/** a value that has no canonical encoding: a type error, so `instanceof TypeError` holds */
export class CanonicalEncodingError extends TypeError {
  override name = 'CanonicalEncodingError'
}

/** Deepest nesting `canonicalEncode` walks before refusing (guards against cycles). */
export const MAX_CANONICAL_DEPTH = 64

/**
 * JSON with no whitespace and every unordered collection sorted:
 * - plain objects: keys sorted by UTF-16 code unit, `undefined` properties omitted;
 * - `Map`s (string keys only): encoded as an object sorted by key, `undefined` values omitted;
 * - `Set`s: an array sorted by the members' encodings;
 * - arrays in order (`undefined` items refused), strings, booleans, `null`, finite
 *   numbers (`-0` encodes as `0`), `Uint8Array` as a lowercase hex string.
 *
 * Anything else (functions, symbols, bigint, `undefined` at the top, non-finite numbers,
 * class instances, nesting deeper than `MAX_CANONICAL_DEPTH`) throws `CanonicalEncodingError`.
 */
export function canonicalEncode (value: unknown): string {
  return encode(value, 0, false)
}

/**
 * The same encoding restricted to plain JSON (objects, arrays, strings, finite numbers,
 * booleans, `null`): what signatures cover, where a `Map` or bytes must not sneak in.
 */
export function canonicalJsonStrict (value: unknown): string {
  return encode(value, 0, true)
}

/** Order of two values by their canonical encodings (-1, 0, 1). */
export function compareCanonical (a: unknown, b: unknown): -1 | 0 | 1 {
  return compareStrings(canonicalEncode(a), canonicalEncode(b))
}

/** Plain UTF-16 code-unit order, as -1, 0, 1. */
export function compareStrings (a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0
  return a < b ? -1 : 1
}

function encode (value: unknown, depth: number, plain: boolean): string {
  if (depth > MAX_CANONICAL_DEPTH) throw new CanonicalEncodingError('value is nested too deeply (or cyclic)')
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalEncodingError(`cannot encode the number ${value}`)
      return JSON.stringify(value)
    case 'object':
      return encodeObject(value, depth, plain)
    default:
      throw new CanonicalEncodingError(`cannot encode a value of type ${typeof value}`)
  }
}

function encodeObject (value: object, depth: number, plain: boolean): string {
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown, i) => {
      if (item === undefined) throw new CanonicalEncodingError(`undefined at array index ${i}`)
      return encode(item, depth + 1, plain)
    }).join(',')}]`
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (plain && proto !== Object.prototype && proto !== null) {
    throw new CanonicalEncodingError('only plain objects can be encoded')
  }
  if (value instanceof Map) {
    const entries: Array<[string, unknown]> = []
    for (const [key, item] of value as Map<unknown, unknown>) {
      if (typeof key !== 'string') throw new CanonicalEncodingError('only Maps with string keys can be encoded')
      entries.push([key, item])
    }
    return encodeEntries(entries, depth, plain)
  }
  if (value instanceof Set) {
    const items = [...(value as Set<unknown>)].map(item => encode(item, depth + 1, plain)).sort(compareStrings)
    return `[${items.join(',')}]`
  }
  if (value instanceof Uint8Array) {
    return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex'))
  }
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalEncodingError('only plain objects, arrays, Maps, Sets and Uint8Arrays can be encoded')
  }
  return encodeEntries(Object.entries(value), depth, plain)
}

function encodeEntries (entries: Array<[string, unknown]>, depth: number, plain: boolean): string {
  const parts: string[] = []
  for (const [key, item] of entries.sort((x, y) => compareStrings(x[0], y[0]))) {
    if (item === undefined) continue
    parts.push(`${JSON.stringify(key)}:${encode(item, depth + 1, plain)}`)
  }
  return `{${parts.join(',')}}`
}

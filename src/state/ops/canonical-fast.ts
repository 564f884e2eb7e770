/**
 * The model's canonical JSON (`src/model/canonical.ts`), faster on what the ingest path
 * feeds it: values `JSON.parse` made. A catch-up encodes every op it verifies (for its
 * hash) and every view entry it changes (for the state hash), and the general encoder's
 * `Object.entries`, comparator sort and part arrays per object were a large share of that
 * work and of its garbage. Here an object's keys are sorted only when they are not in
 * order already, and the text is built by concatenation.
 *
 * The output is the model encoder's, byte for byte: signatures and state hashes depend on
 * it. Anything but plain JSON (a Map, a class instance, a non-finite number, `undefined`
 * in an array, a sparse array, nesting past the limit) is handed to the model encoder,
 * which encodes it or throws exactly as it always does.
 */
import { MAX_CANONICAL_DEPTH, canonicalEncode, canonicalJsonStrict } from '../../model/canonical.js'

/** `canonicalJsonStrict(value)`: what op hashes cover */
export function canonicalJsonFast (value: unknown): string {
  return plain(value, 0) ?? canonicalJsonStrict(value)
}

/** `canonicalEncode(value)`: what state hashes cover */
export function canonicalEncodeFast (value: unknown): string {
  return plain(value, 0) ?? canonicalEncode(value)
}

/**
 * The canonical JSON of a plain JSON value sitting `depth` levels down in what is being
 * encoded; `undefined` for anything else (the model encoder decides). For callers that
 * write a fixed wrapper around a value themselves.
 */
export function canonicalPlain (value: unknown, depth: number): string | undefined {
  return plain(value, depth)
}

function plain (value: unknown, depth: number): string | undefined {
  if (depth > MAX_CANONICAL_DEPTH) return undefined
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      // JSON.stringify writes -0 as 0, as the model does
      return Number.isFinite(value) ? JSON.stringify(value) : undefined
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      return Array.isArray(value) ? array(value, depth) : object(value, depth)
    default:
      return undefined
  }
}

function array (value: unknown[], depth: number): string | undefined {
  let out = '['
  for (let i = 0; i < value.length; i++) {
    // a hole or undefined: the model's rule, not ours
    if (!(i in value)) return undefined
    const item = plain(value[i], depth + 1)
    if (item === undefined) return undefined
    out += i === 0 ? item : `,${item}`
  }
  return `${out}]`
}

function object (value: object, depth: number): string | undefined {
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined
  const keys = Object.keys(value)
  // `<` and the default sort both order strings by UTF-16 code unit, as the model does
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      if (keys.length <= 8) insertionSort(keys)
      else keys.sort()
      break
    }
  }
  let out = '{'
  let first = true
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key]
    if (item === undefined) continue
    const encoded = plain(item, depth + 1)
    if (encoded === undefined) return undefined
    out += `${first ? '' : ','}${quoted(key)}:${encoded}`
    first = false
  }
  return `${out}}`
}

/** a few keys (an op body, a clock): cheaper than the general sort's setup */
function insertionSort (keys: string[]): void {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]
    let j = i - 1
    for (; j >= 0 && keys[j] > key; j--) keys[j + 1] = keys[j]
    keys[j + 1] = key
  }
}

// the same few keys and authors come by the thousand in a catch-up: their JSON strings are kept
const QUOTED_MAX = 256
const quotedCache = new Map<string, string>()

/** `JSON.stringify(text)`, remembered for short strings */
export function quoted (text: string): string {
  if (text.length > 64) return JSON.stringify(text)
  let out = quotedCache.get(text)
  if (out === undefined) {
    out = JSON.stringify(text)
    if (quotedCache.size >= QUOTED_MAX) quotedCache.clear()
    quotedCache.set(text, out)
  }
  return out
}

/**
 * The canonical JSON of a hybrid logical clock `{ wall, logical, node }` (and nothing
 * else), written directly; `undefined` when `hlc` is not exactly that.
 */
export function canonicalHlc (hlc: unknown): string | undefined {
  if (typeof hlc !== 'object' || hlc === null || Object.getPrototypeOf(hlc) !== Object.prototype) return undefined
  const { wall, logical, node } = hlc as Record<string, unknown>
  if (typeof wall !== 'number' || typeof logical !== 'number' || typeof node !== 'string' || !Number.isFinite(wall) || !Number.isFinite(logical)) return undefined
  let fields = 0
  for (const key in hlc) {
    if (!Object.hasOwn(hlc, key)) return undefined
    fields++
  }
  if (fields !== 3) return undefined
  // String(n) is JSON.stringify(n) for a finite number (-0 included: both write 0)
  return `{"logical":${logical},"node":${quoted(node)},"wall":${wall}}`
}

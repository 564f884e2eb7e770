/**
 * Validation of the key-value routes (`paired kv`): pure functions that name the bad
 * field. The limits and the value's byte rule are the model's (`src/model/kv.ts`): keys
 * are 1 to 512 UTF-8 bytes of well-formed text without control characters; a value is any
 * plain JSON value of at most 1 MiB once encoded. The CLI uses the same checks before it
 * sends anything.
 */
import { InvalidArgumentError } from '../errors.js'
import { ValueTooLargeError } from './errors.js'
import { KV_KEY_CONTROL, KvKeySchema, MAX_KV_BATCH, MAX_KV_KEY_BYTES, MAX_KV_VALUE_BYTES, kvValueBytes, type KvWrite } from '../model/kv.js'
import { validator } from '../model/schema.js'
import { onlyFields } from './validate.js'

export { MAX_KV_BATCH, MAX_KV_KEY_BYTES, MAX_KV_VALUE_BYTES } from '../model/kv.js'
/** request body limit of `kv/set`: one value at the limit plus its key, with room to spare */
export const KV_SET_MAX_BODY_BYTES = 2 * 1024 * 1024
/** request body limit of `kv/set-many` */
export const KV_SET_MANY_MAX_BODY_BYTES = 16 * 1024 * 1024

const kvKey = validator(KvKeySchema)

function checkText (value: string, field: string): void {
  if (!value.isWellFormed()) throw new InvalidArgumentError(`${field} must be valid Unicode text (it holds a lone surrogate)`)
  const bytes = Buffer.byteLength(value, 'utf8')
  if (bytes > MAX_KV_KEY_BYTES) throw new InvalidArgumentError(`${field} must be at most ${MAX_KV_KEY_BYTES} UTF-8 bytes (it is ${bytes})`)
  const control = KV_KEY_CONTROL.exec(value)
  if (control != null) {
    const code = control[0].codePointAt(0) ?? 0
    throw new InvalidArgumentError(`${field} must not contain control characters (U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${control.index + 1})`)
  }
}

/** a key: a string of 1 to 512 UTF-8 bytes without control characters */
export function checkKey (value: unknown, field = 'key'): string {
  if (value == null) throw new InvalidArgumentError(`${field} is required`)
  if (typeof value !== 'string') throw new InvalidArgumentError(`${field} must be a string`)
  if (value === '') throw new InvalidArgumentError(`${field} must not be empty`)
  checkText(value, field)
  return value
}

/**
 * A key to read or delete: as `checkKey`, but as long as a replica accepts (1024 UTF-16
 * units), so a long key another member's client wrote is not out of reach.
 */
export function checkStoredKey (value: unknown, field = 'key'): string {
  const long = typeof value === 'string' && Buffer.byteLength(value, 'utf8') > MAX_KV_KEY_BYTES
  if (long && kvKey.check(value) && !KV_KEY_CONTROL.test(value)) return value
  return checkKey(value, field)
}

/** a key prefix: like a key, but it may be empty (every key) */
export function checkPrefix (value: unknown, field = 'prefix'): string {
  if (value == null || value === '') return ''
  if (typeof value !== 'string') throw new InvalidArgumentError(`${field} must be a string`)
  checkText(value, field)
  return value
}

/** the size that counts against the limit: the model's one rule (`kvValueBytes`, canonical JSON bytes) */
export function valueBytes (value: unknown): number {
  if (value === undefined) throw new InvalidArgumentError('value must be a JSON value')
  try {
    return kvValueBytes(value)
  } catch (err) {
    throw new InvalidArgumentError(`value must be a JSON value: ${(err as Error).message}`)
  }
}

/** any JSON value of at most 1 MiB; `ValueTooLargeError` past that */
export function checkValue (value: unknown, key: string, field = 'value'): unknown {
  if (value === undefined) throw new InvalidArgumentError(`${field} is required (key ${key})`)
  const bytes = valueBytes(value)
  if (bytes > MAX_KV_VALUE_BYTES) {
    throw new ValueTooLargeError(`value of ${bytes} bytes is over the 1 MiB limit (key ${key})`)
  }
  return value
}

/** one `{key, value}` object; `field` prefixes the names in errors (`entries[3]`) */
export function parseKvWrite (body: unknown, field?: string): KvWrite {
  const name = (f: string): string => field == null ? f : `${field}.${f}`
  if (body == null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidArgumentError(`${field ?? 'entry'} must be an object {key, value}`)
  }
  const record = body as Record<string, unknown>
  try {
    onlyFields(record, ['key', 'value'])
  } catch (err) {
    if (field == null) throw err
    throw new InvalidArgumentError(`${field}: ${(err as Error).message}`)
  }
  const key = checkKey(record.key, name('key'))
  return { key, value: checkValue(record.value, key, name('value')) }
}

/** `POST kv/set {key, value}` */
export function parseKvSet (body: Record<string, unknown>): KvWrite {
  return parseKvWrite(body)
}

/** `POST kv/set-many {entries: [{key, value}]}`: 1 to 10,000 entries */
export function parseKvSetMany (body: Record<string, unknown>): KvWrite[] {
  onlyFields(body, ['entries'])
  const entries = body.entries
  if (entries == null) throw new InvalidArgumentError('entries is required')
  if (!Array.isArray(entries)) throw new InvalidArgumentError('entries must be an array of {key, value}')
  if (entries.length === 0 || entries.length > MAX_KV_BATCH) {
    throw new InvalidArgumentError(`entries must hold 1 to ${MAX_KV_BATCH} entries (it holds ${entries.length})`)
  }
  return entries.map((entry: unknown, i) => parseKvWrite(entry, `entries[${i}]`))
}

/** `POST kv/del {key}` */
export function parseKvDel (body: Record<string, unknown>): { key: string } {
  onlyFields(body, ['key'])
  return { key: checkStoredKey(body.key) }
}

/** the query parameters of a GET route: only `allowed`, each at most once */
function onlyParams (query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name)) throw new InvalidArgumentError(`unknown query parameter "${name}" (expected ${allowed.join(', ')})`)
    if (query.getAll(name).length > 1) throw new InvalidArgumentError(`${name} must be given once`)
  }
}

/** `GET kv/get?key=K` */
export function parseKvGetQuery (query: URLSearchParams): { key: string } {
  onlyParams(query, ['key'])
  return { key: checkStoredKey(query.get('key')) }
}

/** `GET kv/list?prefix=P`: no prefix lists every key */
export function parseKvListQuery (query: URLSearchParams): { prefix: string } {
  onlyParams(query, ['prefix'])
  return { prefix: checkPrefix(query.get('prefix')) }
}

/**
 * The op kind registry: how the body of each known kind is checked. Kinds not in the
 * registry are accepted when their name matches `KIND_PATTERN` and their body is plain
 * JSON, so a newer member's ops still replicate through an older one (whose views ignore
 * them).
 */
import { canonicalJson } from '../../team/canonical.js'
import { hasExactKeys, isPlainObject } from '../../model/guards.js'
import { MAX_KV_KEY_LENGTH, MAX_KV_VALUE_BYTES } from './constants.js'
import { InvalidOpError, ValueTooLargeError } from './errors.js'
import type { KvDelBody, KvSetBody, OpDraft, OpKind } from './types.js'

/** How one kind's body is checked. */
export interface OpKindSpec {
  /**
   * Throws `InvalidOpError` unless `body` is a valid body of this kind. `opBytes` is the
   * size of the whole op's canonical encoding, already checked to be plain JSON.
   */
  validateBody(body: unknown, opBytes: number): void
}

const registry = new Map<string, OpKindSpec>()

/** Registers (or replaces) the body check of `kind`. */
export function registerOpKind (kind: OpKind, spec: OpKindSpec): void {
  registry.set(kind, spec)
}

/** The registered spec of `kind`, if any. */
export function opKindSpec (kind: OpKind): OpKindSpec | undefined {
  return registry.get(kind)
}

/** Throws `InvalidOpError` unless `key` is a valid kv key. */
export function assertKvKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KV_KEY_LENGTH) {
    throw new InvalidOpError(`a kv key is a string of 1..${MAX_KV_KEY_LENGTH} characters`)
  }
  if (!key.isWellFormed()) throw new InvalidOpError('a kv key must be well-formed Unicode (no lone surrogates)')
}

/** Encoded size of a kv value in bytes; throws `InvalidOpError` unless it is plain JSON. */
export function kvValueBytes (value: unknown): number {
  if (value === undefined) throw new InvalidOpError('a kv value cannot be undefined (delete the key instead)')
  try {
    return Buffer.byteLength(canonicalJson(value), 'utf8')
  } catch (err) {
    throw new InvalidOpError(`a kv value must be plain JSON: ${(err as Error).message}`)
  }
}

function tooLargeMessage (key: string, bytes: number): string {
  return `the value of kv key "${key.slice(0, 64)}" is ${bytes} bytes encoded; the limit is 1 MiB (${MAX_KV_VALUE_BYTES} bytes)`
}

/**
 * A `kv:set` draft for a local write. Throws `ValueTooLargeError` when the value's
 * encoding exceeds `MAX_KV_VALUE_BYTES`, `InvalidOpError` for a bad key or a non-JSON value.
 */
export function kvSetDraft (key: string, value: unknown): OpDraft<KvSetBody> {
  assertKvKey(key)
  const bytes = kvValueBytes(value)
  if (bytes > MAX_KV_VALUE_BYTES) throw new ValueTooLargeError(tooLargeMessage(key, bytes), bytes, MAX_KV_VALUE_BYTES)
  return { kind: 'kv:set', body: { key, value } }
}

/** A `kv:del` draft for a local write. */
export function kvDelDraft (key: string): OpDraft<KvDelBody> {
  assertKvKey(key)
  return { kind: 'kv:del', body: { key } }
}

registerOpKind('kv:set', {
  validateBody (body, opBytes) {
    if (!isPlainObject(body) || !hasExactKeys(body, ['key', 'value'])) {
      throw new InvalidOpError('a kv:set body is exactly { key, value }')
    }
    assertKvKey(body.key)
    if (body.value === undefined) throw new InvalidOpError('a kv:set value cannot be undefined')
    // the value is part of the op: only an op larger than the limit can hold a value over it
    if (opBytes > MAX_KV_VALUE_BYTES) {
      const bytes = kvValueBytes(body.value)
      if (bytes > MAX_KV_VALUE_BYTES) throw new InvalidOpError(tooLargeMessage(body.key, bytes))
    }
  }
})

registerOpKind('kv:del', {
  validateBody (body) {
    if (!isPlainObject(body) || !hasExactKeys(body, ['key'])) {
      throw new InvalidOpError('a kv:del body is exactly { key }')
    }
    assertKvKey(body.key)
  }
})

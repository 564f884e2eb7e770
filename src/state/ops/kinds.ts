/**
 * The op kind registry: how the body of each known kind is checked. Kinds not in the
 * registry are accepted when their name matches `KIND_PATTERN` and their body is plain
 * JSON, so a newer member's ops still replicate through an older one (whose views ignore
 * them).
 */
import {
  KvKeySchema, MAX_KV_KEY_LENGTH, MAX_KV_VALUE_BYTES, kvDelBody, kvSetBody, kvValueBytes as valueBytes
} from '../../model/kv.js'
import { formatProblem, validator, type SchemaProblem } from '../../model/schema.js'
import { isObject } from '../../model/guards.js'
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

const kvKey = validator(KvKeySchema)

/** Throws `InvalidOpError` unless `key` is a valid kv key (`KvKeySchema`). */
export function assertKvKey (key: unknown): asserts key is string {
  if (kvKey.check(key)) return
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KV_KEY_LENGTH) {
    throw new InvalidOpError(`a kv key is a string of 1..${MAX_KV_KEY_LENGTH} characters`)
  }
  throw new InvalidOpError('a kv key must be well-formed Unicode (no lone surrogates)')
}

/**
 * Encoded size of a kv value in bytes, by the model's one rule (`kvValueBytes` of
 * `src/model/kv.ts`); throws `InvalidOpError` unless it is plain JSON.
 */
export function kvValueBytes (value: unknown): number {
  if (value === undefined) throw new InvalidOpError('a kv value cannot be undefined (delete the key instead)')
  try {
    return valueBytes(value)
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

/** a refused kv body: a bad key phrased as `assertKvKey` does, else the first problem */
function refused (kind: 'kv:set' | 'kv:del', input: unknown, problem: SchemaProblem | null): Error {
  if (problem?.field === 'key' && isObject(input)) {
    try { assertKvKey(input.key) } catch (err) { return err as Error }
  }
  const detail = problem == null ? '' : `: ${formatProblem(problem)}`
  return new InvalidOpError(`a ${kind} body is exactly { key${kind === 'kv:set' ? ', value' : ''} }${detail}`)
}

registerOpKind('kv:set', {
  validateBody (body, opBytes) {
    if (!kvSetBody.check(body)) throw refused('kv:set', body, kvSetBody.problem(body))
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
    if (!kvDelBody.check(body)) throw refused('kv:del', body, kvDelBody.problem(body))
  }
})

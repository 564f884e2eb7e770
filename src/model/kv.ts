/**
 * The team's shared key-value state, defined once: its limits, key rules and documents.
 * The API (`paired kv`), the op validator (`kv:set`, `kv:del`) and the CLI import these.
 *
 * Two key rules, on purpose: what a replica accepts in an op (`KvKeySchema`: 1 to 1024
 * UTF-16 code units of well-formed text, the rule every member has always applied) and
 * the stricter one of the API, the only writer (`MAX_KV_KEY_BYTES` UTF-8 bytes, no
 * control characters). A value is any plain JSON of at most `MAX_KV_VALUE_BYTES` by one
 * byte rule (`kvValueBytes`).
 */
import Type from 'typebox'
import { canonicalJsonStrict } from './canonical.js'
import { validator, type Static } from './schema.js'

/** largest value: the UTF-8 bytes of its canonical JSON (`kvValueBytes`) */
export const MAX_KV_VALUE_BYTES = 1024 * 1024
/** longest key a replica accepts, in UTF-16 code units */
export const MAX_KV_KEY_LENGTH = 1024
/** longest key the API takes, in UTF-8 bytes */
export const MAX_KV_KEY_BYTES = 512
/** most entries in one `kv/set-many` batch */
export const MAX_KV_BATCH = 10_000
/** what an API key may not hold: C0, DEL and C1 control characters */
export const KV_KEY_CONTROL = /\p{Cc}/u

/** 1 to 1024 UTF-16 code units, no lone surrogate (no `u` flag: it counts code units) */
export const KV_KEY_PATTERN = new RegExp(`^(?=[\\s\\S]{1,${MAX_KV_KEY_LENGTH}}$)(?:[^\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF])*$`)

/** a key as a replica accepts it */
export const KvKeySchema = Type.String({ pattern: KV_KEY_PATTERN })

/** `kv:set`: set `key` to `value` (any plain JSON, at most `MAX_KV_VALUE_BYTES` encoded) */
export const KvSetBodySchema = Type.Object({ key: KvKeySchema, value: Type.Unknown() }, { additionalProperties: false })
export type KvSetBody = Static<typeof KvSetBodySchema>
export const kvSetBody = validator(KvSetBodySchema)

/** `kv:del`: delete `key` (a tombstone that outranks older sets) */
export const KvDelBodySchema = Type.Object({ key: KvKeySchema }, { additionalProperties: false })
export type KvDelBody = Static<typeof KvDelBodySchema>
export const kvDelBody = validator(KvDelBodySchema)

/** one write of `paired kv set` / `POST kv/set`: the key by the API's rule, any JSON value */
export const KvWriteSchema = Type.Object({
  key: Type.String(),
  /** any JSON value; `paired kv set K V` writes a string */
  value: Type.Unknown()
}, { additionalProperties: false })
export type KvWrite = Static<typeof KvWriteSchema>

/** one entry of the team's shared key-value state (`paired kv`) */
export const KvEntryDocSchema = Type.Object({
  key: Type.String(),
  value: Type.Unknown(),
  /** peer id of the member whose write holds the key */
  updatedBy: Type.String(),
  /** hybrid logical clock of that write, encoded so that it sorts */
  hlc: Type.String()
}, { additionalProperties: false })
export type KvEntryDoc = Static<typeof KvEntryDocSchema>

/**
 * The one byte rule of a kv value: the UTF-8 bytes of its canonical JSON, encoded at the
 * depth it sits at in a `kv:set` body (`body.value`, one level down). Throws the
 * encoder's `CanonicalEncodingError` (a `TypeError`) unless the value is plain JSON.
 */
export function kvValueBytes (value: unknown): number {
  return Buffer.byteLength(canonicalJsonStrict([value]), 'utf8') - 2
}

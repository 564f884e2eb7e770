/**
 * Pieces shared by the wire schemas, and {@link tagged}: a message union told apart by one
 * tag field, checked in two steps so that a problem names the real field (`task.attempt`),
 * not "matches none of the union".
 */
import Type from 'typebox'
import { isObject } from '../../model/guards.js'
import { validator, type SchemaProblem, type Static, type TSchema, type Validator } from '../../model/schema.js'

/** a libp2p peer id as text (an Ed25519 one is 52 characters) */
export const MAX_PEER_ID_CHARS = 128
export const PeerIdSchema = Type.String({ minLength: 1, maxLength: MAX_PEER_ID_CHARS })
/** a non-negative whole number that survives JSON exactly */
export const NaturalSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
/** a whole number from 1 */
export const CountSchema = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
/** ms since the epoch */
export const WallSchema = NaturalSchema
/** an error's words as a peer sends them back */
export const MAX_ERROR_TEXT_CHARS = 4_096
export const WireErrorSchema = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 256 })),
  message: Type.String({ maxLength: MAX_ERROR_TEXT_CHARS })
}, { additionalProperties: false })
/** a JSON object whose fields are checked elsewhere (a signed record, a certificate, a batch) */
export const AnyObjectSchema = Type.Record(Type.String(), Type.Unknown())

/** the type a validator checks for */
export type Checked<V> = V extends Validator<infer T> ? T : never

/**
 * One validator for a union of objects told apart by `tag`: the tag is checked first
 * (`t: must be one of offer, cancel, ...`), then the member's own schema.
 */
export function tagged<M extends Record<string, TSchema>> (tag: string, members: M): Validator<{ [K in keyof M]: Static<M[K]> }[keyof M]> {
  type T = { [K in keyof M]: Static<M[K]> }[keyof M]
  const byTag = new Map<string, Validator<unknown>>(Object.entries(members).map(([k, s]) => [k, validator(s)]))
  const names = [...byTag.keys()].join(', ')
  const pick = (value: unknown): Validator<unknown> | undefined =>
    isObject(value) && typeof value[tag] === 'string' ? byTag.get(value[tag]) : undefined
  const check = (value: unknown): value is T => pick(value)?.check(value) === true
  const problem = (value: unknown): SchemaProblem | null => {
    if (!isObject(value)) return { field: '', message: 'must be object' }
    const v = pick(value)
    if (v === undefined) return { field: tag, message: `must be one of ${names}` }
    return v.problem(value)
  }
  return {
    schema: Type.Union(Object.values(members)),
    check,
    problem,
    parse (value: unknown, toError: (problem: SchemaProblem) => Error): T {
      if (check(value)) return value
      throw toError(problem(value) ?? { field: '', message: 'does not match its schema' })
    }
  }
}

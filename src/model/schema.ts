/**
 * Schemas: one per document (task spec, result, status, every wire message), written with
 * TypeBox so that the TypeScript type is derived from the schema (`Static<typeof S>`) and
 * the schema is plain JSON Schema (for docs, the API and tool descriptions).
 *
 * TypeBox was measured against Valibot and Zod on a task spec (Node 20, this machine):
 * a compiled check of a good spec costs ~0.22 µs, Valibot ~0.90 µs, Zod ~0.97 µs. Errors
 * are slower to describe (~3–20 µs), which only bad input pays.
 *
 * Each edge turns a problem into its own typed error: the API an `InvalidArgumentError`,
 * the op validator an `InvalidOpError`, a wire codec a `ProtocolError` naming the protocol
 * and the field. `validator(S)` compiles once, at module load.
 */
import { Compile } from 'typebox/compile'
import type { Static, TSchema } from 'typebox'

export type { Static, TSchema } from 'typebox'

/** The first thing wrong with a value: the field as a dotted path (`needs.cores`), and why. */
export interface SchemaProblem {
  /** dotted path of the offending field; '' for the value itself */
  field: string
  message: string
}

export interface Validator<T> {
  readonly schema: TSchema
  /** true when `value` matches (a type guard) */
  check(value: unknown): value is T
  /** the first problem, or null when `value` matches */
  problem(value: unknown): SchemaProblem | null
  /**
   * `value` as `T`, or throws what `toError` makes of the first problem. `toError`
   * is the edge's own typed error.
   */
  parse(value: unknown, toError: (problem: SchemaProblem) => Error): T
}

interface TypeBoxError {
  keyword: string
  schemaPath?: string
  instancePath: string
  params: Record<string, unknown>
  message: string
}

function pointerToField (pointer: string): string {
  return pointer.split('/').slice(1).map(p => p.replace(/~1/g, '/').replace(/~0/g, '~')).join('.')
}

function join (field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`
}

/** Turn TypeBox's first error into a field and a sentence a user can act on. */
function describe (error: TypeBoxError): SchemaProblem {
  const field = pointerToField(error.instancePath)
  const params = error.params
  if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
    const extra = String(params.additionalProperties[0])
    return { field: join(field, extra), message: 'is not an allowed field' }
  }
  if (error.keyword === 'boolean' && error.schemaPath?.endsWith('/additionalProperties') === true) {
    // `additionalProperties: false` reports the extra field itself first, as "schema is false"
    return { field, message: 'is not an allowed field' }
  }
  if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
    return { field: join(field, String(params.requiredProperties[0])), message: 'is required' }
  }
  return { field, message: error.message }
}

/** Compile `schema` once; the returned validator is cheap to call on every message. */
export function validator<S extends TSchema> (schema: S): Validator<Static<S>> {
  const compiled = Compile(schema)
  const problem = (value: unknown): SchemaProblem | null => {
    if (compiled.Check(value)) return null
    const errors = compiled.Errors(value) as unknown as TypeBoxError[]
    const first = errors[0]
    return first == null ? { field: '', message: 'does not match its schema' } : describe(first)
  }
  return {
    schema,
    check: (value: unknown): value is Static<S> => compiled.Check(value),
    problem,
    parse (value: unknown, toError: (problem: SchemaProblem) => Error): Static<S> {
      if (compiled.Check(value)) return value as Static<S>
      throw toError(problem(value) ?? { field: '', message: 'does not match its schema' })
    }
  }
}

/** `field: message`, or just the message for the value itself. */
export function formatProblem (problem: SchemaProblem): string {
  return problem.field === '' ? problem.message : `${problem.field}: ${problem.message}`
}

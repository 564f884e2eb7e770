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

type Compiled = ReturnType<typeof Compile>
/** a compiled check per sub-schema, made on the first bad value that reaches it */
const compiledOf = new WeakMap<object, Compiled>()

function compiledFor (schema: TSchema): Compiled {
  let c = compiledOf.get(schema)
  if (c === undefined) {
    c = Compile(schema)
    compiledOf.set(schema, c)
  }
  return c
}

const isRecord = (v: unknown): v is Record<string, unknown> => v != null && typeof v === 'object' && !Array.isArray(v)

/**
 * The first problem of `value` against `schema` (which it fails), found by walking down
 * with compiled checks: each level stops at its first failing member, so a frame of a
 * million bad items costs one pass, not a million error objects (TypeBox's `Errors` lists
 * them all). Only a failing leaf, or a node whose own keywords fail, is described by
 * TypeBox, on that small value.
 */
function locate (schema: TSchema, value: unknown, field: string): SchemaProblem {
  const s = schema as Record<string, unknown>
  if (isRecord(value) && isRecord(s.properties)) {
    const properties = s.properties as Record<string, TSchema>
    for (const key of Array.isArray(s.required) ? s.required as string[] : []) {
      if (!Object.hasOwn(value, key)) return { field: join(field, key), message: 'is required' }
    }
    if (s.additionalProperties === false) {
      for (const key in value) {
        if (Object.hasOwn(value, key) && !Object.hasOwn(properties, key)) return { field: join(field, key), message: 'is not an allowed field' }
      }
    }
    for (const key of Object.keys(properties)) {
      if (Object.hasOwn(value, key) && !compiledFor(properties[key]).Check(value[key])) return locate(properties[key], value[key], join(field, key))
    }
  } else if (isRecord(value) && isRecord(s.patternProperties)) {
    const keys = Object.keys(value)
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) return { field, message: `must have at most ${s.maxProperties} entries` }
    const [pattern, entry] = Object.entries(s.patternProperties as Record<string, TSchema>)[0] ?? []
    const keyPattern = pattern === undefined ? undefined : new RegExp(pattern, 'u')
    for (const key of keys) {
      if (keyPattern !== undefined && !keyPattern.test(key)) return { field: join(field, key), message: 'is not an allowed key' }
      if (entry !== undefined && !compiledFor(entry).Check(value[key])) return locate(entry, value[key], join(field, key))
    }
  } else if (Array.isArray(value) && isRecord(s.items)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) return { field, message: `must have at most ${s.maxItems} items` }
    if (typeof s.minItems === 'number' && value.length < s.minItems) return { field, message: `must have at least ${s.minItems} items` }
    const items = s.items as TSchema
    const check = compiledFor(items)
    for (let i = 0; i < value.length; i++) {
      if (!check.Check(value[i])) return locate(items, value[i], join(field, String(i)))
    }
  } else if (Array.isArray(s.anyOf)) {
    const consts = (s.anyOf as Array<Record<string, unknown>>).map(v => v.const)
    if (consts.every(c => typeof c === 'string' || typeof c === 'number')) return { field, message: `must be one of ${consts.join(', ')}` }
    return { field, message: 'matches none of its allowed forms' }
  }
  // a leaf, or a node whose own keywords (type, size, pattern) fail: TypeBox says why
  const first = (compiledFor(schema).Errors(small(value) ? value : shallow(value as Record<string, unknown> | unknown[])) as unknown as TypeBoxError[])[0]
  if (first === undefined) return { field, message: 'does not match its schema' }
  const inner = describe(first)
  return { field: inner.field === '' ? field : join(field, inner.field), message: inner.message }
}

/** a scalar, or a container of at most 64 members: cheap to describe in full */
function small (value: unknown): boolean {
  if (Array.isArray(value)) return value.length <= 64
  return !isRecord(value) || Object.keys(value).length <= 64
}

/** an object or array with its members emptied: enough for TypeBox to name what is wrong with the container itself */
function shallow (value: Record<string, unknown> | unknown[]): unknown {
  return Array.isArray(value) ? value.length > 0 ? ['…'] : [] : {}
}

/** Compile `schema` once; the returned validator is cheap to call on every message. */
export function validator<S extends TSchema> (schema: S): Validator<Static<S>> {
  const compiled = Compile(schema)
  compiledOf.set(schema, compiled)
  const problem = (value: unknown): SchemaProblem | null => {
    if (compiled.Check(value)) return null
    return locate(schema, value, '')
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

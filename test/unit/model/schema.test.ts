/**
 * `validator(S).problem`: the first thing wrong, as a dotted field and a sentence, found
 * by walking down with compiled checks (so a huge bad frame costs one pass, not one error
 * object per bad member).
 */
import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { formatProblem, validator } from '../../../src/model/schema.js'

const Msg = validator(Type.Object({
  id: Type.Integer({ minimum: 0 }),
  lines: Type.Optional(Type.Array(Type.String({ maxLength: 8 }), { maxItems: 1_000_000 })),
  short: Type.Optional(Type.Array(Type.Integer(), { maxItems: 3 })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 2 })),
  kind: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
  inner: Type.Optional(Type.Object({ at: Type.Integer() }, { additionalProperties: false }))
}, { additionalProperties: false }))

describe('validator problem', () => {
  it('a good value has none; each bad one names its field', () => {
    expect(Msg.problem({ id: 1, lines: ['x'], inner: { at: 2 } })).toBeNull()
    expect(Msg.problem(null)).toEqual({ field: '', message: 'must be object' })
    expect(Msg.problem({})).toEqual({ field: 'id', message: 'is required' })
    expect(Msg.problem({ id: 1, extra: true })).toEqual({ field: 'extra', message: 'is not an allowed field' })
    expect(Msg.problem({ id: -1 })).toEqual({ field: 'id', message: 'must be >= 0' })
    expect(Msg.problem({ id: 1, inner: { at: 'x' } })).toEqual({ field: 'inner.at', message: 'must be integer' })
    expect(Msg.problem({ id: 1, inner: { at: 1, z: 0 } })).toEqual({ field: 'inner.z', message: 'is not an allowed field' })
    expect(Msg.problem({ id: 1, short: [1, 2, 3, 4] })).toEqual({ field: 'short', message: 'must have at most 3 items' })
    expect(Msg.problem({ id: 1, labels: { a: 'x', b: 1 } })).toEqual({ field: 'labels.b', message: 'must be string' })
    expect(Msg.problem({ id: 1, labels: { a: 'x', b: 'y', c: 'z' } })).toEqual({ field: 'labels', message: 'must have at most 2 entries' })
    expect(Msg.problem({ id: 1, kind: 'c' })).toEqual({ field: 'kind', message: 'must be one of a, b' })
    expect(formatProblem({ field: 'inner.at', message: 'must be integer' })).toBe('inner.at: must be integer')
  })

  it('in a million bad members, names the first one', () => {
    const lines: unknown[] = Array.from({ length: 1_000_000 }, () => 'ok')
    lines[123_456] = 42
    lines[123_457] = 'far too long'
    expect(Msg.problem({ id: 1, lines })).toEqual({ field: 'lines.123456', message: 'must be string' })
    expect(Msg.problem({ id: 1, lines: Array.from({ length: 1_000_000 }, () => 7) })).toEqual({ field: 'lines.0', message: 'must be string' })
  })
})

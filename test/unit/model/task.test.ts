import { describe, expect, it } from 'vitest'
import { kvValueBytes } from '../../../src/model/kv.js'
import { MAX_TASK_INPUT_BYTES, normalizeSubmit, submitDefaults, taskInputBytes } from '../../../src/model/task.js'
import { InvalidOpError, validateOp } from '../../../src/state/ops/index.js'

const AUTHOR = '12D3KooWModelAuthor'
const op = (kind: string, body: unknown): unknown => ({ author: AUTHOR, seq: 1, hlc: { wall: 1, logical: 0, node: AUTHOR }, kind, body })
const refusal = (kind: string, body: unknown): string => {
  try {
    validateOp(op(kind, body))
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOpError)
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('the task model', () => {
  it('submitDefaults: null is "not given" except for input; input null and priority normal by default', () => {
    expect(submitDefaults({ agent: 'a' })).toStrictEqual({ agent: 'a', input: null, priority: 'normal' })
    expect(submitDefaults({ agent: 'a', input: null, labels: null, needs: { cores: null, memMb: 4, gpus: null } }))
      .toStrictEqual({ agent: 'a', input: null, needs: { memMb: 4, gpus: null }, priority: 'normal' })
    expect(submitDefaults('echo')).toBe('echo')
  })

  it('normalizeSubmit leaves out what equals a default', () => {
    expect(normalizeSubmit({ agent: 'a', labels: {}, needs: {}, replicas: 1 })).toStrictEqual({ agent: 'a', input: null, priority: 'normal' })
    expect(normalizeSubmit({ agent: 'a', input: 0, priority: 'low', labels: { os: 'linux' }, needs: { cores: 1 }, timeoutMs: 5, retries: 0, replicas: 3 }))
      .toStrictEqual({ agent: 'a', input: 0, priority: 'low', labels: { os: 'linux' }, needs: { cores: 1 }, timeoutMs: 5, retries: 0, replicas: 3 })
  })

  it('one byte rule: the UTF-8 bytes of the canonical JSON; plain JSON only', () => {
    expect(taskInputBytes('é')).toBe(4)
    expect(taskInputBytes({ b: [1, null], a: 'x' })).toBe(JSON.stringify({ a: 'x', b: [1, null] }).length)
    expect(taskInputBytes('x'.repeat(MAX_TASK_INPUT_BYTES - 2))).toBe(MAX_TASK_INPUT_BYTES)
    expect(kvValueBytes({ a: [1, null] })).toBe(14)
    expect(() => taskInputBytes(Number.NaN)).toThrow(TypeError)
    expect(() => kvValueBytes(new Date(0))).toThrow(TypeError)
  })

  it('the op validator names the field it refuses', () => {
    const spec = { agent: 'a', input: null, priority: 'low' }
    expect(refusal('task:create', { taskId: 't', spec: { ...spec, shell: true } })).toBe('a task:create body: spec.shell: is not an allowed field')
    expect(refusal('task:create', { taskId: 't', spec: { ...spec, replicas: 8 } })).toMatch(/^a task:create body: spec\.replicas: /)
    expect(refusal('task:create', { taskId: 't' })).toMatch(/^a task:create body: spec/)
    expect(refusal('task:lease', { taskId: 't', attempt: 1, expiresWall: -1 })).toMatch(/^a task:lease body: expiresWall: /)
    expect(refusal('task:result', { taskId: 't', attempt: 1, exitCode: 0, outputHash: 'a'.repeat(64), reason: 'exit' })).toMatch(/failed result only/)
    expect(refusal('task:result', { taskId: 't', attempt: 1, exitCode: 1, outputHash: 'a'.repeat(64), receipt: [] })).toMatch(/receipt/)
    expect(refusal('kv:set', { key: '\ud800', value: 1 })).toMatch(/well-formed/)
    expect(refusal('kv:set', { key: 'k' })).toMatch(/^a kv:set body is exactly \{ key, value \}/)
    expect(refusal('kv:del', { key: 'k', value: 1 })).toMatch(/^a kv:del body is exactly \{ key \}/)
  })

  it('a failed result may carry its reason; the proofs are objects', () => {
    expect(() => validateOp(op('task:result', { taskId: 't', attempt: 1, exitCode: 1, outputHash: 'a'.repeat(64), reason: 'timeout', receipt: {}, grant: { x: 1 } }))).not.toThrow()
  })
})

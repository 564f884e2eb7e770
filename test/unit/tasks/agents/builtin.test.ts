import { createHash } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import { createEchoAgent, createSleepAgent } from '../../../../src/tasks/agents/index.js'
import { canonicalJson } from '../../../../src/team/canonical.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

describe('echo agent', () => {
  it('answers its input, hashed as sha256(canonicalJson(output))', async () => {
    const echo = createEchoAgent()
    const input = { z: [1, 'two', null, { b: true, a: -0.5 }], a: 'ünïcødé' }
    const onStart = vi.fn()
    const outcome = await echo.run({ input, onStart })
    expect(outcome.exitCode).toBe(0)
    expect(outcome.output).toEqual(input)
    expect(outcome.output).not.toBe(input)
    expect(outcome.outputHash).toBe(sha256(canonicalJson(input)))
    expect(outcome.reason).toBeUndefined()
    expect(outcome.error).toBeUndefined()
    expect(outcome.pid).toBeUndefined()
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0)
    expect(onStart).toHaveBeenCalledOnce()
    expect(onStart).toHaveBeenCalledWith({})
    expect(echo).toMatchObject({ name: 'echo', kind: 'builtin', timeoutMs: 3_600_000 })
    expect(echo.slots).toBeUndefined()
  })

  it('echoes plain values too', async () => {
    for (const input of [null, 0, 'text', [], {}, true]) {
      const outcome = await createEchoAgent().run({ input })
      expect(outcome.output).toEqual(input)
      expect(outcome.outputHash).toBe(sha256(JSON.stringify(input)))
    }
  })

  it('refuses input that is not JSON with exit code 2', async () => {
    for (const input of [undefined, 1n, Number.NaN, new Map(), [undefined], () => 1]) {
      const onStart = vi.fn()
      const outcome = await createEchoAgent().run({ input, onStart })
      expect(outcome, String(input)).toMatchObject({ exitCode: 2, reason: 'invalid-input', output: null })
      expect(outcome.error).toMatch(/^echo input must be a JSON value/)
      expect(outcome.outputHash).toBe(sha256('null'))
      expect(onStart).not.toHaveBeenCalled()
    }
  })

  it('does not start when already cancelled', async () => {
    const outcome = await createEchoAgent().run({ input: 1, signal: AbortSignal.abort() })
    expect(outcome).toMatchObject({ exitCode: 130, reason: 'cancelled', error: 'cancelled' })
  })
})

describe('sleep agent', () => {
  it('waits, then answers how long', async () => {
    const sleep = createSleepAgent()
    const outcome = await sleep.run({ input: { ms: 60 } })
    expect(outcome).toMatchObject({ exitCode: 0, output: { slept: 60 } })
    expect(outcome.outputHash).toBe(sha256('{"slept":60}'))
    expect(outcome.durationMs).toBeGreaterThanOrEqual(50)
    expect((await sleep.run({ input: { ms: 0 } })).output).toEqual({ slept: 0 })
  })

  it('refuses bad input with exit code 2 and a clear error', async () => {
    const sleep = createSleepAgent()
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /got nothing/],
      [null, /got null/],
      [5, /got 5/],
      ['5s', /got "5s"/],
      [[5], /got an array/],
      [{}, /got "ms": nothing/],
      [{ ms: -1 }, /got "ms": -1/],
      [{ ms: 1.5 }, /got "ms": 1.5/],
      [{ ms: '10' }, /got "ms": "10"/],
      [{ ms: 86_400_001 }, /got "ms": 86400001/],
      [{ ms: 10, extra: 1 }, /unknown key "extra"/],
      [{ ms: 1n }, /got "ms": a value of type bigint/]
    ]
    for (const [input, message] of cases) {
      const outcome = await sleep.run({ input })
      expect(outcome, String(message)).toMatchObject({ exitCode: 2, reason: 'invalid-input', output: null })
      expect(outcome.error).toMatch(/^sleep input must be \{"ms": <integer from 0 to 86400000>\}/)
      expect(outcome.error).toMatch(message)
    }
  })

  it('stops early when cancelled', async () => {
    const controller = new AbortController()
    const running = createSleepAgent().run({ input: { ms: 60_000 }, signal: controller.signal, onStart: () => { setTimeout(() => { controller.abort() }, 30) } })
    const outcome = await running
    expect(outcome).toMatchObject({ exitCode: 130, reason: 'cancelled', error: 'cancelled', output: null })
    expect(outcome.durationMs).toBeLessThan(10_000)
  })

  it('stops at its timeout: the run option first, else its own', async () => {
    const outcome = await createSleepAgent().run({ input: { ms: 60_000 }, timeoutMs: 40 })
    expect(outcome).toMatchObject({ exitCode: 124, reason: 'timeout', error: 'timed out after 40ms', output: null })
    const own = await createSleepAgent(30).run({ input: { ms: 60_000 } })
    expect(own).toMatchObject({ exitCode: 124, error: 'timed out after 30ms' })
    // a nonsense override falls back to the agent's timeout
    const fallback = await createSleepAgent(30).run({ input: { ms: 60_000 }, timeoutMs: -5 })
    expect(fallback).toMatchObject({ exitCode: 124, error: 'timed out after 30ms' })
  })

  it('a hook that throws does not break the run', async () => {
    const outcome = await createSleepAgent().run({ input: { ms: 1 }, onStart: () => { throw new Error('boom') } })
    expect(outcome.exitCode).toBe(0)
  })
})

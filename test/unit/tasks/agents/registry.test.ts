import { describe, expect, it } from 'vitest'
import {
  AgentNotServedError, AgentRegistry, defaultAgentsConfig, notServed, parseAgentsConfig
} from '../../../../src/tasks/agents/index.js'

describe('agent registry', () => {
  it('serves echo and sleep by default, and no shell', () => {
    const registry = new AgentRegistry(defaultAgentsConfig())
    expect(registry.names()).toEqual(['echo', 'sleep'])
    expect(registry.get('shell')).toBeUndefined()
    expect(registry.has('shell')).toBe(false)
    expect(registry.has('echo')).toBe(true)
    expect(registry.get('echo')).toMatchObject({ name: 'echo', kind: 'builtin', timeoutMs: 3_600_000 })
    expect(registry.get('nope')).toBeUndefined()
    expect(registry.get('__proto__')).toBeUndefined()
  })

  it('builds what the config enables, names sorted', () => {
    const registry = new AgentRegistry(parseAgentsConfig({
      test: { command: ['npm', 'test'], slots: 1, timeout: '5m' },
      build: { command: ['make'] },
      echo: { enabled: false },
      sleep: { timeout: '1s' },
      shell: { enabled: true, timeout: '30s' }
    }, 'config.json'))
    expect(registry.names()).toEqual(['build', 'shell', 'sleep', 'test'])
    expect(registry.get('test')).toMatchObject({ name: 'test', kind: 'command', slots: 1, timeoutMs: 300_000 })
    expect(registry.get('build')?.slots).toBeUndefined()
    expect(registry.get('shell')).toMatchObject({ name: 'shell', kind: 'shell', timeoutMs: 30_000 })
    expect(registry.get('sleep')?.timeoutMs).toBe(1000)
    expect(registry.get('echo')).toBeUndefined()
  })

  it('the shell agent, once enabled, runs a script with /bin/sh', async () => {
    const registry = new AgentRegistry(parseAgentsConfig({ shell: { enabled: true } }, 'config.json'))
    const shell = registry.get('shell')!
    const hi = await shell.run({ input: { script: 'echo hi' } })
    expect(hi).toMatchObject({ exitCode: 0, output: 'hi\n' })
    expect(hi.pid).toBeGreaterThan(0)
    expect((await shell.run({ input: { script: 'echo \'{"n": 1}\'; echo oops >&2; exit 0' } })).output).toEqual({ n: 1 })
    expect(await shell.run({ input: { script: 'exit 7' } })).toMatchObject({ exitCode: 7, reason: 'exit' })
    // stdin is closed: a script that reads it ends at once
    expect(await shell.run({ input: { script: 'cat; echo end' }, timeoutMs: 5000 })).toMatchObject({ exitCode: 0, output: 'end\n' })
    expect(await shell.run({ input: { script: 'sleep 30' }, timeoutMs: 100 })).toMatchObject({ exitCode: 124, reason: 'timeout' })
  })

  it('the shell agent refuses input without a script', async () => {
    const shell = new AgentRegistry(parseAgentsConfig({ shell: { enabled: true } }, 'config.json')).get('shell')!
    for (const input of ['echo hi', null, {}, { script: '' }, { script: 1 }, { script: 'ls', cwd: '/' }, { script: 'a'.repeat(70_000) }]) {
      const outcome = await shell.run({ input })
      expect(outcome, JSON.stringify(input).slice(0, 40)).toMatchObject({ exitCode: 2, reason: 'invalid-input', output: '' })
      expect(outcome.error).toMatch(/^shell (input must be \{"script": "<shell commands>"\}|script is longer)/)
    }
  })

  it('notServed explains a disabled built-in or lists what is served', () => {
    const registry = new AgentRegistry(defaultAgentsConfig())
    const shell = notServed(registry, 'shell')
    expect(shell).toBeInstanceOf(AgentNotServedError)
    expect(shell.name).toBe('AgentNotServedError')
    expect(shell.message).toBe('agent "shell" is disabled on this machine (enable it with "agents": {"shell": {"enabled": true}})')
    expect(notServed(registry, 'x').message).toBe('no agent "x" here; this machine serves: echo, sleep')
    const none = new AgentRegistry(parseAgentsConfig({ echo: { enabled: false }, sleep: { enabled: false } }, 'config.json'))
    expect(notServed(none, 'echo').message).toMatch(/^agent "echo" is disabled on this machine/)
    expect(notServed(none, 'x').message).toBe('no agent "x" here; this machine serves no agents')
  })
})

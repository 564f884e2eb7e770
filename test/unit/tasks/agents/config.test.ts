import { describe, expect, it } from 'vitest'
import { InvalidConfigError } from '../../../../src/errors.js'
import { defaultAgentsConfig, parseAgentsConfig } from '../../../../src/tasks/agents/index.js'

describe('agents config', () => {
  it('defaults: echo and sleep on, shell off, no commands', () => {
    const expected = {
      echo: { enabled: true },
      sleep: { enabled: true },
      shell: { enabled: false, timeoutMs: 600_000 },
      commands: {}
    }
    expect(defaultAgentsConfig()).toEqual(expected)
    expect(parseAgentsConfig(undefined, 'config.json')).toEqual(expected)
    expect(parseAgentsConfig({}, 'config.json')).toEqual(expected)
  })

  it('reads the documented example', () => {
    const config = parseAgentsConfig({
      test: { command: ['npm', 'test'], cwd: '/repo', env: { CI: '1' }, timeout: '10m', slots: 1, maxOutputBytes: 1048576 },
      lint: { command: ['npm', 'run', 'lint'] },
      shell: { enabled: true, timeout: '1m' },
      echo: { enabled: false },
      sleep: { timeout: '2h' }
    }, 'config.json')
    expect(config).toEqual({
      echo: { enabled: false },
      sleep: { enabled: true, timeoutMs: 7_200_000 },
      shell: { enabled: true, timeoutMs: 60_000 },
      commands: {
        test: { command: ['npm', 'test'], cwd: '/repo', env: { CI: '1' }, timeoutMs: 600_000, slots: 1, maxOutputBytes: 1048576 },
        lint: { command: ['npm', 'run', 'lint'], timeoutMs: 600_000, maxOutputBytes: 1048576 }
      }
    })
  })

  it('reads every timeout spelling', () => {
    const timeoutOf = (timeout: unknown): number => parseAgentsConfig({ t: { command: ['x'], timeout } }, 'config.json').commands.t.timeoutMs
    expect(timeoutOf('500ms')).toBe(500)
    expect(timeoutOf('10s')).toBe(10_000)
    expect(timeoutOf('10m')).toBe(600_000)
    expect(timeoutOf('1h')).toBe(3_600_000)
    expect(timeoutOf(1500)).toBe(1500)
  })

  it('accepts names of a-z, 0-9, ".", "_" and "-"', () => {
    const names = ['a', '0', 'test.unit', 'build_x', 'e2e-linux', 'a'.repeat(64)]
    const config = parseAgentsConfig(Object.fromEntries(names.map(n => [n, { command: ['x'] }])), 'config.json')
    expect(Object.keys(config.commands).sort()).toEqual([...names].sort())
  })

  it('names the bad key', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /^config.json: config key "agents" must be an object/],
      [{ test: { command: [] } }, /^config.json: config key "agents.test.command" must be a non-empty list of strings$/],
      [{ test: { command: 'npm test' } }, /"agents.test.command" must be a non-empty list of strings/],
      [{ test: { command: ['npm', 1] } }, /"agents.test.command" must be a non-empty list of strings/],
      [{ test: { command: [''] } }, /"agents.test.command" must be a non-empty list of strings/],
      [{ test: {} }, /"agents.test.command" must be a non-empty list of strings/],
      [{ test: 'npm test' }, /"agents.test" must be an object/],
      [{ test: { command: ['x'], cwd: 'relative/dir' } }, /"agents.test.cwd" must be an absolute path/],
      [{ test: { command: ['x'], env: { A: 1 } } }, /"agents.test.env.A" must be a string/],
      [{ test: { command: ['x'], env: { 'A=B': 'c' } } }, /"agents.test.env.A=B" is not a valid variable name/],
      [{ test: { command: ['x'], env: ['A'] } }, /"agents.test.env" must be an object of strings/],
      [{ test: { command: ['x'], timeout: '10 minutes' } }, /"agents.test.timeout" must be a duration like "500ms", "10s", "10m" or "1h"/],
      [{ test: { command: ['x'], timeout: -1 } }, /"agents.test.timeout" must be a duration/],
      [{ test: { command: ['x'], timeout: 0 } }, /"agents.test.timeout" must be from 1ms to 7 days/],
      [{ test: { command: ['x'], timeout: '30d' } }, /"agents.test.timeout" must be from 1ms to 7 days/],
      [{ test: { command: ['x'], timeout: true } }, /"agents.test.timeout" must be a duration/],
      [{ test: { command: ['x'], slots: 0 } }, /"agents.test.slots" must be an integer from 1 to 1024/],
      [{ test: { command: ['x'], slots: 1.5 } }, /"agents.test.slots" must be an integer/],
      [{ test: { command: ['x'], maxOutputBytes: '1MB' } }, /"agents.test.maxOutputBytes" must be an integer from 1 to 67108864/],
      [{ test: { command: ['x'], shell: true } }, /unknown config key "agents.test.shell"/],
      [{ Test: { command: ['x'] } }, /"agents.Test" is not a valid agent name/],
      [{ '-x': { command: ['x'] } }, /"agents.-x" is not a valid agent name/],
      [{ 'a b': { command: ['x'] } }, /"agents.a b" is not a valid agent name/],
      [{ ['a'.repeat(65)]: { command: ['x'] } }, /is not a valid agent name/],
      [{ shell: { enabled: 'yes' } }, /"agents.shell.enabled" must be true or false/],
      [{ shell: { enabled: true, timeout: 'soon' } }, /"agents.shell.timeout" must be a duration/],
      [{ shell: { command: ['bash'] } }, /"agents.shell.command" is not allowed: "shell" is a built-in agent and takes only "enabled" and "timeout"/],
      [{ echo: { command: ['cat'] } }, /"agents.echo.command" is not allowed/],
      [{ sleep: { slots: 2 } }, /"agents.sleep.slots" is not allowed/],
      [{ echo: true }, /"agents.echo" must be an object/]
    ]
    for (const [raw, message] of bad) {
      const parse = (): unknown => parseAgentsConfig(raw, 'config.json')
      expect(parse, message.source).toThrow(InvalidConfigError)
      expect(parse, message.source).toThrow(message)
    }
  })

  it('does not keep references to its input', () => {
    const raw = { test: { command: ['npm', 'test'], env: { CI: '1' } } }
    const config = parseAgentsConfig(raw, 'config.json')
    raw.test.command.push('--watch')
    raw.test.env.CI = '0'
    expect(config.commands.test).toMatchObject({ command: ['npm', 'test'], env: { CI: '1' } })
  })
})

/**
 * The `agents` section of `config.json`, validated. Pure: no I/O.
 *
 * ```json
 * "agents": {
 *   "test": { "command": ["npm", "test"], "cwd": "/repo", "env": { "CI": "1" }, "timeout": "10m", "slots": 1, "maxOutputBytes": 1048576 },
 *   "shell": { "enabled": true, "timeout": "1m" },
 *   "echo": { "enabled": false }
 * }
 * ```
 */
import { isAbsolute } from 'node:path'
import { parseDuration } from '../../model/duration.js'
import { InvalidConfigError } from '../../errors.js'
import {
  DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_SHELL_TIMEOUT_MS, MAX_AGENT_SLOTS,
  MAX_OUTPUT_BYTES_LIMIT, MAX_TIMEOUT_MS, RESERVED_AGENT_NAMES
} from './constants.js'
import type { AgentsConfig, CommandAgentConfig } from './types.js'
import { isObject } from '../../model/guards.js'
import { AGENT_NAME_PATTERN } from '../../model/task.js'

/** echo and sleep on, shell off, no command agents */
export function defaultAgentsConfig (): AgentsConfig {
  return {
    echo: { enabled: true },
    sleep: { enabled: true },
    shell: { enabled: false, timeoutMs: DEFAULT_SHELL_TIMEOUT_MS },
    commands: {}
  }
}

const BUILTIN_KEYS = new Set(['enabled', 'timeout'])
const COMMAND_KEYS = new Set(['command', 'cwd', 'env', 'timeout', 'slots', 'maxOutputBytes'])

/** a key for an error message: printable and short, whatever the file holds */
function showKey (key: string): string {
  const shown = JSON.stringify(key).slice(1, -1)
  return shown.length > 80 ? `${shown.slice(0, 80)}...` : shown
}

/** `<source>: config key "<key>" <why>` */
function configError (source: string, key: string, why: string): InvalidConfigError {
  return new InvalidConfigError(`${source}: config key "${key}" ${why}`)
}

/** Milliseconds of a `timeout` value: a duration string or a number of ms. */
function parseTimeout (source: string, key: string, value: unknown): number {
  let ms: number
  try {
    if (typeof value !== 'string' && typeof value !== 'number') throw new TypeError('not a duration')
    ms = parseDuration(value)
  } catch {
    throw configError(source, key, 'must be a duration like "500ms", "10s", "10m" or "1h", or a number of milliseconds')
  }
  if (ms < 1 || ms > MAX_TIMEOUT_MS) throw configError(source, key, `must be from 1ms to ${MAX_TIMEOUT_MS / 86_400_000} days`)
  return ms
}

function parseInteger (source: string, key: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw configError(source, key, `must be an integer from 1 to ${max}`)
  }
  return value
}

/**
 * Validate the `agents` object of `config.json` (`undefined` gives the defaults).
 * Throws `InvalidConfigError` naming the bad key, prefixed with `source`.
 */
export function parseAgentsConfig (raw: unknown, source: string): AgentsConfig {
  const config = defaultAgentsConfig()
  if (raw === undefined) return config
  if (!isObject(raw)) throw configError(source, 'agents', 'must be an object of agents by name')

  for (const [name, value] of Object.entries(raw)) {
    const key = `agents.${showKey(name)}`
    if (!isObject(value)) throw configError(source, key, 'must be an object')

    if (RESERVED_AGENT_NAMES.includes(name)) {
      for (const k of Object.keys(value)) {
        if (!BUILTIN_KEYS.has(k)) {
          throw configError(source, `${key}.${showKey(k)}`, `is not allowed: "${name}" is a built-in agent and takes only "enabled" and "timeout"`)
        }
      }
      const builtin = name as 'echo' | 'sleep' | 'shell'
      if (value.enabled !== undefined) {
        if (typeof value.enabled !== 'boolean') throw configError(source, `${key}.enabled`, 'must be true or false')
        config[builtin].enabled = value.enabled
      }
      if (value.timeout !== undefined) config[builtin].timeoutMs = parseTimeout(source, `${key}.timeout`, value.timeout)
      continue
    }

    if (!AGENT_NAME_PATTERN.test(name)) {
      throw configError(source, key, 'is not a valid agent name: use 1 to 64 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit')
    }
    config.commands[name] = parseCommand(source, key, value)
  }
  return config
}

function parseCommand (source: string, key: string, value: Record<string, unknown>): CommandAgentConfig {
  for (const k of Object.keys(value)) {
    if (!COMMAND_KEYS.has(k)) throw new InvalidConfigError(`${source}: unknown config key "${key}.${showKey(k)}"`)
  }
  const command = value.command
  if (!Array.isArray(command) || command.length === 0 || command[0] === '' ||
      !command.every((arg): arg is string => typeof arg === 'string' && !arg.includes('\0'))) {
    throw configError(source, `${key}.command`, 'must be a non-empty list of strings')
  }
  const out: CommandAgentConfig = {
    command: [...command],
    timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS,
    maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES
  }
  if (value.cwd !== undefined) {
    const cwd = value.cwd
    if (typeof cwd !== 'string' || !isAbsolute(cwd) || cwd.includes('\0')) throw configError(source, `${key}.cwd`, 'must be an absolute path')
    out.cwd = cwd
  }
  if (value.env !== undefined) {
    const env = value.env
    if (!isObject(env)) throw configError(source, `${key}.env`, 'must be an object of strings')
    out.env = {}
    for (const [name, v] of Object.entries(env)) {
      const envKey = `${key}.env.${showKey(name)}`
      if (name === '' || name.includes('=') || name.includes('\0')) throw configError(source, envKey, 'is not a valid variable name')
      if (typeof v !== 'string' || v.includes('\0')) throw configError(source, envKey, 'must be a string')
      out.env[name] = v
    }
  }
  if (value.timeout !== undefined) out.timeoutMs = parseTimeout(source, `${key}.timeout`, value.timeout)
  if (value.slots !== undefined) out.slots = parseInteger(source, `${key}.slots`, value.slots, MAX_AGENT_SLOTS)
  if (value.maxOutputBytes !== undefined) {
    out.maxOutputBytes = parseInteger(source, `${key}.maxOutputBytes`, value.maxOutputBytes, MAX_OUTPUT_BYTES_LIMIT)
  }
  return out
}

/**
 * Config = defaults, then `config.json`, then environment, then flags, merged by one pure
 * function and validated with errors that name the bad key.
 */
import { availableParallelism, hostname } from 'node:os'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidConfigError } from '../errors.js'
import { defaultAgentsConfig, parseAgentsConfig, type AgentsConfig } from '../tasks/agents/index.js'
import { parseDuration } from '../model/duration.js'
import { TASK_PRIORITIES } from '../model/task.js'

export interface PairedConfig {
  /** the name teammates see; @default the host name */
  name: string
  /** @default ['/ip4/0.0.0.0/tcp/4801', '/ip6/::/tcp/4801'] */
  listen: string[]
  /** addresses to dial at start (with `/p2p/<id>`), besides remembered peers */
  bootstrap: string[]
  /** @default '127.0.0.1': anything else is logged as a warning */
  apiHost: string
  /** @default 4802; 0 picks a free port */
  apiPort: number
  /** tasks this machine runs at once; @default the number of cores */
  slots: number
  /** free-form labels tasks can ask for (`os=linux`, `gpu=none`); @default {} */
  labels: Record<string, string>
  mdns: {
    /** @default true */
    enabled: boolean
    /** @default 10000 */
    intervalMs: number
  }
  /** the agents this machine runs: built-in echo and sleep, shell (off), configured commands */
  agents: AgentsConfig
  tasks: TasksConfig
  reputation: {
    /** below this score a peer is quarantined (no offers). @default 0.3 */
    quarantineThreshold: number
    /** first quarantine length; doubles with each relapse. @default 10 minutes */
    coolOffMs: number
  }
}

export type TaskPriorityName = 'critical' | 'high' | 'normal' | 'low'

export interface TasksConfig {
  /** a lease lasts this long unless renewed. @default 10 s */
  leaseMs: number
  /** the highest priority each role may submit. @default admin critical, member high, guest normal */
  maxPriority: { admin: TaskPriorityName, member: TaskPriorityName, guest: TaskPriorityName }
  /** take no new work while on battery. @default false */
  pauseOnBattery: boolean
  /**
   * replicate a task placed on a machine that has not earned trust yet (10 good results in
   * a row) on a second one, and commit only an output both agree on. @default false
   */
  adaptiveReplicas: boolean
  /** take new work only within these local hours, e.g. "09:00-18:00" (may wrap midnight). @default null: always */
  workHours: string | null
}

const PRIORITY_NAMES: readonly TaskPriorityName[] = TASK_PRIORITIES
const WORK_HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/

export function defaultTasksConfig (): TasksConfig {
  return { leaseMs: 10_000, maxPriority: { admin: 'critical', member: 'high', guest: 'normal' }, pauseOnBattery: false, adaptiveReplicas: false, workHours: null }
}

/** whether `now` (local time) is within `hours` ("HH:MM-HH:MM", wrapping midnight when the end is earlier) */
export function withinWorkHours (hours: string | null, now = new Date()): boolean {
  if (hours === null) return true
  const m = WORK_HOURS.exec(hours)
  if (m === null) return true
  const start = Number(m[1]) * 60 + Number(m[2])
  const end = Number(m[3]) * 60 + Number(m[4])
  const at = now.getHours() * 60 + now.getMinutes()
  return start <= end ? at >= start && at < end : at >= start || at < end
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4801', '/ip6/::/tcp/4801']
export const DEFAULT_API_PORT = 4802

export function defaultConfig (): PairedConfig {
  return {
    name: hostname(),
    listen: [...DEFAULT_LISTEN],
    bootstrap: [],
    apiHost: '127.0.0.1',
    apiPort: DEFAULT_API_PORT,
    slots: availableParallelism(),
    labels: {},
    mdns: { enabled: true, intervalMs: 10_000 },
    agents: defaultAgentsConfig(),
    tasks: defaultTasksConfig(),
    reputation: { quarantineThreshold: 0.3, coolOffMs: 10 * 60_000 }
  }
}

/** a partial config as it may appear in a layer */
export type ConfigLayer = Partial<Omit<PairedConfig, 'mdns' | 'tasks' | 'reputation'>> & {
  mdns?: Partial<PairedConfig['mdns']>
  tasks?: Partial<TasksConfig>
  reputation?: Partial<PairedConfig['reputation']>
}

const KEYS = new Set(['name', 'listen', 'bootstrap', 'apiHost', 'apiPort', 'slots', 'labels', 'mdns', 'agents', 'tasks', 'reputation'])
const TASKS_KEYS = new Set(['leaseMs', 'lease', 'maxPriority', 'pauseOnBattery', 'adaptiveReplicas', 'workHours'])
const REPUTATION_KEYS = new Set(['quarantineThreshold', 'coolOffMs', 'coolOff'])

function objectOf (source: string, key: string, value: unknown, allowed: Set<string>): Record<string, unknown> {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidConfigError(`${source}: config key "${key}" must be an object`)
  for (const k of Object.keys(value)) {
    if (!allowed.has(k)) throw new InvalidConfigError(`${source}: unknown config key "${key}.${k}"`)
  }
  return value as Record<string, unknown>
}

function durationOf (source: string, key: string, value: unknown, minMs: number): number {
  let ms: number
  if (typeof value === 'number') ms = value
  else if (typeof value === 'string') {
    try { ms = parseDuration(value) } catch { ms = NaN }
  } else ms = NaN
  if (!Number.isInteger(ms) || ms < minMs) throw new InvalidConfigError(`${source}: config key "${key}" must be a duration of at least ${minMs} ms ("10s", "2m" or milliseconds)`)
  return ms
}

function validateTasks (source: string, value: unknown): Partial<TasksConfig> {
  const t = objectOf(source, 'tasks', value, TASKS_KEYS)
  const out: Partial<TasksConfig> = {}
  if (t.leaseMs !== undefined) out.leaseMs = durationOf(source, 'tasks.leaseMs', t.leaseMs, 500)
  if (t.lease !== undefined) out.leaseMs = durationOf(source, 'tasks.lease', t.lease, 500)
  if (t.maxPriority !== undefined) {
    const mp = objectOf(source, 'tasks.maxPriority', t.maxPriority, new Set(['admin', 'member', 'guest']))
    const d = defaultTasksConfig().maxPriority
    for (const [role, p] of Object.entries(mp)) {
      if (!PRIORITY_NAMES.includes(p as TaskPriorityName)) throw new InvalidConfigError(`${source}: config key "tasks.maxPriority.${role}" must be one of ${PRIORITY_NAMES.join(', ')}`)
    }
    out.maxPriority = { ...d, ...(mp as Partial<TasksConfig['maxPriority']>) }
  }
  if (t.pauseOnBattery !== undefined) {
    if (typeof t.pauseOnBattery !== 'boolean') throw new InvalidConfigError(`${source}: config key "tasks.pauseOnBattery" must be true or false`)
    out.pauseOnBattery = t.pauseOnBattery
  }
  if (t.adaptiveReplicas !== undefined) {
    if (typeof t.adaptiveReplicas !== 'boolean') throw new InvalidConfigError(`${source}: config key "tasks.adaptiveReplicas" must be true or false`)
    out.adaptiveReplicas = t.adaptiveReplicas
  }
  if (t.workHours !== undefined) {
    if (t.workHours !== null && (typeof t.workHours !== 'string' || !WORK_HOURS.test(t.workHours))) {
      throw new InvalidConfigError(`${source}: config key "tasks.workHours" must be "HH:MM-HH:MM" (24-hour local time) or null`)
    }
    out.workHours = t.workHours
  }
  return out
}

function validateReputation (source: string, value: unknown): Partial<PairedConfig['reputation']> {
  const r = objectOf(source, 'reputation', value, REPUTATION_KEYS)
  const out: Partial<PairedConfig['reputation']> = {}
  if (r.quarantineThreshold !== undefined) {
    const q = r.quarantineThreshold
    if (typeof q !== 'number' || !(q >= 0 && q < 1)) throw new InvalidConfigError(`${source}: config key "reputation.quarantineThreshold" must be a number in [0, 1)`)
    out.quarantineThreshold = q
  }
  if (r.coolOffMs !== undefined) out.coolOffMs = durationOf(source, 'reputation.coolOffMs', r.coolOffMs, 100)
  if (r.coolOff !== undefined) out.coolOffMs = durationOf(source, 'reputation.coolOff', r.coolOff, 100)
  return out
}
const MDNS_KEYS = new Set(['enabled', 'intervalMs'])

function checkMultiaddrs (key: string, value: unknown, needPeerId: boolean): string[] {
  if (!Array.isArray(value)) throw new InvalidConfigError(`config key "${key}" must be a list of multiaddrs`)
  return value.map((v, i) => {
    if (typeof v !== 'string') throw new InvalidConfigError(`config key "${key}[${i}]" must be a string`)
    try {
      const ma = multiaddr(v)
      if (needPeerId && ma.getComponents().find(c => c.name === 'p2p') == null) {
        throw new Error('it has no /p2p/<peer id>')
      }
    } catch (err) {
      throw new InvalidConfigError(`config key "${key}[${i}]" is not a valid multiaddr: ${v} (${(err as Error).message})`)
    }
    return v
  })
}

/** Validate one layer (from a file, env or flags); `source` names it in errors. */
export function validateLayer (layer: unknown, source: string): ConfigLayer {
  if (layer == null || typeof layer !== 'object' || Array.isArray(layer)) {
    throw new InvalidConfigError(`${source} must be a JSON object`)
  }
  const input = layer as Record<string, unknown>
  const out: ConfigLayer = {}
  for (const key of Object.keys(input)) {
    if (!KEYS.has(key)) throw new InvalidConfigError(`${source}: unknown config key "${key}"`)
  }
  if (input.name !== undefined) {
    if (typeof input.name !== 'string' || input.name.length < 1 || input.name.length > 64) {
      throw new InvalidConfigError(`${source}: config key "name" must be a string of 1 to 64 characters`)
    }
    out.name = input.name
  }
  if (input.listen !== undefined) out.listen = checkMultiaddrs('listen', input.listen, false)
  if (input.bootstrap !== undefined) out.bootstrap = checkMultiaddrs('bootstrap', input.bootstrap, true)
  if (input.apiHost !== undefined) {
    if (typeof input.apiHost !== 'string' || input.apiHost === '') throw new InvalidConfigError(`${source}: config key "apiHost" must be a host address`)
    out.apiHost = input.apiHost
  }
  if (input.apiPort !== undefined) {
    const p = input.apiPort
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
      throw new InvalidConfigError(`${source}: config key "apiPort" must be a port number (0-65535)`)
    }
    out.apiPort = p
  }
  if (input.slots !== undefined) {
    const n = input.slots
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1024) {
      throw new InvalidConfigError(`${source}: config key "slots" must be an integer from 0 to 1024`)
    }
    out.slots = n
  }
  if (input.labels !== undefined) {
    const l = input.labels
    if (l == null || typeof l !== 'object' || Array.isArray(l)) throw new InvalidConfigError(`${source}: config key "labels" must be an object of strings`)
    for (const [k, v] of Object.entries(l)) {
      if (typeof v !== 'string' || k === '' || k.length > 64 || v.length > 256) {
        throw new InvalidConfigError(`${source}: config key "labels.${k}" must be a string (keys 1-64, values up to 256 characters)`)
      }
    }
    out.labels = { ...(l as Record<string, string>) }
  }
  if (input.mdns !== undefined) {
    const m = input.mdns
    if (m == null || typeof m !== 'object' || Array.isArray(m)) throw new InvalidConfigError(`${source}: config key "mdns" must be an object`)
    const mm = m as Record<string, unknown>
    out.mdns = {}
    for (const key of Object.keys(mm)) {
      if (!MDNS_KEYS.has(key)) throw new InvalidConfigError(`${source}: unknown config key "mdns.${key}"`)
    }
    if (mm.enabled !== undefined) {
      if (typeof mm.enabled !== 'boolean') throw new InvalidConfigError(`${source}: config key "mdns.enabled" must be true or false`)
      out.mdns.enabled = mm.enabled
    }
    if (mm.intervalMs !== undefined) {
      if (typeof mm.intervalMs !== 'number' || !Number.isInteger(mm.intervalMs) || mm.intervalMs < 100) {
        throw new InvalidConfigError(`${source}: config key "mdns.intervalMs" must be an integer of at least 100`)
      }
      out.mdns.intervalMs = mm.intervalMs
    }
  }
  if (input.agents !== undefined) out.agents = parseAgentsConfig(input.agents, source)
  if (input.tasks !== undefined) out.tasks = validateTasks(source, input.tasks)
  if (input.reputation !== undefined) out.reputation = validateReputation(source, input.reputation)
  return out
}

/** Read the environment layer: PAIRED_NAME, PAIRED_LISTEN, PAIRED_BOOTSTRAP (comma lists), PAIRED_API_PORT, PAIRED_MDNS. */
export function envLayer (env: NodeJS.ProcessEnv): ConfigLayer {
  const layer: Record<string, unknown> = {}
  const list = (v: string): string[] => v.split(',').map(s => s.trim()).filter(s => s !== '')
  if (env.PAIRED_NAME != null && env.PAIRED_NAME !== '') layer.name = env.PAIRED_NAME
  if (env.PAIRED_LISTEN != null && env.PAIRED_LISTEN !== '') layer.listen = list(env.PAIRED_LISTEN)
  if (env.PAIRED_BOOTSTRAP != null && env.PAIRED_BOOTSTRAP !== '') layer.bootstrap = list(env.PAIRED_BOOTSTRAP)
  if (env.PAIRED_API_PORT != null && env.PAIRED_API_PORT !== '') layer.apiPort = Number(env.PAIRED_API_PORT)
  if (env.PAIRED_MDNS != null && env.PAIRED_MDNS !== '') {
    const v = env.PAIRED_MDNS.toLowerCase()
    if (!['0', '1', 'true', 'false', 'on', 'off'].includes(v)) throw new InvalidConfigError('environment PAIRED_MDNS must be 0 or 1')
    layer.mdns = { enabled: ['1', 'true', 'on'].includes(v) }
  }
  return validateLayer(layer, 'environment')
}

/** Merge layers left to right over the defaults. Lists replace, objects merge. Pure. */
export function mergeConfig (base: PairedConfig, ...layers: ConfigLayer[]): PairedConfig {
  const out: PairedConfig = {
    ...base,
    listen: [...base.listen],
    bootstrap: [...base.bootstrap],
    labels: { ...base.labels },
    mdns: { ...base.mdns },
    tasks: { ...base.tasks, maxPriority: { ...base.tasks.maxPriority } },
    reputation: { ...base.reputation }
  }
  for (const layer of layers) {
    if (layer.name !== undefined) out.name = layer.name
    if (layer.listen !== undefined) out.listen = [...layer.listen]
    if (layer.bootstrap !== undefined) out.bootstrap = [...layer.bootstrap]
    if (layer.apiHost !== undefined) out.apiHost = layer.apiHost
    if (layer.apiPort !== undefined) out.apiPort = layer.apiPort
    if (layer.slots !== undefined) out.slots = layer.slots
    if (layer.labels !== undefined) out.labels = { ...layer.labels }
    if (layer.mdns !== undefined) out.mdns = { ...out.mdns, ...layer.mdns }
    if (layer.agents !== undefined) out.agents = layer.agents
    if (layer.tasks !== undefined) out.tasks = { ...out.tasks, ...layer.tasks }
    if (layer.reputation !== undefined) out.reputation = { ...out.reputation, ...layer.reputation }
  }
  return out
}

/**
 * The text of `config.json` with its `"name"` set to `name`, every other key kept; or
 * `undefined` when it already says so. `text` is the file's current text (`undefined`:
 * no file yet), already validated. Pure.
 */
export function configWithName (text: string | undefined, name: string): string | undefined {
  validateLayer({ name }, 'command line')
  const current: unknown = text == null || text.trim() === '' ? {} : JSON.parse(text)
  if (current == null || typeof current !== 'object' || Array.isArray(current)) throw new InvalidConfigError('config.json must be a JSON object')
  const doc = current as Record<string, unknown>
  if (doc.name === name) return undefined
  return JSON.stringify({ ...doc, name }, null, 2) + '\n'
}

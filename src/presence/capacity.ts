/**
 * This machine's capacity for a heartbeat: cores, load, memory, task slots, agents,
 * labels and laptop power. The parsers are pure; `readCapacity` does the reading (Linux
 * `/proc` and `/sys`, macOS `pmset`) and falls back to `node:os` where those are missing.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { InvalidArgumentError } from '../errors.js'

export type PowerSource = 'ac' | 'battery' | 'unknown'

export interface Capacity {
  cores: number
  load1: number
  load5: number
  load15: number
  memTotalMb: number
  /** memory available for new work (`MemAvailable`), in MB */
  memFreeMb: number
  slots: number
  running: number
  queued: number
  freeSlots: number
  agents: string[]
  labels: Record<string, string>
  power: PowerSource
  batteryPercent: number | null
}

export interface ReadCapacityOptions {
  /** task slots from config */
  slots: number
  running: number
  queued: number
  agents: string[]
  labels: Record<string, string>
  /** @default '/proc' (read on Linux, or anywhere when given) */
  procRoot?: string
  /** @default '/sys' (read on Linux, or anywhere when given) */
  sysRoot?: string
  /** a recent power reading to reuse instead of reading it again */
  power?: PowerInfo
}

export interface LoadAverage { load1: number, load5: number, load15: number }
export interface MemoryInfo { memTotalMb: number, memFreeMb: number }
export interface PowerInfo { power: PowerSource, batteryPercent: number | null }

/** One `/sys/class/power_supply/<name>` directory; absent files are undefined. */
export interface PowerSupplyEntry {
  name: string
  type?: string
  online?: string
  status?: string
  capacity?: string
  scope?: string
}

/** `/proc/loadavg`: "0.52 0.58 0.59 1/467 12345". Null when unreadable. */
export function parseLoadavg (text: string): LoadAverage | null {
  const [a, b, c] = text.trim().split(/\s+/).map(Number)
  if (![a, b, c].every(n => Number.isFinite(n) && n >= 0)) return null
  return { load1: a, load5: b, load15: c }
}

/**
 * `/proc/meminfo` (values in kB) to whole MB. Free memory is `MemAvailable`; kernels
 * before 3.14 lack it, so `MemFree + Buffers + Cached` stands in. Null without `MemTotal`.
 */
export function parseMeminfo (text: string): MemoryInfo | null {
  const kb = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line.trim())
    if (m != null) kb.set(m[1], Number(m[2]))
  }
  const total = kb.get('MemTotal')
  if (total == null) return null
  const available = kb.get('MemAvailable') ??
    (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0)
  return { memTotalMb: Math.floor(total / 1024), memFreeMb: Math.floor(Math.min(available, total) / 1024) }
}

const AC_TYPES = new Set(['mains', 'usb', 'usb_c', 'usb_pd', 'usb_pd_drp', 'usb_aca', 'usb_cdp', 'usb_dcp'])

/**
 * Power from the `power_supply` class. A system battery is `type` Battery whose `scope`
 * is not Device (a mouse or headset reports one too). On AC when any mains or USB supply
 * is `online`, or a battery is Charging / Full / Not charging; on battery when a system
 * battery is Discharging, or all supplies are offline. `unknown` with no system battery
 * and no online supply (a desktop without the class, a VM).
 */
export function parsePowerSupply (entries: PowerSupplyEntry[]): PowerInfo {
  const norm = (s: string | undefined): string => (s ?? '').trim().toLowerCase()
  const batteries = entries.filter(e => norm(e.type) === 'battery' && norm(e.scope) !== 'device')
  const sources = entries.filter(e => AC_TYPES.has(norm(e.type)))
  const levels = batteries.map(b => norm(b.capacity)).filter(c => c !== '').map(Number).filter(Number.isFinite)
  const batteryPercent = levels.length === 0 ? null : Math.round(levels.reduce((a, b) => a + b, 0) / levels.length)
  let power: PowerSource = 'unknown'
  if (sources.some(s => norm(s.online) === '1')) {
    power = 'ac'
  } else if (batteries.some(b => norm(b.status) === 'discharging')) {
    power = 'battery'
  } else if (batteries.some(b => ['charging', 'full', 'not charging'].includes(norm(b.status)))) {
    power = 'ac'
  } else if (batteries.length > 0 && sources.length > 0) {
    power = 'battery'
  }
  return { power, batteryPercent }
}

/**
 * `pmset -g batt`: "Now drawing from 'AC Power'" or 'Battery Power' (or 'UPS Power', which
 * means the mains are gone), then one line per battery with "72%;".
 */
export function parsePmset (text: string): PowerInfo {
  const source = /drawing from '([^']+)'/i.exec(text)?.[1]?.toLowerCase() ?? ''
  const percent = /\b(\d{1,3})%;/.exec(text)?.[1]
  const power: PowerSource = source.startsWith('ac')
    ? 'ac'
    : source.startsWith('battery') || source.startsWith('ups') ? 'battery' : 'unknown'
  return { power, batteryPercent: percent == null ? null : Math.min(100, Number(percent)) }
}

/**
 * procfs and sysfs files are small and served from memory: a synchronous read costs less
 * than a round trip through the thread pool, which matters once a second.
 */
async function readText (path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

async function readPowerSupplies (sysRoot: string): Promise<PowerSupplyEntry[]> {
  const dir = join(sysRoot, 'class', 'power_supply')
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return Promise.all(names.map(async name => {
    const [type, online, status, capacity, scope] = await Promise.all(
      ['type', 'online', 'status', 'capacity', 'scope'].map(async f => readText(join(dir, name, f)))
    )
    return { name, type, online, status, capacity, scope }
  }))
}

async function pmset (): Promise<string | undefined> {
  return new Promise(resolve => {
    execFile('pmset', ['-g', 'batt'], { timeout: 2000 }, (err, stdout) => {
      resolve(err == null ? stdout : undefined)
    })
  })
}

function count (name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got ${value}`)
  }
  return value
}

/** Read this machine's capacity now. */
export async function readCapacity (options: ReadCapacityOptions): Promise<Capacity> {
  const slots = count('slots', options.slots)
  const running = count('running', options.running)
  const queued = count('queued', options.queued)
  const linux = process.platform === 'linux'
  const procRoot = options.procRoot ?? (linux ? '/proc' : undefined)
  const sysRoot = options.sysRoot ?? (linux ? '/sys' : undefined)

  const [loadText, memText, power] = await Promise.all([
    procRoot == null ? undefined : readText(join(procRoot, 'loadavg')),
    procRoot == null ? undefined : readText(join(procRoot, 'meminfo')),
    options.power ?? readPower(sysRoot)
  ])
  const [l1, l5, l15] = os.loadavg()
  const load = (loadText == null ? null : parseLoadavg(loadText)) ?? { load1: l1, load5: l5, load15: l15 }
  const mem = (memText == null ? null : parseMeminfo(memText)) ??
    { memTotalMb: Math.floor(os.totalmem() / 1048576), memFreeMb: Math.floor(os.freemem() / 1048576) }
  return {
    cores: os.availableParallelism(),
    ...load,
    ...mem,
    slots,
    running,
    queued,
    freeSlots: Math.max(0, slots - running),
    agents: [...options.agents],
    labels: { ...options.labels },
    ...power
  }
}

/** This machine's power source now (sysfs on Linux, pmset on macOS, else unknown). */
export async function readPower (sysRoot: string | undefined = process.platform === 'linux' ? '/sys' : undefined): Promise<PowerInfo> {
  if (sysRoot != null) return parsePowerSupply(await readPowerSupplies(sysRoot))
  if (process.platform === 'darwin') {
    const text = await pmset()
    return text == null ? unknownPower() : parsePmset(text)
  }
  return unknownPower()
}

function unknownPower (): PowerInfo {
  return { power: 'unknown', batteryPercent: null }
}

export interface WorkPolicy {
  /** stop taking work while on battery */
  pauseOnBattery: boolean
  /** take work only between these local times ('HH:MM'); `to` before `from` wraps midnight; equal means all day */
  hours?: { from: string, to: string }
}

function minutesOf (hhmm: string, key: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm)
  const h = Number(m?.[1])
  const min = Number(m?.[2])
  if (m == null || h > 23 || min > 59) {
    throw new InvalidArgumentError(`hours.${key} must be a local time 'HH:MM', got '${hhmm}'`)
  }
  return h * 60 + min
}

/** Whether this machine takes new work now, by its power and working-hours policy. */
export function acceptingWork (capacity: Capacity, policy: WorkPolicy, now: Date): { accepting: boolean, reason?: string } {
  if (capacity.slots === 0) return { accepting: false, reason: 'task slots set to 0' }
  if (policy.pauseOnBattery && capacity.power === 'battery') {
    const level = capacity.batteryPercent == null ? '' : ` (${capacity.batteryPercent}%)`
    return { accepting: false, reason: `on battery${level}` }
  }
  if (policy.hours != null) {
    const from = minutesOf(policy.hours.from, 'from')
    const to = minutesOf(policy.hours.to, 'to')
    const at = now.getHours() * 60 + now.getMinutes()
    const inside = from === to || (from < to ? at >= from && at < to : at >= from || at < to)
    if (!inside) {
      return { accepting: false, reason: `outside working hours ${policy.hours.from}-${policy.hours.to}` }
    }
  }
  return { accepting: true }
}

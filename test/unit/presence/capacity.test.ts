import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  acceptingWork, parseLoadavg, parseMeminfo, parsePmset, parsePowerSupply, readCapacity,
  type Capacity
} from '../../../src/presence/capacity.js'

const MEMINFO = `MemTotal:       16303520 kB
MemFree:         1123456 kB
MemAvailable:    9876543 kB
Buffers:          456789 kB
Cached:          7654321 kB
SwapCached:            0 kB
Active(anon):    3456789 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`

/** A kernel before 3.14: no MemAvailable. */
const MEMINFO_OLD = `MemTotal:        2048000 kB
MemFree:          512000 kB
Buffers:          102400 kB
Cached:           204800 kB
`

const PMSET_AC = `Now drawing from 'AC Power'
 -InternalBattery-0 (id=4653155)\t100%; charged; 0:00 remaining present: true
`
const PMSET_BATTERY = `Now drawing from 'Battery Power'
 -InternalBattery-0 (id=4653155)\t72%; discharging; 4:31 remaining present: true
`

describe('capacity parsers', () => {
  it('parses /proc/loadavg', () => {
    expect(parseLoadavg('0.52 0.58 0.59 1/467 12345\n')).toEqual({ load1: 0.52, load5: 0.58, load15: 0.59 })
    expect(parseLoadavg('')).toBeNull()
    expect(parseLoadavg('a b c')).toBeNull()
  })

  it('parses /proc/meminfo, MemAvailable as free, with a fallback for old kernels', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ memTotalMb: 15921, memFreeMb: 9645 })
    expect(parseMeminfo(MEMINFO_OLD)).toEqual({ memTotalMb: 2000, memFreeMb: 800 })
    expect(parseMeminfo('nonsense')).toBeNull()
  })

  it('reads power from power_supply entries', () => {
    expect(parsePowerSupply([])).toEqual({ power: 'unknown', batteryPercent: null })
    expect(parsePowerSupply([
      { name: 'AC', type: 'Mains\n', online: '1\n' },
      { name: 'BAT0', type: 'Battery\n', status: 'Charging\n', capacity: '64\n' }
    ])).toEqual({ power: 'ac', batteryPercent: 64 })
    expect(parsePowerSupply([
      { name: 'AC', type: 'Mains', online: '0' },
      { name: 'BAT0', type: 'Battery', status: 'Discharging', capacity: '40' },
      { name: 'BAT1', type: 'Battery', status: 'Unknown', capacity: '60' }
    ])).toEqual({ power: 'battery', batteryPercent: 50 })
    // a wireless mouse's battery is not the system's
    expect(parsePowerSupply([
      { name: 'hidpp_battery_0', type: 'Battery', scope: 'Device', status: 'Discharging', capacity: '20' }
    ])).toEqual({ power: 'unknown', batteryPercent: null })
    // USB-C charger
    expect(parsePowerSupply([
      { name: 'ucsi-source-psy-USBC000:001', type: 'USB', online: '1' },
      { name: 'BAT0', type: 'Battery', status: 'Not charging', capacity: '80' }
    ]).power).toBe('ac')
  })

  it('parses pmset -g batt', () => {
    expect(parsePmset(PMSET_AC)).toEqual({ power: 'ac', batteryPercent: 100 })
    expect(parsePmset(PMSET_BATTERY)).toEqual({ power: 'battery', batteryPercent: 72 })
    expect(parsePmset("Now drawing from 'AC Power'\n")).toEqual({ power: 'ac', batteryPercent: null })
    expect(parsePmset('')).toEqual({ power: 'unknown', batteryPercent: null })
  })
})

describe('readCapacity', () => {
  let dir = ''
  beforeEach(async () => { dir = await mkdtemp(join(os.tmpdir(), 'paired-capacity-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  async function supply (name: string, files: Record<string, string>): Promise<void> {
    const d = join(dir, 'sys', 'class', 'power_supply', name)
    await mkdir(d, { recursive: true })
    for (const [f, v] of Object.entries(files)) await writeFile(join(d, f), `${v}\n`)
  }

  const work = { slots: 4, running: 1, queued: 3, agents: ['claude', 'shell'], labels: { gpu: 'none' } }

  it('reads a fake /proc and sysfs tree: on battery', async () => {
    await mkdir(join(dir, 'proc'))
    await writeFile(join(dir, 'proc', 'loadavg'), '1.25 0.75 0.50 2/300 999\n')
    await writeFile(join(dir, 'proc', 'meminfo'), MEMINFO)
    await supply('AC', { type: 'Mains', online: '0' })
    await supply('BAT0', { type: 'Battery', status: 'Discharging', capacity: '33' })
    const cap = await readCapacity({ ...work, procRoot: join(dir, 'proc'), sysRoot: join(dir, 'sys') })
    expect(cap).toEqual({
      cores: os.availableParallelism(),
      load1: 1.25,
      load5: 0.75,
      load15: 0.5,
      memTotalMb: 15921,
      memFreeMb: 9645,
      slots: 4,
      running: 1,
      queued: 3,
      freeSlots: 3,
      agents: ['claude', 'shell'],
      labels: { gpu: 'none' },
      power: 'battery',
      batteryPercent: 33
    })
  })

  it('reads a fake sysfs tree on AC, and unknown with no power_supply class', async () => {
    await supply('ADP1', { type: 'Mains', online: '1' })
    await supply('BAT0', { type: 'Battery', status: 'Full', capacity: '100' })
    const ac = await readCapacity({ ...work, procRoot: join(dir, 'none'), sysRoot: join(dir, 'sys') })
    expect([ac.power, ac.batteryPercent]).toEqual(['ac', 100])
    const none = await readCapacity({ ...work, procRoot: join(dir, 'none'), sysRoot: join(dir, 'nothing') })
    expect([none.power, none.batteryPercent]).toEqual(['unknown', null])
    // a missing /proc falls back to node:os
    expect(none.memTotalMb).toBe(Math.floor(os.totalmem() / 1048576))
  })

  it('refuses negative or fractional counts', async () => {
    await expect(readCapacity({ ...work, slots: -1 })).rejects.toThrow(/slots/)
    await expect(readCapacity({ ...work, running: 1.5 })).rejects.toMatchObject({ name: 'InvalidArgumentError' })
  })

  it.runIf(process.platform === 'linux')('matches the real /proc on Linux', async () => {
    const cap = await readCapacity(work)
    const meminfo = await readFile('/proc/meminfo', 'utf8')
    const totalKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1])
    expect(cap.cores).toBe(os.availableParallelism())
    expect(Math.abs(cap.memTotalMb - totalKb / 1024)).toBeLessThanOrEqual(1)
    expect(cap.memFreeMb).toBeLessThanOrEqual(cap.memTotalMb)
    expect(Math.abs(cap.load1 - os.loadavg()[0])).toBeLessThanOrEqual(0.5)
    expect(['ac', 'battery', 'unknown']).toContain(cap.power)
  })
})

describe('acceptingWork', () => {
  const base: Capacity = {
    cores: 8, load1: 0, load5: 0, load15: 0, memTotalMb: 1, memFreeMb: 1, slots: 2, running: 0,
    queued: 0, freeSlots: 2, agents: [], labels: {}, power: 'battery', batteryPercent: 40
  }
  const at = (h: number, m: number): Date => new Date(2025, 0, 15, h, m)

  it('pauses on battery only when configured', () => {
    expect(acceptingWork(base, { pauseOnBattery: true }, at(12, 0))).toEqual({ accepting: false, reason: 'on battery (40%)' })
    expect(acceptingWork(base, { pauseOnBattery: false }, at(12, 0))).toEqual({ accepting: true })
    expect(acceptingWork({ ...base, power: 'unknown' }, { pauseOnBattery: true }, at(12, 0)).accepting).toBe(true)
    expect(acceptingWork({ ...base, slots: 0 }, { pauseOnBattery: false }, at(12, 0)).accepting).toBe(false)
  })

  it('honours working hours, including a window across midnight', () => {
    const day = { pauseOnBattery: false, hours: { from: '09:00', to: '18:00' } }
    expect(acceptingWork(base, day, at(9, 0)).accepting).toBe(true)
    expect(acceptingWork(base, day, at(17, 59)).accepting).toBe(true)
    expect(acceptingWork(base, day, at(18, 0))).toEqual({ accepting: false, reason: 'outside working hours 09:00-18:00' })
    const night = { pauseOnBattery: false, hours: { from: '22:00', to: '06:30' } }
    expect(acceptingWork(base, night, at(23, 0)).accepting).toBe(true)
    expect(acceptingWork(base, night, at(3, 0)).accepting).toBe(true)
    expect(acceptingWork(base, night, at(6, 30)).accepting).toBe(false)
    expect(acceptingWork(base, night, at(12, 0)).accepting).toBe(false)
    expect(acceptingWork(base, { pauseOnBattery: false, hours: { from: '08:00', to: '08:00' } }, at(3, 0)).accepting).toBe(true)
    expect(() => acceptingWork(base, { pauseOnBattery: false, hours: { from: '25:00', to: '08:00' } }, at(3, 0))).toThrow(/hours.from/)
  })
})

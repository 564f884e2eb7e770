/**
 * Helpers for task tests on real daemons: a daemon with its own config.json, waiting for
 * tasks, and the shapes the API answers.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DaemonProcess, apiGet, eventually, tempHome } from './harness.js'

export interface TaskRow {
  taskId: string
  state: string
  executor: string | null
  attempt: number
  submitter: string
  coordinator: string
  /** survivors that took the task over, oldest first */
  adoptions: Array<{ peerId: string, epoch: number }>
  startedWall: number | null
  result: { executor: string, attempt: number, exitCode: number, outputHash: string, output?: unknown, receipt?: { startedWall: number, endedWall: number } } | null
  /** every reported result; one that does not count (a forgery) says why in `notCounted` */
  results: Array<{ executor: string, attempt: number, exitCode: number, receipt?: { startedWall: number, endedWall: number }, notCounted?: string }>
  leases: Array<{ executor: string, attempt: number, startedWall: number | null }>
  waiting: string | null
}

/** a daemon whose home holds `config` as config.json */
export async function configuredDaemon (name: string, config: Record<string, unknown>): Promise<DaemonProcess> {
  const home = await tempHome(name)
  await writeFile(join(home, 'config.json'), JSON.stringify(config))
  return new DaemonProcess({ name, home })
}

export async function peerId (d: DaemonProcess): Promise<string> {
  return (await apiGet<{ peerId: string }>(d, 'status')).peerId
}

/** waits until every member sees every other alive with heartbeats carrying its agents */
export async function allAlive (ds: DaemonProcess[], timeoutMs = 20_000): Promise<void> {
  await eventually('every member alive with capacity', async () => {
    for (const d of ds) {
      const rows = await apiGet<Array<{ state: string, capacity: unknown }>>(d, 'peers')
      if (rows.length < ds.length - 1 || !rows.every(r => r.state === 'alive' && r.capacity != null)) return undefined
    }
    return true
  }, timeoutMs, 100)
}

export async function task (d: DaemonProcess, id: string): Promise<TaskRow> {
  return await apiGet<TaskRow>(d, `tasks/${id}`)
}

/** waits until every task in `ids` is in a final state on `d`; returns the records */
export async function allFinal (d: DaemonProcess, ids: string[], timeoutMs = 60_000): Promise<TaskRow[]> {
  return await eventually(`${ids.length} tasks final on ${d.name}`, async () => {
    const rows = await apiGet<Array<{ taskId: string, state: string }>>(d, 'tasks?limit=10000')
    const final = new Set(rows.filter(r => ['succeeded', 'failed', 'cancelled'].includes(r.state)).map(r => r.taskId))
    if (!ids.every(id => final.has(id))) return undefined
    return await Promise.all(ids.map(async id => await task(d, id)))
  }, timeoutMs, 200)
}

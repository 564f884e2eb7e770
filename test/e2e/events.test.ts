/**
 * The event stream of a real daemon under load: 20,000 tasks submitted in batches of
 * 1,000 (agent `echo`), watched by a reader that stops reading for a while and then reads
 * slowly, and by one that disconnects mid-way and resumes with Last-Event-ID. Each must
 * see every task's final state; ids only go up; nothing is sent twice.
 */
import { readFile } from 'node:fs/promises'
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventStreamParser } from '../../src/api/client.js'
import { apiPost, eventually, sleep, type DaemonProcess } from './harness.js'
import { configuredDaemon } from './tasks-helpers.js'

const TASKS = 20_000
const BATCH = 1_000
const FINAL = new Set(['succeeded', 'failed', 'cancelled'])

interface Watch {
  /** every task with a final state seen */
  finals: Set<string>
  /** ids of delivered events, in arrival order */
  ids: number[]
  /** superseded events the server left out (`coalesced` notes) */
  skipped: number
  resets: unknown[]
  lastEventId: string | undefined
  bytes: number
  events: number
  res?: IncomingMessage
  req?: ClientRequest
}

function newWatch (): Watch {
  return { finals: new Set(), ids: [], skipped: 0, resets: [], lastEventId: undefined, bytes: 0, events: 0 }
}

/** opens `GET /api/v1/events` on `d` and feeds what it reads into `w` */
async function watch (d: DaemonProcess, w: Watch, lastEventId?: string): Promise<void> {
  const token = (await readFile(join(d.home, 'api.token'), 'utf8')).trim()
  const parser: EventStreamParser = new EventStreamParser(e => {
    w.events++
    if (e.type === 'coalesced') w.skipped += (e.data as { skipped: number }).skipped
    else if (e.type === 'reset') w.resets.push(e.data)
    else w.ids.push(Number(parser.lastEventId?.split('-').at(-1)))
    const data = e.data as { taskId?: string, state?: string }
    if (e.type === 'task:updated' && data.taskId != null && FINAL.has(data.state ?? '')) w.finals.add(data.taskId)
  }, lastEventId)
  const headers: Record<string, string> = { host: 'localhost', authorization: `Bearer ${token}` }
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
  await new Promise<void>((resolve, reject) => {
    w.req = request({ socketPath: join(d.home, 'api.sock'), path: '/api/v1/events', headers, agent: false }, res => {
      w.res = res
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        w.bytes += chunk.length
        parser.push(chunk)
        w.lastEventId = parser.lastEventId
      })
      res.on('error', () => {})
      resolve()
    })
    w.req.on('error', reject)
    w.req.end()
  })
  await eventually('the stream announced its start id', async () => w.lastEventId !== undefined ? true : undefined, 10_000, 20)
}

/** ids arrived in increasing order, none twice, and none missing unless the server said it coalesced */
function checkIds (name: string, w: Watch): void {
  for (let i = 1; i < w.ids.length; i++) {
    if (w.ids[i] <= w.ids[i - 1]) throw new Error(`${name}: id ${w.ids[i]} came after ${w.ids[i - 1]}`)
    // without coalescing, not one id is missing
    if (w.skipped === 0 && w.ids[i] !== w.ids[i - 1] + 1) throw new Error(`${name}: id ${w.ids[i]} came after ${w.ids[i - 1]}`)
  }
}

describe('the event stream under load', () => {
  let d: DaemonProcess
  const submitted: string[] = []

  beforeAll(async () => {
    d = await configuredDaemon('ev', { slots: 16 })
    await d.start()
    await d.json(['team', 'create', 'events'])
  }, 60_000)

  afterAll(async () => {
    await d.cleanup()
  })

  it(`a slow reader and a reader that reconnects with Last-Event-ID see every final state of ${TASKS} batch-submitted tasks`, async () => {
    const slow = newWatch()
    const fast = newWatch()
    const resumed = newWatch()
    await watch(d, slow)
    await watch(d, fast)
    await watch(d, resumed)
    // the slow reader takes nothing at first, then reads in small sips
    slow.res?.pause()
    const t0 = performance.now()
    let dropped = false
    for (let i = 0; i < TASKS; i += BATCH) {
      const r = await apiPost<{ tasks: Array<{ taskId: string }> }>(d, 'tasks/submit-many', {
        tasks: Array.from({ length: BATCH }, (_, j) => ({ agent: 'echo', input: { n: i + j } }))
      })
      submitted.push(...r.tasks.map(t => t.taskId))
      if (!dropped && i >= TASKS / 4) {
        // the third reader goes away mid-way and comes back a little later with its last id
        dropped = true
        resumed.req?.destroy()
        const before = resumed.ids.length
        await sleep(300)
        expect(resumed.ids.length).toBe(before)
        await watch(d, resumed, resumed.lastEventId)
      }
    }
    const submittedIn = (performance.now() - t0) / 1000
    const sipping = setInterval(() => {
      const res = slow.res
      if (res == null) return
      if (res.isPaused()) res.resume()
      else res.pause()
    }, 25)
    try {
      await eventually('every reader saw every final state', async () => {
        return [slow, fast, resumed].every(w => w.finals.size >= TASKS || w.resets.length > 0) ? true : undefined
      }, 240_000, 250)
    } finally {
      clearInterval(sipping)
      slow.res?.resume()
    }
    const secs = (performance.now() - t0) / 1000
    for (const [name, w] of [['slow', slow], ['fast', fast], ['resumed', resumed]] as const) {
      console.log(`events e2e: ${name} reader: ${w.events} events (${w.skipped} coalesced), ${(w.bytes / 1024 / 1024).toFixed(1)} MiB, ` +
        `${(w.events / secs).toFixed(0)} events/s over ${secs.toFixed(1)} s (submitted in ${submittedIn.toFixed(1)} s)`)
      expect(w.resets, name).toEqual([])
      checkIds(name, w)
      expect(w.finals.size, name).toBe(TASKS)
      for (const id of submitted) if (!w.finals.has(id)) throw new Error(`${name} reader missed the final state of ${id}`)
    }
    // the fast reader kept up: it was sent every event, none coalesced
    expect(fast.skipped).toBe(0)
    expect(slow.skipped).toBeGreaterThan(0)
    for (const w of [slow, fast, resumed]) w.req?.destroy()
  }, 300_000)

  it('a Last-Event-ID of another run gets `event: reset`, then live events', async () => {
    const w = newWatch()
    await watch(d, w, 'x0-5')
    await eventually('reset', async () => w.resets.length > 0 ? true : undefined, 10_000, 20)
    expect(w.resets[0]).toMatchObject({ reason: 'other-run' })
    await apiPost(d, 'kv/set', { key: 'after/reset', value: 1 })
    await eventually('a live event after the reset', async () => w.ids.length > 0 ? true : undefined, 10_000, 20)
    w.req?.destroy()
  })
})

/**
 * `GET /api/v1/events` on a real `ApiServer` over a stub daemon: ids, resume by
 * Last-Event-ID (header and query), reset, a slow reader that is coalesced instead of
 * dropped, and the client's reconnect.
 */
import { request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiClient, EventStreamParser } from '../../../src/api/index.js'
import type { DaemonEvent } from '../../../src/model/docs.js'
import { startFixture, type Fixture } from './helpers.js'

interface Seen { id: string | undefined, type: string, data: unknown }

/** a raw event stream: what it received, parsed, and the response to pause */
interface Raw {
  seen: Seen[]
  res: IncomingMessage
  req: ClientRequest
}

async function openRaw (f: Fixture, options: { lastEventId?: string, query?: string } = {}): Promise<Raw> {
  const seen: Seen[] = []
  const parser: EventStreamParser = new EventStreamParser(e => { seen.push({ id: parser.lastEventId, ...e }) })
  const headers: Record<string, string> = { ...f.auth, host: 'localhost' }
  if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId
  let req: ClientRequest | undefined
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req = request({ socketPath: f.socketPath, path: `/api/v1/events${options.query ?? ''}`, headers, agent: false }, resolve)
    req.on('error', reject)
    req.end()
  })
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => { parser.push(chunk) })
  res.on('error', () => {})
  // the id-only block that says where this stream starts
  await expect.poll(() => parser.lastEventId).not.toBeUndefined()
  seen.push({ id: parser.lastEventId, type: '(start)', data: null })
  return { seen, res, req: req as ClientRequest }
}

const update = (taskId: string, state: string, pad = 0): DaemonEvent => ({ type: 'task:updated', data: { taskId, state, pad: 'x'.repeat(pad) } })
const seqOf = (id: string | undefined): number => Number(id?.split('-')[1])
const real = (seen: Seen[]): Seen[] => seen.filter(e => e.type !== '(start)')

let fixtures: Fixture[] = []
afterEach(async () => {
  for (const f of fixtures) await f.cleanup()
  fixtures = []
})
async function fixture (init: Parameters<typeof startFixture>[0] = {}): Promise<Fixture> {
  const f = await startFixture(init)
  fixtures.push(f)
  return f
}

describe('GET /api/v1/events', () => {
  it('Last-Event-ID (header or ?lastEventId=) replays what came after it, then goes live: no gap, no duplicate', async () => {
    const f = await fixture({ runId: 'run1' })
    const a = await openRaw(f)
    for (let i = 1; i <= 3; i++) f.control.publish({ type: 'x', data: i })
    await expect.poll(() => real(a.seen).length).toBe(3)
    const last = a.seen.at(-1)?.id
    expect(real(a.seen).map(e => e.id)).toEqual(['run1-1', 'run1-2', 'run1-3'])
    a.req.destroy()
    // while nobody is connected, the ring still records (retainMs)
    for (let i = 4; i <= 6; i++) f.control.publish({ type: 'x', data: i })
    const b = await openRaw(f, { lastEventId: last })
    await expect.poll(() => real(b.seen).length).toBe(3)
    f.control.publish({ type: 'x', data: 'live' })
    await expect.poll(() => real(b.seen).length).toBe(4)
    expect(real(b.seen).map(e => e.data)).toEqual([4, 5, 6, 'live'])
    expect(real(b.seen).map(e => e.id)).toEqual(['run1-4', 'run1-5', 'run1-6', 'run1-7'])
  })

  it('?lastEventId= works like the header', async () => {
    const f = await fixture({ runId: 'run2' })
    const a = await openRaw(f)
    f.control.publish({ type: 'x', data: 1 })
    await expect.poll(() => real(a.seen).length).toBe(1)
    a.req.destroy()
    f.control.publish({ type: 'x', data: 2 })
    const b = await openRaw(f, { query: '?lastEventId=run2-1' })
    await expect.poll(() => real(b.seen).length).toBe(1)
    expect(real(b.seen)).toEqual([{ id: 'run2-2', type: 'x', data: 2 }])
  })

  it('an id of another run, a malformed one or one older than the ring gets `event: reset`, then live events', async () => {
    const f = await fixture({ runId: 'run3', events: { maxEvents: 2 } })
    const a = await openRaw(f)
    for (let i = 1; i <= 5; i++) f.control.publish({ type: 'x', data: i })
    // (a itself fell behind the 2-event ring at once: it was reset to the newest)
    await expect.poll(() => a.seen.at(-1)?.id).toBe('run3-5')
    let last = 5
    for (const [id, reason] of [['old-5', 'other-run'], ['garbage', 'unknown-id'], ['run3-1', 'too-old'], ['run3-99', 'unknown-id']]) {
      const b = await openRaw(f, { lastEventId: id })
      expect(real(b.seen)[0], id).toMatchObject({ type: 'reset', id: `run3-${last}`, data: { reason, lastEventId: `run3-${last}` } })
      f.control.publish({ type: 'x', data: 'after' })
      last++
      await expect.poll(() => real(b.seen).length).toBe(2)
      expect(real(b.seen)[1]).toMatchObject({ type: 'x', data: 'after', id: `run3-${last}` })
      b.req.destroy()
    }
  })

  it('a reader that stops reading is not dropped: when it reads again it gets every task\'s final state, coalesced, ids in order', async () => {
    const f = await fixture({ runId: 'slow', events: { coalesceAfter: 64 * 1024 } })
    const a = await openRaw(f)
    a.res.pause()
    const tasks = 2000
    for (const state of ['pending', 'running', 'succeeded']) {
      for (let t = 0; t < tasks; t++) f.control.publish(update(`t${t}`, state, 400))
      await new Promise(resolve => setImmediate(resolve))
    }
    expect(f.logs.join('\n')).not.toMatch(/dropping|fell behind/)
    a.res.resume()
    await expect.poll(() => real(a.seen).filter(e => (e.data as { state?: string }).state === 'succeeded').length, { timeout: 10_000 }).toBe(tasks)
    const seen = real(a.seen)
    expect(seen.some(e => e.type === 'reset')).toBe(false)
    const coalesced = seen.filter(e => e.type === 'coalesced').reduce((n, e) => n + (e.data as { skipped: number }).skipped, 0)
    const updates = seen.filter(e => e.type === 'task:updated')
    // every id is either sent or counted in a coalesced note
    expect(updates.length + coalesced).toBe(tasks * 3)
    expect(coalesced).toBeGreaterThan(0)
    const ids = updates.map(e => seqOf(e.id))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual([...ids].sort((x, y) => x - y))
  })

  it('a reader so far behind that the ring lost what it needs gets `reset`, then goes on live', async () => {
    const f = await fixture({ runId: 'tiny', events: { maxEvents: 50, coalesceAfter: 0 } })
    const a = await openRaw(f)
    a.res.pause()
    for (let i = 0; i < 5000; i++) f.control.publish({ type: 'task:log', data: { taskId: 't', line: 'y'.repeat(200) } })
    await new Promise(resolve => setTimeout(resolve, 50))
    a.res.resume()
    await expect.poll(() => real(a.seen).some(e => e.type === 'reset')).toBe(true)
    const reset = real(a.seen).find(e => e.type === 'reset')
    expect(reset?.data).toMatchObject({ reason: 'behind' })
    f.control.publish({ type: 'x', data: 'live' })
    await expect.poll(() => real(a.seen).at(-1)?.data).toBe('live')
    expect(f.logs.join('\n')).toMatch(/fell behind the ring/)
  })

  it('ApiClient.events reopens a dropped stream with Last-Event-ID and misses nothing', async () => {
    const f = await fixture({ runId: 'cli' })
    const client = new ApiClient({ socketPath: f.socketPath, token: f.token })
    const received: unknown[] = []
    const stop = new AbortController()
    const done = client.events('events', e => { received.push(e.data) }, stop.signal)
    await expect.poll(() => f.control.listeners.size).toBe(1)
    f.control.publish({ type: 'x', data: 1 })
    f.control.publish({ type: 'x', data: 2 })
    await expect.poll(() => received.length).toBe(2)
    const streams = (f.server as unknown as { streams: Map<ServerResponse, () => void> }).streams
    for (const res of streams.keys()) res.destroy()
    f.control.publish({ type: 'x', data: 3 })
    f.control.publish({ type: 'x', data: 4 })
    await expect.poll(() => received.length).toBe(4)
    f.control.publish({ type: 'x', data: 5 })
    await expect.poll(() => received.length).toBe(5)
    expect(received).toEqual([1, 2, 3, 4, 5])
    stop.abort()
    await done
  })
})

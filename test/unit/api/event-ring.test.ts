import { describe, expect, it } from 'vitest'
import { EventRing, coalescingKey, formatEvent } from '../../../src/api/event-ring.js'
import { EventStreamParser } from '../../../src/api/client.js'
import type { DaemonEvent } from '../../../src/model/docs.js'

const task = (taskId: string, state: string): DaemonEvent => ({ type: 'task:updated', data: { taskId, state } })

/** the events `text` holds, with their ids */
function parse (text: string): Array<{ id: string | undefined, type: string, data: unknown }> {
  const out: Array<{ id: string | undefined, type: string, data: unknown }> = []
  const parser: EventStreamParser = new EventStreamParser(e => { out.push({ id: parser.lastEventId, ...e }) })
  parser.push(text)
  return out
}

/** everything a reader at `cursor` gets, read `chunk` bytes at a time */
function drain (ring: EventRing, cursor: number, chunk = 1, coalesceAfter?: number): { events: ReturnType<typeof parse>, skipped: number } {
  let text = ''
  let skipped = 0
  while (cursor < ring.last) {
    const r = ring.read(cursor, chunk, coalesceAfter)
    expect(r.through).toBeGreaterThan(cursor)
    cursor = r.through
    text += r.text
    skipped += r.skipped
  }
  return { events: parse(text), skipped }
}

describe('EventRing', () => {
  it('gives each event an id <run>-<seq>, seq counting up from 1, and formats it once', () => {
    const ring = new EventRing('r1')
    const e = ring.append({ type: 'peer:connected', data: { peerId: 'p' } })
    expect(e.seq).toBe(1)
    expect(e.text).toBe('id: r1-1\nevent: peer:connected\ndata: {"peerId":"p"}\n\n')
    expect(e.bytes).toBe(Buffer.byteLength(e.text))
    expect(ring.append(task('t', 'pending')).seq).toBe(2)
    expect(ring.last).toBe(2)
    expect(() => new EventRing('has-dash')).toThrow(TypeError)
  })

  it('a reader after seq n reads n+1.. in order, in chunks, with nothing twice', () => {
    const ring = new EventRing('r')
    for (let i = 0; i < 50; i++) ring.append({ type: 'x', data: i })
    for (const chunk of [1, 100, 1 << 20]) {
      const { events, skipped } = drain(ring, 10, chunk)
      expect(skipped).toBe(0)
      expect(events.map(e => e.data)).toEqual(Array.from({ length: 40 }, (_, i) => i + 10))
      expect(events.map(e => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `r-${i + 11}`))
    }
  })

  it('resume: an id of this run in the ring resumes; another run, a malformed id, a future id or one before the floor do not', () => {
    const ring = new EventRing('abc', { maxEvents: 3 })
    for (let i = 0; i < 5; i++) ring.append({ type: 'x', data: i })
    expect(ring.resume('abc-5')).toEqual({ ok: true, seq: 5 })
    expect(ring.resume('abc-2')).toEqual({ ok: true, seq: 2 })
    expect(ring.resume('abc-1')).toMatchObject({ ok: false, reason: 'too-old' })
    expect(ring.resume('abd-4')).toMatchObject({ ok: false, reason: 'other-run' })
    expect(ring.resume('abc-6')).toMatchObject({ ok: false, reason: 'unknown-id' })
    expect(ring.resume('nonsense')).toMatchObject({ ok: false, reason: 'unknown-id' })
    expect(ring.resume('abc-')).toMatchObject({ ok: false, reason: 'unknown-id' })
  })

  it('holds at most maxEvents and about maxBytes; the oldest leave first', () => {
    const byCount = new EventRing('r', { maxEvents: 10 })
    for (let i = 0; i < 25; i++) byCount.append({ type: 'x', data: i })
    expect(byCount.size).toBe(10)
    expect(byCount.lossFloor).toBe(15)
    const one = formatEvent({ type: 'x', data: 'a'.repeat(100) }, 'r-10').length
    const byBytes = new EventRing('r', { maxBytes: one * 4 })
    for (let i = 0; i < 10; i++) byBytes.append({ type: 'x', data: 'a'.repeat(100) })
    expect(byBytes.size).toBe(4)
    expect(byBytes.bytes).toBeLessThanOrEqual(one * 4)
    expect(byBytes.reachable(5)).toBe(false)
    expect(byBytes.reachable(6)).toBe(true)
  })

  it('evicting many events keeps reads right across the internal compaction', () => {
    const ring = new EventRing('r', { maxEvents: 100 })
    for (let i = 0; i < 20_000; i++) ring.append({ type: 'x', data: i })
    expect(ring.size).toBe(100)
    expect(drain(ring, 19_950, 500).events.map(e => e.data)).toEqual(Array.from({ length: 50 }, (_, i) => 19_950 + i))
    expect(ring.backlog(19_950)).toBe(ring.bytes / 2)
  })

  it('a reader far behind gets only the newest event of each task and kv key, in order; others it gets all', () => {
    const ring = new EventRing('r')
    ring.append(task('a', 'pending'))
    ring.append(task('b', 'pending'))
    ring.append({ type: 'task:log', data: { taskId: 'a', line: 'hi' } })
    ring.append(task('a', 'running'))
    ring.append({ type: 'kv:changed', data: { key: 'k', value: 1 } })
    ring.append(task('a', 'succeeded'))
    ring.append({ type: 'kv:changed', data: { key: 'k', value: 2 } })
    ring.append({ type: 'peer:connected', data: { peerId: 'p' } })
    const near = drain(ring, 0, 1 << 20, 1 << 20)
    expect(near.skipped).toBe(0)
    expect(near.events).toHaveLength(8)
    const far = drain(ring, 0, 1 << 20, 0)
    expect(far.skipped).toBe(3)
    expect(far.events.map(e => [e.id, e.type, (e.data as { state?: string, value?: number }).state ?? (e.data as { value?: number }).value])).toEqual([
      ['r-2', 'task:updated', 'pending'],
      ['r-3', 'task:log', undefined],
      ['r-6', 'task:updated', 'succeeded'],
      ['r-7', 'kv:changed', 2],
      ['r-8', 'peer:connected', undefined]
    ])
  })

  it('a superseded event that left the ring costs a reader behind it nothing; a needed one puts it before the floor', () => {
    const ring = new EventRing('r', { maxEvents: 4 })
    ring.append(task('a', 'pending')) // 1, superseded by 3
    ring.append(task('a', 'running')) // 2, superseded by 3
    ring.append(task('a', 'succeeded')) // 3
    ring.append(task('b', 'pending')) // 4
    ring.append(task('b', 'running')) // 5: evicts 1
    ring.append(task('b', 'succeeded')) // 6: evicts 2
    expect(ring.lossFloor).toBe(0)
    expect(ring.reachable(0)).toBe(true)
    const r = drain(ring, 0, 1 << 20)
    expect(r.events.map(e => e.id)).toEqual(['r-3', 'r-6'])
    expect(r.skipped).toBe(4)
    ring.append(task('c', 'pending')) // 7: evicts 3, the newest of task a
    expect(ring.lossFloor).toBe(3)
    expect(ring.reachable(2)).toBe(false)
    expect(ring.reachable(3)).toBe(true)
  })

  it('every task\'s final state reaches a reader that lags by up to the ring, under random interleaving', () => {
    let seed = 7
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    const ring = new EventRing('r', { maxEvents: 400 })
    const states = ['pending', 'running', 'succeeded']
    const progress = new Map<string, number>()
    const finals = new Set<string>()
    let cursor = 0
    for (let i = 0; i < 3000; i++) {
      const id = `t${rand(200)}`
      const step = progress.get(id) ?? 0
      if (step < 3) {
        ring.append(task(id, states[step]))
        progress.set(id, step + 1)
      }
      // a reader that reads a little, now and then: behind, but within the ring
      if (rand(10) === 0) {
        while (!ring.reachable(cursor)) throw new Error('reset')
        const r = ring.read(cursor, 2000, 4000)
        cursor = r.through
        for (const e of parse(r.text)) if ((e.data as { state: string }).state === 'succeeded') finals.add((e.data as { taskId: string }).taskId)
      }
    }
    for (const e of drain(ring, cursor, 1 << 20).events) if ((e.data as { state: string }).state === 'succeeded') finals.add((e.data as { taskId: string }).taskId)
    expect(finals).toEqual(new Set([...progress].filter(([, s]) => s === 3).map(([id]) => id)))
  })

  it('pause empties the ring and skips a seq, so every earlier id is too old', () => {
    const ring = new EventRing('r')
    ring.append({ type: 'x', data: 1 })
    ring.pause()
    expect(ring.size).toBe(0)
    expect(ring.last).toBe(2)
    expect(ring.resume('r-1')).toMatchObject({ ok: false, reason: 'too-old' })
    expect(ring.resume('r-2')).toEqual({ ok: true, seq: 2 })
    expect(ring.append({ type: 'x', data: 3 }).seq).toBe(3)
    expect(drain(ring, 2).events.map(e => e.id)).toEqual(['r-3'])
  })

  it('coalescing keys: task:updated by task, kv:changed by key, nothing else', () => {
    expect(coalescingKey(task('t1', 'x'))).toBe('task:t1')
    expect(coalescingKey({ type: 'kv:changed', data: { key: 'a/b' } })).toBe('kv:a/b')
    expect(coalescingKey({ type: 'task:log', data: { taskId: 't1', line: '' } })).toBeUndefined()
    expect(coalescingKey({ type: 'task:updated', data: null })).toBeUndefined()
  })
})

describe('EventStreamParser ids', () => {
  it('keeps the last id, including an id-only block, and ignores an id with NUL', () => {
    const seen: string[] = []
    const parser: EventStreamParser = new EventStreamParser(e => { seen.push(`${String(parser.lastEventId)} ${e.type}`) }, 'r-0')
    parser.push(': connected\n\nid: r-4\n\n')
    expect(parser.lastEventId).toBe('r-4')
    parser.push('id: r-5\nevent: x\ndata: 1\n\nevent: y\ndata: 2\n\nid: bad\0\n\n')
    expect(seen).toEqual(['r-5 x', 'r-5 y'])
    expect(parser.lastEventId).toBe('r-5')
    expect(parser.events).toBe(2)
  })
})

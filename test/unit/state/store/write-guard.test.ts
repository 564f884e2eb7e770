import { describe, expect, it } from 'vitest'
import type { PairedDb } from '../../../../src/state/store/db.js'
import { join } from 'node:path'
import { openStore } from '../../../../src/state/store/db.js'
import { WriteGuard, encodeOps, isIoFailure, isNoSpace, refusal } from '../../../../src/state/store/write-guard.js'
import { tempDir } from './helpers.js'

function levelError (message: string, code = 'LEVEL_IO_ERROR'): Error {
  return Object.assign(new Error(message), { code })
}

/** A stand-in database whose next batches fail as told. */
function fakeDb (location: string, failures: Error[]): PairedDb & { opens: number, writes: number } {
  const db = {
    location,
    status: 'open',
    opens: 0,
    writes: 0,
    async batch () {
      const err = failures.shift()
      if (err !== undefined) throw err
      db.writes++
    },
    async close () { db.status = 'closed' },
    async open () { db.opens++; db.status = 'open' }
  }
  return db as unknown as PairedDb & { opens: number, writes: number }
}

describe('write guard', () => {
  it('classifies LevelDB failures', () => {
    const full = levelError('IO error: /x/000003.log: No space left on device')
    expect(isNoSpace(full)).toBe(true)
    expect(isNoSpace(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ENOSPC' }) }))).toBe(true)
    expect(isIoFailure(levelError('IO error: /x: Input/output error'))).toBe(true)
    expect(isIoFailure(levelError('Database is not open', 'LEVEL_DATABASE_NOT_OPEN'))).toBe(false)
    expect(refusal(full, '/data/db')).toMatchObject({
      name: 'StoreFullError', message: 'the disk holding /data/db is full: write refused, nothing acknowledged'
    })
    expect(refusal(levelError('IO error: EIO'), '/data/db')).toMatchObject({
      name: 'StoreWriteError', message: 'writing to the store at /data/db failed (IO error: EIO): write refused, nothing acknowledged'
    })
  })

  it('after an I/O failure, reopens the database before the next write', async () => {
    const db = fakeDb(await tempDir('guard'), [levelError('IO error: No space left on device')])
    let reloads = 0
    const guard = new WriteGuard(db, 1024, async () => { reloads++ })
    await expect(guard.batch([], true)).rejects.toMatchObject({ name: 'StoreFullError' })
    expect(db.opens).toBe(0)
    await guard.batch([], true)
    expect([db.opens, reloads, db.writes]).toEqual([1, 1, 1])
    await guard.batch([], true)
    expect(db.opens).toBe(1) // once only
  })

  it('does not reopen after a failure that is not an I/O error', async () => {
    const db = fakeDb(await tempDir('guard'), [levelError('Database is not open', 'LEVEL_DATABASE_NOT_OPEN')])
    const guard = new WriteGuard(db, 1024, async () => {})
    await expect(guard.batch([], true)).rejects.toMatchObject({ name: 'StoreWriteError' })
    await guard.batch([], true)
    expect(db.opens).toBe(0)
  })

  it('keeps refusing, without touching the database, while the disk lacks room to reopen', async () => {
    const db = fakeDb(await tempDir('guard'), [levelError('IO error: No space left on device')])
    const guard = new WriteGuard(db, Number.MAX_SAFE_INTEGER, async () => {})
    await expect(guard.batch([], true)).rejects.toMatchObject({ name: 'StoreFullError' })
    await expect(guard.batch([], true)).rejects.toThrow(/is full: write refused, nothing acknowledged \(\d+ bytes free; writing resumes with \d+\)/)
    expect([db.opens, db.status]).toEqual([0, 'open'])
  })
})

describe('write guard over a real store', () => {
  it('writes through classic-level\'s own batch what abstract-level\'s would have written: JSON values, bytes, deletes', async () => {
    const db = await openStore(join(await tempDir('guard'), 'db'))
    try {
      await db.put('gone', 1)
      // abstract-level's per-operation handling is what the guard skips: it must not be reached
      const viaAbstract = db.batch.bind(db)
      db.batch = (async () => { throw new Error('abstract-level batch used') }) as unknown as typeof db.batch
      const guard = new WriteGuard(db, 1024, async () => {})
      const bytes = new TextEncoder().encode('{"raw":"as sent"}')
      await guard.batch([
        { type: 'put', key: 'kv/é/🙂', value: { value: { n: -0, s: 'ü\u2028' }, list: [1, null, 'x'] } },
        { type: 'put', key: 'n', value: 42 },
        { type: 'put', key: 's', value: 'text' },
        { type: 'put', key: 'ops/1', value: bytes, valueEncoding: 'view' },
        { type: 'del', key: 'gone' }
      ], true)
      expect(await db.get('kv/é/🙂')).toEqual({ value: { n: 0, s: 'ü\u2028' }, list: [1, null, 'x'] })
      expect([await db.get('n'), await db.get('s'), await db.get('gone')]).toEqual([42, 'text', undefined])
      expect(Buffer.from(await db.get<string, Uint8Array>('ops/1', { valueEncoding: 'view' }) as Uint8Array).equals(bytes)).toBe(true)
      expect(await db.get('ops/1')).toEqual({ raw: 'as sent' })
      // what the native batch cannot take goes to abstract-level's, which refuses it as before
      db.batch = viaAbstract
      await expect(guard.batch([{ type: 'put', key: 'u', value: undefined }], false)).rejects.toMatchObject({ name: 'StoreWriteError' })
    } finally {
      await db.close()
    }
  })

  it('encodes only plain operations; anything else is left to abstract-level\'s checks', () => {
    expect(encodeOps([{ type: 'put', key: 'a', value: { b: 1 } }, { type: 'del', key: 'c' }])).toEqual([{ type: 'put', key: 'a', value: '{"b":1}' }, { type: 'del', key: 'c' }])
    expect(encodeOps([{ type: 'put', key: 'a', value: null }])).toBeUndefined()
    expect(encodeOps([{ type: 'put', key: 'a', value: () => 1 }])).toBeUndefined()
    expect(encodeOps([{ type: 'put', key: 'a', value: 'not bytes', valueEncoding: 'view' }])).toBeUndefined()
    expect(encodeOps([{ type: 'put', key: 1 as unknown as string, value: 1 }])).toBeUndefined()
  })
})


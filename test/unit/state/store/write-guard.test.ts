import { describe, expect, it } from 'vitest'
import type { PairedDb } from '../../../../src/state/store/db.js'
import { WriteGuard, isIoFailure, isNoSpace, refusal } from '../../../../src/state/store/write-guard.js'
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

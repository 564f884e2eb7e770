/**
 * What a failed LevelDB write means, and when the store may be written again.
 *
 * After LevelDB fails to append to its write-ahead log (ENOSPC, EIO), that log may end
 * in a torn record, and LevelDB's own writer does not know it: a later write that
 * "succeeds" can be lost when the log is replayed on the next open (seen here on a full
 * tmpfs: a put acknowledged after space returned was gone after a reopen). A failed
 * background compaction also fails every later write until the store is reopened. So
 * after an I/O failure the store is reopened (log replayed, torn tail dropped) before it
 * takes another write, and only once the disk has room for the replay: until then the
 * open database keeps serving reads.
 */
import { readdir, stat, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import type { PairedDb } from './db.js'
import { StoreFullError, StoreWriteError } from './errors.js'

const log = logger('paired:store')

/** One LevelDB batch operation. */
export type DbOp = { type: 'put', key: string, value: unknown, valueEncoding?: 'view' } | { type: 'del', key: string }

/** an operation as classic-level's own batch takes it: key and value already encoded */
export type EncodedOp = { type: 'put', key: string, value: string | Uint8Array } | { type: 'del', key: string }

type NativeBatch = (ops: EncodedOp[], options: { sync: boolean }) => Promise<void>

/**
 * `ops` encoded as the store's encodings (keys `utf8`, values `json`, or `view` bytes)
 * would encode them, or `undefined` when one is not of that plain shape (a null or
 * undefined value, a key that is not a string): abstract-level's batch then checks it
 * and names the problem.
 */
export function encodeOps (ops: DbOp[]): EncodedOp[] | undefined {
  const out: EncodedOp[] = new Array(ops.length)
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]
    if (typeof op.key !== 'string') return undefined
    if (op.type === 'del') {
      out[i] = { type: 'del', key: op.key }
      continue
    }
    if (op.type !== 'put' || op.value === null || op.value === undefined) return undefined
    let value: string | Uint8Array | undefined
    if (op.valueEncoding === 'view') value = op.value instanceof Uint8Array ? op.value : undefined
    else if (op.valueEncoding === undefined) value = JSON.stringify(op.value) as string | undefined
    if (value === undefined) return undefined
    out[i] = { type: 'put', key: op.key, value }
  }
  return out
}

/**
 * classic-level's own batch, when `db` is open with the store's encodings: abstract-level's
 * batch clones every operation and looks its encodings up one by one, which cost a
 * catch-up (1,000 view entries per frame) more than the JSON encoding and LevelDB's own
 * work together. What it adds besides (hooks, write events, sublevels) the store does not use.
 */
function nativeBatch (db: PairedDb): NativeBatch | undefined {
  const batch = (db as unknown as { _batch?: NativeBatch })._batch
  if (typeof batch !== 'function' || db.status !== 'open') return undefined
  if (db.keyEncoding().name !== 'utf8' || db.valueEncoding().name !== 'json') return undefined
  return batch.bind(db)
}

/** Free space on top of the write-ahead logs' size before a reopen is tried. @default 1 MiB */
export const DEFAULT_REOPEN_HEADROOM_BYTES = 1024 * 1024

function* causes (err: unknown): Generator<{ code?: unknown, message?: unknown }> {
  let at: unknown = err
  for (let depth = 0; depth < 8 && typeof at === 'object' && at !== null; depth++) {
    yield at as { code?: unknown, message?: unknown }
    at = (at as { cause?: unknown }).cause
  }
}

/** True when `err` (or its cause) says the disk is full. */
export function isNoSpace (err: unknown): boolean {
  for (const e of causes(err)) {
    if (e.code === 'ENOSPC') return true
    if (typeof e.message === 'string' && /No space left on device|ENOSPC/i.test(e.message)) return true
  }
  return false
}

/** True when `err` is an I/O failure of LevelDB (after which the store must be reopened). */
export function isIoFailure (err: unknown): boolean {
  if (isNoSpace(err)) return true
  for (const e of causes(err)) {
    if (e.code === 'LEVEL_IO_ERROR') return true
  }
  return false
}

/** The named error a refused write of the store at `location` raises. */
export function refusal (err: unknown, location: string): StoreFullError | StoreWriteError {
  if (isNoSpace(err)) {
    return new StoreFullError(`the disk holding ${location} is full: write refused, nothing acknowledged`, { cause: err })
  }
  const reason = err instanceof Error ? err.message : String(err)
  return new StoreWriteError(`writing to the store at ${location} failed (${reason}): write refused, nothing acknowledged`, { cause: err })
}

/** Bytes free to an unprivileged writer on the filesystem of `location`, if known. */
export async function freeBytes (location: string): Promise<number | undefined> {
  try {
    const fs = await statfs(location)
    return fs.bavail * fs.bsize
  } catch {
    return undefined
  }
}

/** Total size of the LevelDB write-ahead logs in `location`: what a reopen replays and rewrites. */
export async function logBytes (location: string): Promise<number> {
  try {
    let total = 0
    for (const name of await readdir(location)) {
      if (name.endsWith('.log')) total += (await stat(join(location, name))).size
    }
    return total
  } catch {
    return 0
  }
}

/**
 * Every write of a store goes through one guard: it maps LevelDB failures to
 * `StoreFullError` / `StoreWriteError`, and after an I/O failure reopens the database
 * before the next write, once the disk has room for it (see the module notes).
 */
export class WriteGuard {
  /** the last I/O failure, until a reopen succeeds */
  private broken?: unknown
  private reopening?: Promise<void>

  constructor (
    private readonly db: PairedDb,
    private readonly headroom: number,
    /** reloads what the owner caches from the database, after a reopen */
    private readonly onReopen: () => Promise<void>
  ) {}

  /** Writes `ops` atomically; on failure throws the named refusal (nothing written). */
  async batch (ops: DbOp[], sync: boolean): Promise<void> {
    await this.writable()
    try {
      const native = ops.length > 0 ? nativeBatch(this.db) : undefined
      const encoded = native !== undefined ? encodeOps(ops) : undefined
      if (native !== undefined && encoded !== undefined) await native(encoded, { sync })
      else await this.db.batch(ops, { sync })
    } catch (err) {
      if (isIoFailure(err)) this.broken = err
      const refused = refusal(err, this.db.location)
      log.error('%s', refused.message)
      throw refused
    }
  }

  /** Before a read: if a failed reopen left the database closed, try again to open it. */
  async readable (): Promise<void> {
    if (this.db.status === 'closed' && this.broken !== undefined) await this.writable()
  }

  private async writable (): Promise<void> {
    if (this.broken === undefined) return
    this.reopening ??= this.reopen().finally(() => { this.reopening = undefined })
    await this.reopening
  }

  private async reopen (): Promise<void> {
    const location = this.db.location
    const free = await freeBytes(location)
    const needed = await logBytes(location) + this.headroom
    if (free !== undefined && free < needed) {
      const refused = refusal(this.broken, location)
      refused.message += ` (${free} bytes free; writing resumes with ${needed})`
      throw refused
    }
    try {
      if (this.db.status === 'open') await this.db.close()
      await this.db.open()
    } catch (err) {
      this.broken = err
      throw refusal(err, location)
    }
    log('reopened %s after a failed write', location)
    this.broken = undefined
    await this.onReopen() // a refused write may still have reached the log whole
  }
}

/**
 * The op log's reads: the version vector, the stored records an author's log streams,
 * the kv view and the task view, the state hash. None takes the write lock; each waits
 * for the database to be readable (it may be reopening after a failed write).
 */
import { isPlainObject } from '../../model/guards.js'
import type { TaskRecord, VersionVector } from '../crdt/index.js'
import type { LogRecord } from '../ops/index.js'
import { kvKey, kvPrefix, opsKey, opsPrefix, prefixEnd, taskKey, taskPrefix } from './keys.js'
import { asEntry, opId, type KvEntry, type ViewEntry } from './kv-view.js'
import type { LogCore } from './log-core.js'
import { isCreated, storedTaskRecord } from './task-view.js'

const AUTHOR_KEY_PATTERN = /^[\x21-\x2e\x30-\x7e]+$/ // printable, no '/'

/** author → highest contiguous seq applied, authors sorted (the core must be started). */
export function versionVectorOf (core: LogCore): VersionVector {
  return Object.fromEntries(core.allHeads().filter(([, seq]) => seq > 0).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

/** The stored records of `author` from the one holding `fromSeq` on, lazily, at most `limit`. */
export async function * recordsSince (core: LogCore, author: string, fromSeq: number, limit: number): AsyncGenerator<LogRecord> {
  await core.start()
  if (!AUTHOR_KEY_PATTERN.test(author) || !(limit > 0)) return
  const from = Number.isSafeInteger(fromSeq) && fromSeq > 1 ? fromSeq : 1
  const prefix = opsPrefix(core.teamId, author)
  let n = 0
  for await (const value of await core.readable(async () => core.db.values({ gte: opsKey(core.teamId, author, from), lt: prefixEnd(prefix) }))) {
    yield value as LogRecord
    if (++n >= limit) return
  }
}

/**
 * `recordsSince` as the stored bytes (the record's UTF-8 JSON): what anti-entropy sends
 * on, without a parse and a stringify per record.
 */
export async function * rawRecordsSince (core: LogCore, author: string, fromSeq: number): AsyncGenerator<Uint8Array> {
  await core.start()
  if (!AUTHOR_KEY_PATTERN.test(author)) return
  const from = Number.isSafeInteger(fromSeq) && fromSeq > 1 ? fromSeq : 1
  const range = { gte: opsKey(core.teamId, author, from), lt: prefixEnd(opsPrefix(core.teamId, author)), valueEncoding: 'view' }
  for await (const value of await core.readable(async () => core.db.values<string, Uint8Array>(range))) yield value
}

/** The live entry of a kv key, or `undefined` (a tombstone included). */
export async function kvEntryOf (core: LogCore, key: string): Promise<KvEntry | undefined> {
  await core.start()
  const entry = asEntry(await core.readable(async () => core.db.get(kvKey(core.teamId, key))))
  if (entry === undefined || entry.value === undefined) return undefined
  return { key, value: entry.value, hlc: entry.hlc, author: entry.author, seq: entry.seq }
}

/** Every live entry under `prefix`, streamed in key order. */
export async function * liveEntries (core: LogCore, prefix: string): AsyncGenerator<KvEntry> {
  await core.start()
  for await (const [key, entry] of viewEntries(core, prefix)) {
    if (entry.value !== undefined) yield { key, value: entry.value, hlc: entry.hlc, author: entry.author, seq: entry.seq }
  }
}

/** Every stored view entry under `prefix` (tombstones included), in key order. */
export async function * viewEntries (core: LogCore, prefix = ''): AsyncGenerator<[string, ViewEntry]> {
  const base = kvPrefix(core.teamId)
  const iterator = await core.readable(async () => core.db.iterator({ gte: base + prefix, lt: prefixEnd(base) }))
  for await (const [stored, value] of iterator) {
    const key = stored.slice(base.length)
    if (!key.startsWith(prefix)) break
    const entry = asEntry(value)
    if (entry !== undefined) yield [key, entry]
  }
}

/** The record of a task, or `undefined` if its `task:create` has not arrived. */
export async function taskOf (core: LogCore, taskId: string): Promise<TaskRecord | undefined> {
  await core.start()
  const value = await core.readable(async () => core.db.get(taskKey(core.teamId, taskId)))
  if (!isPlainObject(value)) return undefined
  const record = storedTaskRecord(value)
  return isCreated(record) ? record : undefined
}

/** Every stored task record (placeholders included), in task id order. */
export async function * taskEntries (core: LogCore): AsyncGenerator<[string, TaskRecord]> {
  await core.start()
  await core.guard.readable()
  const base = taskPrefix(core.teamId)
  for await (const [key, value] of core.db.iterator({ gte: base, lt: prefixEnd(base) })) {
    if (isPlainObject(value)) yield [key.slice(base.length), storedTaskRecord(value)]
  }
}

/** The state hash: one scan of both views after start, then kept incrementally. */
export async function stateHashOf (core: LogCore): Promise<string> {
  await core.start()
  if (!core.viewHash.known) {
    await core.exclusive(async () => {
      if (core.viewHash.known) return
      await core.viewHash.setFrom(viewEntries(core), taskEntries(core))
    })
  }
  return core.viewHash.hex()
}

/** The ops the kv view still points at. */
export async function liveOps (core: LogCore): Promise<Set<string>> {
  const live = new Set<string>()
  for await (const [, entry] of viewEntries(core)) live.add(opId(entry.author, entry.seq))
  return live
}

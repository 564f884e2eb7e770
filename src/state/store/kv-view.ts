/**
 * The kv view: an LWW map from kv key to the winning `kv:set` / `kv:del` op, kept in
 * LevelDB one key per entry. Pure helpers; the store does the reading and writing.
 */
import { compareLwwEntries, type Hlc, type LwwEntry } from '../crdt/index.js'
import { isPlainObject } from '../../model/guards.js'
import type { KvSetBody, Op } from '../ops/index.js'

/** One stored view entry: the winning op of a key. No `value` means a tombstone. */
export interface ViewEntry {
  value?: unknown
  hlc: Hlc
  author: string
  seq: number
}

/** A live kv key as the API shows it. */
export interface KvEntry {
  key: string
  value: unknown
  hlc: Hlc
  author: string
  seq: number
}

/** Kinds whose effect is one LWW write to the kv view (so a later write supersedes them). */
export const VIEW_KINDS: ReadonlySet<string> = new Set(['kv:set', 'kv:del'])

/** The kv key an op writes, or `undefined` for kinds outside the view. */
export function viewKeyOf (op: Op): string | undefined {
  if (!VIEW_KINDS.has(op.kind) || !isPlainObject(op.body)) return undefined
  const key = op.body.key
  return typeof key === 'string' ? key : undefined
}

/** The view entry an op would write. */
export function entryOf (op: Op): ViewEntry {
  const entry: ViewEntry = { hlc: op.hlc, author: op.author, seq: op.seq }
  if (op.kind === 'kv:set') entry.value = (op.body as KvSetBody).value
  return entry
}

/** Reads a stored entry back (JSON has no `undefined`: a tombstone simply lacks `value`). */
export function asEntry (stored: unknown): ViewEntry | undefined {
  if (!isPlainObject(stored)) return undefined
  return stored as unknown as ViewEntry
}

function lww (entry: ViewEntry): LwwEntry {
  return { value: entry.value, hlc: entry.hlc, author: entry.author }
}

/**
 * The view entries `ops` change, given the current entry of each key they touch: for
 * each key, the greatest write by (hlc, author) wins, whatever order the ops come in.
 */
export function viewChanges (ops: Op[], current: ReadonlyMap<string, ViewEntry>): Map<string, ViewEntry> {
  const changes = new Map<string, ViewEntry>()
  for (const op of ops) {
    const key = viewKeyOf(op)
    if (key === undefined) continue
    const entry = entryOf(op)
    const best = changes.get(key) ?? current.get(key)
    if (best === undefined || compareLwwEntries(lww(best), lww(entry)) < 0) changes.set(key, entry)
  }
  return changes
}

/** The view as a crdt `LwwMap` (what `stateHash` covers): key → { value, hlc, author }. */
export function toLwwEntry (entry: ViewEntry): LwwEntry {
  return lww(entry)
}

/** Identity of an op in a live-op set. */
export function opId (author: string, seq: number): string {
  return `${author}\n${seq}`
}

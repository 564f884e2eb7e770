/**
 * Last-writer-wins map with tombstones. Each key holds the entry of the write that wins
 * by (hlc, author); a delete is a write of `undefined` (a tombstone), so a delete and a
 * set race exactly like two sets.
 */
import { compareCanonical, compareStrings } from '../../model/canonical.js'
import { assertHlc, compareHlc, type Hlc } from './hlc.js'

/** One key's winning write. `value === undefined` marks a tombstone (deleted key). */
export interface LwwEntry<V = unknown> {
  readonly value: V | undefined
  readonly hlc: Hlc
  readonly author: string
}

/** key → winning entry, keys in sorted order. Treat as immutable. */
export type LwwMap<V = unknown> = ReadonlyMap<string, LwwEntry<V>>

/** A live (not deleted) key with its value and the write that set it. */
export interface LwwLiveEntry<V = unknown> {
  readonly key: string
  readonly value: V
  readonly hlc: Hlc
  readonly author: string
}

/** The empty map. */
export function lwwEmpty<V = unknown> (): LwwMap<V> {
  return new Map()
}

/**
 * Total order on writes: `hlc` (`compareHlc`), then `author`, then — only when one
 * author reused an hlc for two different writes — tombstone above any value, then the
 * canonical encoding of the value. Returns -1, 0 or 1.
 */
export function compareLwwEntries<V> (a: LwwEntry<V>, b: LwwEntry<V>): -1 | 0 | 1 {
  const byHlc = compareHlc(a.hlc, b.hlc)
  if (byHlc !== 0) return byHlc
  const byAuthor = compareStrings(a.author, b.author)
  if (byAuthor !== 0) return byAuthor
  if (a.value === undefined || b.value === undefined) {
    if (a.value === b.value) return 0
    return a.value === undefined ? 1 : -1
  }
  return compareCanonical(a.value, b.value)
}

/** The winner of two writes to one key (the greater by `compareLwwEntries`). */
export function lwwPick<V> (a: LwwEntry<V> | undefined, b: LwwEntry<V> | undefined): LwwEntry<V> | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return compareLwwEntries(a, b) >= 0 ? a : b
}

/**
 * Applies one write to `map` and returns the resulting map (or `map` itself when the
 * write loses). Pure: `map` is not modified.
 */
export function lwwApply<V> (map: LwwMap<V>, key: string, entry: LwwEntry<V>): LwwMap<V> {
  assertHlc(entry.hlc)
  const current = map.get(key)
  if (current !== undefined && compareLwwEntries(current, entry) >= 0) return map
  if (current !== undefined) return new Map(map).set(key, entry)
  return sortedMap([...map, [key, entry]])
}

/** Sets `key` to `value` as of `hlc` by `author`. `value: undefined` is a delete. */
export function lwwSet<V> (map: LwwMap<V>, key: string, value: V | undefined, hlc: Hlc, author: string): LwwMap<V> {
  return lwwApply(map, key, { value, hlc, author })
}

/** Deletes `key` as of `hlc` by `author`, leaving a tombstone that outranks older sets. */
export function lwwDelete<V> (map: LwwMap<V>, key: string, hlc: Hlc, author: string): LwwMap<V> {
  return lwwApply<V>(map, key, { value: undefined, hlc, author })
}

/** The join: per key, the winning entry of either side. Pure; keys come out sorted. */
export function lwwMerge<V> (a: LwwMap<V>, b: LwwMap<V>): LwwMap<V> {
  const out: Array<[string, LwwEntry<V>]> = []
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const entry = lwwPick(a.get(key), b.get(key))
    if (entry !== undefined) out.push([key, entry])
  }
  return sortedMap(out)
}

/** The live value of `key`, or `undefined` if it is absent or deleted. */
export function lwwGet<V> (map: LwwMap<V>, key: string): V | undefined {
  return map.get(key)?.value
}

/** Whether `key` is live (set and not deleted since). */
export function lwwHas<V> (map: LwwMap<V>, key: string): boolean {
  return map.get(key)?.value !== undefined
}

/** Live entries, sorted by key. */
export function lwwEntries<V> (map: LwwMap<V>): Array<LwwLiveEntry<V>> {
  const live: Array<LwwLiveEntry<V>> = []
  for (const [key, entry] of map) {
    if (entry.value !== undefined) live.push({ key, value: entry.value, hlc: entry.hlc, author: entry.author })
  }
  return live.sort((x, y) => compareStrings(x.key, y.key))
}

function sortedMap<V> (entries: Array<[string, LwwEntry<V>]>): LwwMap<V> {
  return new Map(entries.sort((x, y) => compareStrings(x[0], y[0])))
}

/**
 * Remove-wins observed-remove set of strings.
 *
 * Every op carries a unique tag (`author:seq`, see `rwTag`) and an hlc. An add records
 * its tag; a remove records its own tag and `covers`, the add tags of that element its
 * author had observed when removing. For one element, with `compareHlcTime` comparing
 * only (wall, logical):
 *
 * - an add is **covered** if some remove of the element lists its tag in `covers`;
 * - the element is **present** iff it has an uncovered add `A` such that every remove `R`
 *   of the element has `compareHlcTime(R.hlc, A.hlc) < 0`. Equivalently: the latest
 *   uncovered add is strictly later, in time, than the latest remove.
 *
 * So a remove beats every add it observed, and every add that is concurrent with or later
 * than it by hlc time. Equal (wall, logical) on different nodes is provably concurrent
 * (a clock that has seen an event always issues a greater time), and then the remove
 * wins; an add strictly later in time than every remove wins, which is what re-adding
 * after a remove looks like (the re-add observed the remove, so its hlc is greater). The
 * one approximation: an add that did not observe a remove but carries a later hlc is
 * treated as later, not as concurrent — hlc order stands in for causality.
 *
 * State is the union of all ops, so `rwMerge` is a set union: commutative, associative
 * and idempotent. Two different ops reusing one tag (a bug or a forgery) are resolved
 * deterministically: the greater hlc wins, then the greater `covers` list.
 * Tombstones are kept; compaction is the store's business (once every member has seen them).
 */
import { compareStrings } from '../../model/canonical.js'
import { assertHlc, compareHlc, compareHlcTime, type Hlc } from './hlc.js'

/** A remove op: its hlc and the add tags it observed (sorted, unique). */
export interface RwRemove {
  readonly hlc: Hlc
  readonly covers: readonly string[]
}

/** All ops seen for one element: add tag → hlc, remove tag → remove. Tags sorted. */
export interface RwElement {
  readonly adds: ReadonlyMap<string, Hlc>
  readonly removes: ReadonlyMap<string, RwRemove>
}

/** element → its ops, elements sorted. Treat as immutable. */
export type RwSet = ReadonlyMap<string, RwElement>

/** The unique tag of op `seq` of `author`. */
export function rwTag (author: string, seq: number): string {
  return `${author}:${seq}`
}

/** The empty set. */
export function rwEmpty (): RwSet {
  return new Map()
}

/** Adds `element` with op tag `tag` at `hlc`. Pure; returns `set` itself if nothing changes. */
export function rwAdd (set: RwSet, element: string, tag: string, hlc: Hlc): RwSet {
  assertHlc(hlc)
  const current = set.get(element)
  const known = current?.adds.get(tag)
  if (known !== undefined && compareHlc(known, hlc) >= 0) return set
  const adds = withEntry(current?.adds ?? new Map(), tag, hlc)
  return withEntry(set, element, { adds, removes: current?.removes ?? new Map() })
}

/**
 * Removes `element` with op tag `tag` at `hlc`. `covers` defaults to the add tags `set`
 * has observed for the element (`rwObserved`) — right for a local remove; when applying
 * a remote remove op, pass the `covers` it carries.
 */
export function rwRemove (
  set: RwSet, element: string, tag: string, hlc: Hlc, covers: readonly string[] = rwObserved(set, element)
): RwSet {
  assertHlc(hlc)
  const remove: RwRemove = { hlc, covers: [...new Set(covers)].sort(compareStrings) }
  const current = set.get(element)
  const known = current?.removes.get(tag)
  if (known !== undefined && compareRemoves(known, remove) >= 0) return set
  const removes = withEntry(current?.removes ?? new Map(), tag, remove)
  return withEntry(set, element, { adds: current?.adds ?? new Map(), removes })
}

/** The add tags `set` holds for `element`, sorted: what a local remove observes. */
export function rwObserved (set: RwSet, element: string): string[] {
  return [...(set.get(element)?.adds.keys() ?? [])]
}

/** The join: the union of both sides' ops. Pure; elements and tags come out sorted. */
export function rwMerge (a: RwSet, b: RwSet): RwSet {
  const out: Array<[string, RwElement]> = []
  for (const element of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(element)
    const y = b.get(element)
    if (x === undefined || y === undefined) {
      out.push([element, (x ?? y) as RwElement])
      continue
    }
    out.push([element, {
      adds: mergeTagged(x.adds, y.adds, compareHlc),
      removes: mergeTagged(x.removes, y.removes, compareRemoves)
    }])
  }
  return sortedMap(out)
}

/** Whether `element` is present under the remove-wins rule above. */
export function rwHas (set: RwSet, element: string): boolean {
  const state = set.get(element)
  if (state === undefined) return false
  const covered = new Set<string>()
  let latestRemove: Hlc | undefined
  for (const remove of state.removes.values()) {
    for (const tag of remove.covers) covered.add(tag)
    if (latestRemove === undefined || compareHlcTime(remove.hlc, latestRemove) > 0) latestRemove = remove.hlc
  }
  for (const [tag, hlc] of state.adds) {
    if (covered.has(tag)) continue
    if (latestRemove === undefined || compareHlcTime(hlc, latestRemove) > 0) return true
  }
  return false
}

/** The present elements, sorted. */
export function rwValues (set: RwSet): string[] {
  const values: string[] = []
  for (const element of set.keys()) {
    if (rwHas(set, element)) values.push(element)
  }
  return values.sort(compareStrings)
}

function compareRemoves (a: RwRemove, b: RwRemove): -1 | 0 | 1 {
  const byHlc = compareHlc(a.hlc, b.hlc)
  if (byHlc !== 0) return byHlc
  return compareStrings(JSON.stringify(a.covers), JSON.stringify(b.covers))
}

function mergeTagged<T> (
  a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>, compare: (x: T, y: T) => number
): ReadonlyMap<string, T> {
  const out: Array<[string, T]> = []
  for (const tag of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(tag)
    const y = b.get(tag)
    out.push([tag, (x === undefined || (y !== undefined && compare(y, x) > 0) ? y : x) as T])
  }
  return sortedMap(out)
}

/** A copy of `map` with `key` set, keeping keys sorted. */
function withEntry<T> (map: ReadonlyMap<string, T>, key: string, value: T): ReadonlyMap<string, T> {
  if (map.has(key)) return new Map(map).set(key, value)
  return sortedMap([...map, [key, value]])
}

function sortedMap<T> (entries: Array<[string, T]>): ReadonlyMap<string, T> {
  return new Map(entries.sort((x, y) => compareStrings(x[0], y[0])))
}

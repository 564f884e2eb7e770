/**
 * Frames for fuzzing the wire protocols, from a seeded generator: random bytes, random JSON,
 * and valid messages with one field mutated (wrong type, huge or non-finite-looking
 * numbers, missing and extra keys, deep nesting, oversized strings, truncated text).
 * Every frame returned is one the protocol must refuse: a candidate that still fits the
 * protocol's schema (a mutation of an optional field can) is drawn again.
 */
import type { Validator } from '../../src/model/schema.js'
import { varint } from '../helpers/varint.js'

export { rng } from '../helpers/rng.js'
export { varint }

export type Rand = () => number
const int = (r: Rand, n: number): number => Math.floor(r() * n)
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]
const utf8 = new TextEncoder()

/** a JSON value of bounded size */
export function randomJson (r: Rand, depth = 0): unknown {
  const k = int(r, depth > 3 ? 6 : 8)
  switch (k) {
    case 0: return null
    case 1: return r() < 0.5
    case 2: return pick(r, [0, -1, 1.5, 2 ** 53 + 2, -(2 ** 60), 1e308, Number.MAX_SAFE_INTEGER])
    case 3: return pick(r, ['', 'NaN', 'Infinity', '-0', 'x'.repeat(int(r, 300)), '\u0000', '🙂', '__proto__'])
    case 4: return int(r, 1000)
    case 5: return String.fromCharCode(...Array.from({ length: int(r, 20) }, () => int(r, 0xd7ff)))
    case 6: return Array.from({ length: int(r, 5) }, () => randomJson(r, depth + 1))
    default: return Object.fromEntries(Array.from({ length: int(r, 5) }, () => [pick(r, ['t', 'type', 'id', 'task', 'status', 'vv', 'cert', 'x', 'rotation']), randomJson(r, depth + 1)]))
  }
}

/** dotted paths of every field of `value` (objects and arrays), the value itself as '' */
function paths (value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix)
  if (value != null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out)
  }
  return out
}

function setAt (root: unknown, path: string[], f: (old: unknown, parent: Record<string, unknown> | undefined, key: string | undefined) => unknown): unknown {
  const copy = structuredClone(root)
  if (path.length === 0) return f(copy, undefined, undefined)
  let parent = copy as Record<string, unknown>
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>
  const key = path[path.length - 1]
  const next = f(parent[key], parent, key)
  if (next === REMOVE) delete parent[key]
  else parent[key] = next
  return copy
}

const REMOVE = Symbol('remove')

function deep (levels: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { x: v }
  return v
}

/** one field of `valid` changed */
export function mutate (r: Rand, valid: unknown, maxBytes: number): unknown {
  const all = paths(valid)
  const path = pick(r, all)
  switch (int(r, 9)) {
    case 0: return setAt(valid, path, old => typeof old === 'string' ? int(r, 100) : typeof old === 'number' ? String(old) : typeof old === 'object' ? 'x' : {})
    case 1: return setAt(valid, path, () => pick(r, [2 ** 53 + 2, -1, 1e308, -1e308, 0.5, -(2 ** 63)]))
    case 2: return setAt(valid, path, () => pick(r, ['NaN', 'Infinity', '-Infinity', '1e999', 'null', 'undefined']))
    case 3: return setAt(valid, path, () => REMOVE)
    case 4: return setAt(valid, path, old => old != null && typeof old === 'object' && !Array.isArray(old) ? { ...old, [pick(r, ['extra', '__proto__x', 'constructor'])]: randomJson(r) } : old)
    case 5: return setAt(valid, path, () => deep(50 + int(r, 400)))
    case 6: return setAt(valid, path, () => 'x'.repeat(Math.min(maxBytes - 512, 5_000 + int(r, 60_000))))
    case 7: return setAt(valid, path, () => null)
    default: return setAt(valid, path, () => randomJson(r))
  }
}

export type FrameKind = 'bytes' | 'json' | 'mutated' | 'truncated' | 'oversize'

export interface Frame {
  kind: FrameKind
  /** the frame's payload (the length prefix is added by the sender), or its declared length for `oversize` */
  bytes: Uint8Array
}

/**
 * `count` frames for a protocol whose valid messages `templates` draws and whose schema
 * `accepts` checks: none of them fits it. `maxBytes` is the protocol's frame limit.
 */
export function frames (r: Rand, count: number, templates: (r: Rand) => unknown, accepts: Validator<unknown>, maxBytes: number): Frame[] {
  const out: Frame[] = []
  while (out.length < count) {
    const roll = r()
    if (roll < 0.15) {
      const bytes = Uint8Array.from({ length: 1 + int(r, 256) }, () => int(r, 256))
      if (isRefused(bytes, accepts)) out.push({ kind: 'bytes', bytes })
    } else if (roll < 0.3) {
      const bytes = utf8.encode(JSON.stringify(randomJson(r)) ?? 'null')
      if (isRefused(bytes, accepts)) out.push({ kind: 'json', bytes })
    } else if (roll < 0.4) {
      const text = JSON.stringify(templates(r))
      out.push({ kind: 'truncated', bytes: utf8.encode(text.slice(0, int(r, text.length))) })
    } else if (roll < 0.42) {
      out.push({ kind: 'oversize', bytes: new Uint8Array(0) })
    } else {
      const bytes = utf8.encode(JSON.stringify(mutate(r, templates(r), maxBytes)))
      if (bytes.byteLength <= maxBytes && isRefused(bytes, accepts)) out.push({ kind: 'mutated', bytes })
    }
  }
  return out
}

const strict = new TextDecoder('utf8', { fatal: true })

/** true unless `bytes` decode to a message the schema accepts */
function isRefused (bytes: Uint8Array, accepts: Validator<unknown>): boolean {
  try {
    return !accepts.check(JSON.parse(strict.decode(bytes)))
  } catch {
    return true
  }
}


/** the bytes on the wire: a length prefix and the payload; an `oversize` frame declares more than `maxBytes` and sends a little */
export function wire (frame: Frame, maxBytes: number): Uint8Array {
  if (frame.kind === 'oversize') {
    const prefix = varint(maxBytes + 1)
    return Uint8Array.from([...prefix, 1, 2, 3])
  }
  const prefix = varint(frame.bytes.byteLength)
  const out = new Uint8Array(prefix.byteLength + frame.bytes.byteLength)
  out.set(prefix, 0)
  out.set(frame.bytes, prefix.byteLength)
  return out
}

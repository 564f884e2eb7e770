/**
 * Checks of ops from outside. Whatever the input, the only error thrown is `InvalidOpError`.
 */
import { assertHlc } from '../crdt/index.js'
import { KIND_PATTERN, MAX_AUTHOR_LENGTH, MAX_KIND_LENGTH, MAX_OP_BYTES, MAX_SEQ } from './constants.js'
import { encodeOpText } from './encode.js'
import { InvalidOpError } from './errors.js'
import { hasExactKeys, isPlainObject } from '../../model/guards.js'
import { opKindSpec } from './kinds.js'
import type { Op } from './types.js'

const OP_KEYS = ['author', 'seq', 'hlc', 'kind', 'body'] as const
const HLC_KEYS = ['wall', 'logical', 'node'] as const
const AUTHOR_PATTERN = /^[\x21-\x7e]+$/

/** An op that passed `checkOp`, with its canonical encoding (as text) and that encoding's size in bytes. */
export interface CheckedOp {
  op: Op
  /** the canonical encoding (`encodeOpText`): hash it with `sha256` */
  text: string
  /** its UTF-8 length */
  size: number
}

/**
 * Checks untrusted input and returns a fresh, well-formed `Op` (only its own fields).
 * Throws `InvalidOpError` and nothing else.
 */
export function validateOp (input: unknown): Op {
  return checkOp(input).op
}

/**
 * `validateOp` that also returns the op's canonical encoding (so callers hash it without
 * encoding twice). When `author` is given, the op must be that author's.
 */
export function checkOp (input: unknown, author?: string): CheckedOp {
  try {
    return check(input, author)
  } catch (err) {
    if (err instanceof InvalidOpError) throw err
    throw new InvalidOpError(`malformed op: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function check (input: unknown, author: string | undefined): CheckedOp {
  if (!isPlainObject(input) || !hasExactKeys(input, OP_KEYS)) {
    throw new InvalidOpError('an op is an object with exactly author, seq, hlc, kind and body')
  }
  const { seq, hlc, kind, body } = input
  if (typeof input.author !== 'string' || input.author.length > MAX_AUTHOR_LENGTH || !AUTHOR_PATTERN.test(input.author)) {
    throw new InvalidOpError(`an op author is a peer id of 1..${MAX_AUTHOR_LENGTH} printable characters`)
  }
  if (author !== undefined && input.author !== author) throw new InvalidOpError(`op ${String(seq)} is not by ${author}`)
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || seq > MAX_SEQ) {
    throw new InvalidOpError('an op seq is a positive safe integer')
  }
  if (!isPlainObject(hlc) || !hasExactKeys(hlc, HLC_KEYS)) {
    throw new InvalidOpError(`op ${seq}: hlc is exactly { wall, logical, node }`)
  }
  const clock = { wall: hlc.wall as number, logical: hlc.logical as number, node: hlc.node as string }
  try {
    assertHlc(clock)
  } catch (err) {
    throw new InvalidOpError(`op ${seq}: ${(err as Error).message}`)
  }
  if (clock.node !== input.author) throw new InvalidOpError(`op ${seq}: hlc node must be the author`)
  if (typeof kind !== 'string' || kind.length > MAX_KIND_LENGTH || !KIND_PATTERN.test(kind)) {
    throw new InvalidOpError(`op ${seq}: kind must match ${String(KIND_PATTERN)} (at most ${MAX_KIND_LENGTH} characters)`)
  }
  if (body === undefined) throw new InvalidOpError(`op ${seq}: body is missing`)
  const op: Op = { author: input.author, seq, hlc: clock, kind, body }
  const text = encodeOpText(op)
  const size = Buffer.byteLength(text, 'utf8')
  if (size > MAX_OP_BYTES) {
    throw new InvalidOpError(`op ${seq} is ${size} bytes encoded; the limit is ${MAX_OP_BYTES}`)
  }
  opKindSpec(kind)?.validateBody(body, size)
  return { op, text, size }
}

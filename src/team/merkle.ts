/**
 * A Merkle tree over sha256 with the shape of RFC 9162 (Certificate Transparency v2):
 * leaves hash as `sha256(0x00 ‖ data)` and inner nodes as `sha256(0x01 ‖ left ‖ right)`,
 * so a leaf can never pass for a node; a tree of n leaves splits at the largest power of
 * two below n. One signature over the root (and n) then stands for every leaf, and each
 * leaf's inclusion path (at most ⌈log₂ n⌉ sibling hashes) proves it offline. Pure.
 */
import { hash } from 'node:crypto'

/** Most leaves one tree (one signature) may cover. */
export const MAX_MERKLE_LEAVES = 4096
/** Longest inclusion path: ⌈log₂ MAX_MERKLE_LEAVES⌉. */
export const MAX_MERKLE_PATH = 12
/** Bytes of a hash. */
export const MERKLE_HASH_LENGTH = 32

const LEAF = Buffer.from([0])
/** 0x01 ‖ left ‖ right, reused: one-shot `hash` of a filled buffer is the cheapest sha256 here */
const pair = Buffer.alloc(1 + 2 * MERKLE_HASH_LENGTH)

export function leafHash (data: Uint8Array): Uint8Array {
  return hash('sha256', Buffer.concat([LEAF, data]), 'buffer')
}

/** Throws a `RangeError` unless both hashes are 32 bytes. */
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== MERKLE_HASH_LENGTH || right.length !== MERKLE_HASH_LENGTH) throw new RangeError(`a Merkle node joins two ${MERKLE_HASH_LENGTH}-byte hashes`)
  pair[0] = 1
  pair.set(left, 1)
  pair.set(right, 1 + MERKLE_HASH_LENGTH)
  return hash('sha256', pair, 'buffer')
}

export interface MerkleTree {
  root: Uint8Array
  /** per leaf, the sibling hashes from the leaf up */
  paths: Uint8Array[][]
}

/**
 * The root of `leaves` (leaf hashes, 1..MAX_MERKLE_LEAVES) and every leaf's inclusion
 * path. Built level by level: an unpaired last node moves up unchanged, which yields
 * RFC 9162's tree. Throws a `RangeError` for 0 or too many leaves.
 */
export function merkleTree (leaves: Uint8Array[]): MerkleTree {
  if (leaves.length === 0 || leaves.length > MAX_MERKLE_LEAVES) throw new RangeError(`a Merkle tree has 1..${MAX_MERKLE_LEAVES} leaves, not ${leaves.length}`)
  const paths: Uint8Array[][] = leaves.map(() => [])
  // which node of the current level each leaf is under
  const at = leaves.map((_, i) => i)
  let level = leaves
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let j = 0; j + 1 < level.length; j += 2) next.push(nodeHash(level[j], level[j + 1]))
    if (level.length % 2 === 1) next.push(level[level.length - 1])
    for (let i = 0; i < leaves.length; i++) {
      const sibling = at[i] ^ 1
      if (sibling < level.length) paths[i].push(level[sibling])
      at[i] >>= 1
    }
    level = next
  }
  return { root: level[0], paths }
}

/**
 * Where a walk up an inclusion path stands (RFC 9162 §2.1.3.2): the hash reached, `fn`
 * the node's index on its level and `sn` the last index of that level.
 */
export interface PathStep {
  node: Uint8Array
  fn: number
  sn: number
}

/** The first step of the walk from `leaf` at `index` of `size`, or `undefined` when out of range. */
export function pathStart (leaf: Uint8Array, index: number, size: number): PathStep | undefined {
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_MERKLE_LEAVES) return undefined
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) return undefined
  return { node: leaf, fn: index, sn: size - 1 }
}

/** The walk from `from` up by `path`, or `undefined` when the path cannot be this node's. */
export function climb (from: PathStep, path: readonly Uint8Array[]): PathStep | undefined {
  let { fn, sn, node: r } = from
  for (const p of path) {
    if (p.length !== MERKLE_HASH_LENGTH || sn === 0) return undefined
    if ((fn & 1) === 1 || fn === sn) {
      r = nodeHash(p, r)
      // skip the levels where this node had no right sibling and moved up unchanged
      while ((fn & 1) === 0 && fn !== 0) {
        fn >>= 1
        sn >>= 1
      }
    } else {
      r = nodeHash(r, p)
    }
    fn >>= 1
    sn >>= 1
  }
  return { node: r, fn, sn }
}

/**
 * The root that `leaf` (a leaf hash) at `index` of a tree of `size` leaves reaches by
 * `path`, or `undefined` when the path cannot be that leaf's (wrong length, index out of
 * range). The caller compares the root with a signed one.
 */
export function rootFromPath (leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Uint8Array | undefined {
  const start = pathStart(leaf, index, size)
  if (start === undefined || path.length > MAX_MERKLE_PATH) return undefined
  const end = climb(start, path)
  return end?.sn === 0 ? end.node : undefined
}

/**
 * The Merkle tree of batch proofs (`src/team/merkle.ts`): RFC 9162's tree, built level by
 * level, checked against the RFC's recursive definitions; every path leads to the root,
 * and nothing else does.
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MAX_MERKLE_LEAVES, MAX_MERKLE_PATH, leafHash, merkleTree, nodeHash, rootFromPath
} from '../../../src/team/merkle.js'

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** RFC 9162 §2.1.1 MTH, over leaf data */
function mth (data: Uint8Array[]): Buffer {
  if (data.length === 1) return sha(Buffer.from([0]), data[0])
  let k = 1
  while (k * 2 < data.length) k *= 2
  return sha(Buffer.from([1]), mth(data.slice(0, k)), mth(data.slice(k)))
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) */
function refPath (m: number, data: Uint8Array[]): Buffer[] {
  if (data.length === 1) return []
  let k = 1
  while (k * 2 < data.length) k *= 2
  return m < k ? [...refPath(m, data.slice(0, k)), mth(data.slice(k))] : [...refPath(m - k, data.slice(k)), mth(data.slice(0, k))]
}

const leavesOf = (n: number, tag = 'x'): Uint8Array[] => Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`))
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('Merkle tree', () => {
  it('is RFC 9162\'s: the same root and inclusion paths for 1 to 70 leaves', () => {
    for (let n = 1; n <= 70; n++) {
      const data = leavesOf(n)
      const { root, paths } = merkleTree(data.map(leafHash))
      expect(hex(root), `n=${n}`).toBe(hex(mth(data)))
      for (let i = 0; i < n; i++) {
        expect(paths[i].map(hex), `n=${n} i=${i}`).toEqual(refPath(i, data).map(hex))
        expect(hex(rootFromPath(leafHash(data[i]), i, n, paths[i]) ?? new Uint8Array()), `n=${n} i=${i}`).toBe(hex(root))
      }
    }
  })

  it('separates leaves from nodes, so a node cannot pass for a leaf', () => {
    const [a, b] = leavesOf(2).map(leafHash)
    expect(hex(leafHash(Buffer.from('x')))).toBe(hex(sha(Buffer.from([0]), Buffer.from('x'))))
    expect(hex(nodeHash(a, b))).toBe(hex(sha(Buffer.from([1]), a, b)))
    // the two children's bytes as one leaf: another hash than their node
    expect(hex(leafHash(Buffer.concat([a, b])))).not.toBe(hex(nodeHash(a, b)))
    // the node itself as a leaf of a one-leaf tree does not reach the root of two
    expect(rootFromPath(nodeHash(a, b), 0, 2, [])).toBeUndefined()
    expect(() => nodeHash(a, b.subarray(1))).toThrow(RangeError)
  })

  it('holds 1 to 4,096 leaves, with paths of at most 12 hashes', () => {
    expect(() => merkleTree([])).toThrow(RangeError)
    expect(() => merkleTree(Array.from({ length: MAX_MERKLE_LEAVES + 1 }, () => new Uint8Array(32)))).toThrow(RangeError)
    const data = leavesOf(MAX_MERKLE_LEAVES)
    const { root, paths } = merkleTree(data.map(leafHash))
    expect(MAX_MERKLE_PATH).toBe(12)
    expect(Math.max(...paths.map(p => p.length))).toBe(MAX_MERKLE_PATH)
    expect(hex(rootFromPath(leafHash(data[4095]), 4095, MAX_MERKLE_LEAVES, paths[4095]) ?? new Uint8Array())).toBe(hex(root))
    // the same path one size past the bound is refused without hashing
    expect(rootFromPath(leafHash(data[0]), 0, MAX_MERKLE_LEAVES + 1, paths[0])).toBeUndefined()
  })

  it('a path of one size can reach the same root at another: what is signed must bind the size', () => {
    const data = leavesOf(3)
    const { root, paths } = merkleTree(data.map(leafHash))
    // leaf 0 of three: [leaf 1, leaf 2]; read as leaf 0 of four, the same hashes give the same root
    expect(hex(rootFromPath(leafHash(data[0]), 0, 4, paths[0]) ?? new Uint8Array())).toBe(hex(root))
  })

  it('reaches the root from no other index, path or leaf', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), (n, a, b) => {
      const data = leavesOf(n, `r${n}`)
      const { root, paths } = merkleTree(data.map(leafHash))
      const i = a % n
      const leaf = leafHash(data[i])
      const path = paths[i]
      const reaches = (l: Uint8Array, idx: number, size: number, p: Uint8Array[]): boolean => {
        const r = rootFromPath(l, idx, size, p)
        return r !== undefined && hex(r) === hex(root)
      }
      expect(reaches(leaf, i, n, path)).toBe(true)
      const j = (i + 1 + (b % (n - 1))) % n
      expect(reaches(leaf, j, n, path)).toBe(false)
      expect(reaches(leafHash(data[j]), i, n, path)).toBe(false)
      for (let k = 0; k < path.length; k++) {
        const bent = path.map(h => Buffer.from(h))
        bent[k][b % 32] ^= 1 << (a % 8)
        expect(reaches(leaf, i, n, bent)).toBe(false)
      }
      expect(rootFromPath(leaf, i, n, path.slice(1))).toBeUndefined()
      expect(rootFromPath(leaf, i, n, [...path, path[0] ?? leaf])).toBeUndefined()
    }), { numRuns: 60 })
  })

  it('refuses out-of-range indexes and sizes and malformed paths', () => {
    const data = leavesOf(5)
    const { paths } = merkleTree(data.map(leafHash))
    const leaf = leafHash(data[1])
    for (const [i, n] of [[-1, 5], [5, 5], [0, 0], [1.5, 5], [1, 5.5], [Number.NaN, 5]]) {
      expect(rootFromPath(leaf, i, n, paths[1]), `${i}/${n}`).toBeUndefined()
    }
    expect(rootFromPath(leaf, 1, 5, [paths[1][0].subarray(0, 31), ...paths[1].slice(1)])).toBeUndefined()
    expect(rootFromPath(leaf, 1, 5, Array.from({ length: 13 }, () => new Uint8Array(32)))).toBeUndefined()
  })
})

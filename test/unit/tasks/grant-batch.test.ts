/**
 * Lease grants signed per batch (`signGrants`): one signature over a Merkle root, each
 * grant with its inclusion proof; the grant of one attempt verifies for that attempt only;
 * v1 grants stay valid; the wire schema and the executor's offer check take both forms.
 */
import fc from 'fast-check'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../../src/team/index.js'
import { toBase64url } from '../../../src/team/canonical.js'
import { MAX_MERKLE_LEAVES, MAX_MERKLE_PATH, leafHash, merkleTree } from '../../../src/team/merkle.js'
import { LeaseGrantSchema, taskMessage } from '../../../src/protocol/schemas/task.js'
import { forgetVerified, verifiedCount } from '../../../src/tasks/proof-cache.js'
import {
  GRANT_BATCH_DOMAIN, GRANT_DOMAIN, grantShapeProblem, signGrant, signGrants, verifyGrant,
  type GrantSubject, type LeaseGrant
} from '../../../src/tasks/grant.js'
import { offerRefusal } from '../../../src/tasks/policy.js'
import { clone, makePeers, type TestPeer } from '../team/helpers.js'

let coord: TestPeer
let other: TestPeer
let exec: TestPeer

beforeAll(async () => { [coord, other, exec] = await makePeers(3) })
afterEach(() => { forgetVerified() })

function items (n: number, tag = 'g', epoch = 0): Array<{ subject: GrantSubject, epoch: number }> {
  return Array.from({ length: n }, (_, i) => ({ subject: { taskId: `t-${tag}-${i}`, attempt: 1 + (i % 4), executor: exec.peerId }, epoch }))
}

const reasonOf = (grant: unknown, subject: GrantSubject): string => {
  const check = verifyGrant(grant, subject)
  return check.ok ? 'ok' : check.reason
}

/** `signer`'s signature of the root of the tree over `list`'s grants by `coordinator` */
function rootSig (list: Array<{ subject: GrantSubject, epoch: number }>, coordinator: string, signer: TestPeer['signer']): string {
  const leaves = list.map(({ subject, epoch }) => leafHash(new TextEncoder().encode(GRANT_DOMAIN + canonicalJson({ ...subject, coordinator, epoch }))))
  const { root } = merkleTree(leaves)
  return toBase64url(signer.sign(new TextEncoder().encode(GRANT_BATCH_DOMAIN + canonicalJson({ n: list.length, root: Buffer.from(root).toString('hex') }))))
}

describe('lease grants signed per batch', () => {
  it('every grant of random batches of 1 to 1,000 verifies for its own subject, one signature checked per batch', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), n => {
      const list = items(n, `r${n}`)
      const grants = signGrants(list, coord.signer)
      forgetVerified()
      expect(grants).toHaveLength(n)
      for (const [i, g] of grants.entries()) {
        expect(grantShapeProblem(g)).toBeUndefined()
        expect(verifyGrant(clone(g), list[i].subject), `${i}/${n}`).toStrictEqual({ ok: true })
      }
      expect(verifiedCount()).toBe(1)
    }), { numRuns: 6, examples: [[1], [2], [1000]] })
  })

  it('a lone grant keeps the v1 form, as main signed it', () => {
    const [g] = signGrants(items(1), coord.signer)
    expect(Object.keys(g).sort()).toEqual(['coordinator', 'epoch', 'sig'])
    const subject = items(1)[0].subject
    expect(g.sig).toBe(toBase64url(coord.signer.sign(new TextEncoder().encode(GRANT_DOMAIN + canonicalJson({ ...subject, coordinator: coord.peerId, epoch: 0 })))))
    expect(signGrant(subject, 0, coord.signer)).toStrictEqual(g)
  })

  it('fails for another subject, epoch, coordinator, index, size or path entry', () => {
    const list = items(21, 'x', 2)
    const grants = signGrants(list, coord.signer)
    const g = grants[9]
    const s = list[9].subject
    expect(verifyGrant(g, s)).toStrictEqual({ ok: true })
    for (const subject of [{ ...s, taskId: 't-x-10' }, { ...s, attempt: s.attempt + 1 }, { ...s, executor: other.peerId }, list[10].subject]) {
      expect(reasonOf(g, subject), JSON.stringify(subject)).toMatch(/^the grant does not verify as 12D3\S+'s for attempt \d+ by /)
    }
    expect(reasonOf({ ...g, epoch: 3 }, s)).not.toBe('ok')
    expect(reasonOf({ ...g, coordinator: other.peerId }, s)).not.toBe('ok')
    const batch = g.batch as NonNullable<LeaseGrant['batch']>
    for (const i of [8, 10, 0]) expect(reasonOf({ ...g, batch: { ...batch, i } }, s), `i=${i}`).not.toBe('ok')
    for (const n of [10, 20, 22, 32]) expect(reasonOf({ ...g, batch: { ...batch, n } }, s), `n=${n}`).not.toBe('ok')
    for (let k = 0; k < batch.path.length; k++) {
      const path = [...batch.path]
      const bytes = Buffer.from(path[k], 'base64url')
      bytes[31] ^= 0x80
      path[k] = bytes.toString('base64url')
      expect(reasonOf({ ...g, batch: { ...batch, path } }, s), `path[${k}]`).not.toBe('ok')
    }
    expect(verifyGrant(g, s)).toStrictEqual({ ok: true })
  })

  it('fails under another batch\'s signature, another signer\'s, or with the proof stripped or glued on', () => {
    const a = items(6, 'a')
    const b = items(6, 'b')
    const ga = signGrants(a, coord.signer)
    const gb = signGrants(b, coord.signer)
    expect(reasonOf({ ...ga[2], sig: gb[2].sig }, a[2].subject)).not.toBe('ok')
    expect(reasonOf({ ...ga[2], sig: gb[2].sig, batch: gb[2].batch }, a[2].subject)).not.toBe('ok')
    // the same root, signed by a peer that names the real coordinator
    expect(reasonOf({ ...ga[2], sig: rootSig(a, coord.peerId, other.signer) }, a[2].subject)).not.toBe('ok')
    // the other peer's own batch over the same subjects does not lend its proof to the coordinator's grant
    const theirs = signGrants(a, other.signer)
    expect(reasonOf({ ...ga[2], sig: theirs[2].sig, batch: theirs[2].batch }, a[2].subject)).not.toBe('ok')
    const { batch: _b, ...stripped } = ga[2]
    expect(reasonOf(stripped, a[2].subject)).not.toBe('ok')
    const v1 = signGrant(a[2].subject, 0, coord.signer)
    expect(verifyGrant(v1, a[2].subject)).toStrictEqual({ ok: true })
    expect(reasonOf({ ...v1, batch: { i: 0, n: 1, path: [] } }, a[2].subject)).not.toBe('ok')
    expect(reasonOf({ ...v1, batch: ga[2].batch }, a[2].subject)).not.toBe('ok')
  })

  it('a bad signature after a good one for the same root still fails', () => {
    const list = items(4, 'c')
    const grants = signGrants(list, coord.signer)
    forgetVerified()
    expect(verifyGrant(grants[0], list[0].subject)).toStrictEqual({ ok: true })
    const bad = { ...grants[1], sig: rootSig(list, coord.peerId, other.signer) }
    expect(reasonOf(bad, list[1].subject)).not.toBe('ok')
    expect(verifiedCount()).toBe(1)
    expect(verifyGrant(grants[1], list[1].subject)).toStrictEqual({ ok: true })
  })

  it('names a malformed batch field, refuses a bad epoch before signing, and never throws', () => {
    const [g] = signGrants(items(2, 'm'), coord.signer)
    expect(grantShapeProblem({ ...g, batch: { ...g.batch, n: 0 } })).toMatch(/^a grant's batch\.n must be/)
    expect(grantShapeProblem({ ...g, batch: { ...g.batch, extra: 1 } })).toMatch(/^a grant's batch must be exactly/)
    expect(grantShapeProblem({ ...g, batch: null })).toMatch(/^a grant's batch must be an object/)
    expect(grantShapeProblem({ ...g, more: 1 })).toBe('a grant is exactly { coordinator, epoch, sig, batch? }')
    expect(reasonOf({ ...g, batch: { ...g.batch, i: 2 } }, items(2, 'm')[0].subject)).toMatch(/^malformed grant: a grant's batch\.i must be/)
    expect(() => signGrants([...items(2), { subject: items(1)[0].subject, epoch: -1 }], coord.signer)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    fc.assert(fc.property(fc.anything(), value => {
      expect(verifyGrant({ ...g, batch: value }, items(2, 'm')[0].subject).ok).toBe(false)
    }), { numRuns: 200 })
  })
})

describe('batch grants on the wire and at offer time', () => {
  const offerOf = (grant: LeaseGrant, subject: GrantSubject): { t: 'offer', id: number, task: Record<string, unknown> } => ({
    t: 'offer',
    id: 1,
    task: { taskId: subject.taskId, attempt: subject.attempt, agent: 'echo', input: null, priority: 'normal', leaseMs: 5000, coordinator: grant.coordinator, grant }
  })

  it('the schema takes both forms within the proof bounds', () => {
    expect(LeaseGrantSchema.properties.batch).toBeDefined()
    const list = items(4096, 'w')
    const grants = signGrants(list, coord.signer)
    const last = grants[4095]
    expect(last.batch?.path).toHaveLength(MAX_MERKLE_PATH)
    expect(taskMessage.problem(offerOf(last, list[4095].subject))).toBeNull()
    expect(taskMessage.problem(offerOf(signGrant(list[0].subject, 0, coord.signer), list[0].subject))).toBeNull()
    const batch = last.batch as NonNullable<LeaseGrant['batch']>
    for (const bad of [
      { ...batch, n: MAX_MERKLE_LEAVES + 1 },
      { ...batch, i: MAX_MERKLE_LEAVES },
      { ...batch, path: [...batch.path, batch.path[0]] },
      { ...batch, path: [`${batch.path[0]}A`] },
      { ...batch, extra: 1 }
    ]) expect(taskMessage.problem(offerOf({ ...last, batch: bad as typeof batch }, list[4095].subject)), JSON.stringify(bad).slice(0, 80)).not.toBeNull()
  })

  it('an executor takes an offer with a batch grant naming it, and refuses one with a forged proof', () => {
    const list = items(5, 'o')
    const grants = signGrants(list, coord.signer)
    const ctx = { selfId: exec.peerId, caps: { admin: 'critical', member: 'high', guest: 'low' } as const, roleOf: (p: string) => (p === coord.peerId ? 'member' as const : undefined) }
    const offered = (g: LeaseGrant, s: GrantSubject): Parameters<typeof offerRefusal>[0] => offerOf(g, s).task as unknown as Parameters<typeof offerRefusal>[0]
    for (const [i, g] of grants.entries()) expect(offerRefusal(offered(g, list[i].subject), coord.peerId, ctx), `${i}`).toBeUndefined()
    expect(offerRefusal(offered(grants[1], list[2].subject), coord.peerId, ctx)).toMatch(/no valid lease grant/)
    expect(offerRefusal(offered({ ...grants[1], sig: grants[0].sig.replace(/^./, c => (c === 'A' ? 'B' : 'A')) }, list[1].subject), coord.peerId, ctx)).toMatch(/no valid lease grant/)
    expect(offerRefusal(offered(grants[1], list[1].subject), coord.peerId, { ...ctx, selfId: other.peerId })).toMatch(/no valid lease grant/)
  })
})

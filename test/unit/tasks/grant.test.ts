import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { signGrant, verifyGrant } from '../../../src/tasks/grant.js'
import { makePeers, type TestPeer } from '../team/helpers.js'

let coord: TestPeer
let other: TestPeer
const subject = { taskId: 'task-1', attempt: 2, executor: '12D3KooWexecutor' }

beforeAll(async () => { [coord, other] = await makePeers(2) })

describe('lease grants', () => {
  it('verify for the subject they were signed for, and for nothing else', () => {
    const grant = signGrant(subject, 3, coord.signer)
    expect(grant).toMatchObject({ coordinator: coord.peerId, epoch: 3 })
    expect(verifyGrant(grant, subject)).toStrictEqual({ ok: true })
    expect(verifyGrant(grant, { ...subject, attempt: 3 }).ok).toBe(false)
    expect(verifyGrant(grant, { ...subject, taskId: 'task-2' }).ok).toBe(false)
    expect(verifyGrant(grant, { ...subject, executor: other.peerId }).ok).toBe(false)
    // another epoch or another coordinator named over the same signature
    expect(verifyGrant({ ...grant, epoch: 0 }, subject).ok).toBe(false)
    expect(verifyGrant({ ...grant, coordinator: other.peerId }, subject)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) as unknown })
  })

  it('refuses malformed grants with a reason and never throws', () => {
    expect(verifyGrant(undefined, subject)).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed grant/) as unknown })
    expect(verifyGrant({ ...signGrant(subject, 0, coord.signer), extra: 1 }, subject).ok).toBe(false)
    expect(() => signGrant(subject, -1, coord.signer)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
    fc.assert(fc.property(fc.anything(), value => { expect(verifyGrant(value, subject).ok).toBe(false) }), { numRuns: 300 })
  })
})

import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  InvalidCertificateError, canonicalJson, createInvite, issueCertificate, signEd25519, verifyCertificate,
  type Grant, type MemberCertificate
} from '../../../src/team/index.js'
import { HOUR, T0, clone, invite, makePeer, makeTeam, type TestPeer, type TestTeam } from './helpers.js'

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')

function expectInvalid (cert: unknown, t: TestTeam, now = T0 + 2000, message?: RegExp): void {
  let error: unknown
  try {
    verifyCertificate(cert, t.team, now)
  } catch (err) {
    error = err
  }
  expect(error).toBeInstanceOf(InvalidCertificateError)
  expect((error as Error).name).toBe('InvalidCertificateError')
  expect((error as Error).message).not.toContain('\n')
  if (message != null) expect((error as Error).message).toMatch(message)
}

/** Re-signs a grant with any seed: how a non-admin would forge one. */
function signGrantWith (body: Omit<Grant, 'sig'>, seed: Uint8Array): Grant {
  const bytes = new TextEncoder().encode('paired/grant/v1\n' + canonicalJson(body))
  return { ...body, sig: b64url(signEd25519(seed, bytes)) }
}

function signCertWith (body: Omit<MemberCertificate, 'sig'>, seed: Uint8Array): MemberCertificate {
  const bytes = new TextEncoder().encode('paired/cert/v1\n' + canonicalJson(body))
  return { ...body, sig: b64url(signEd25519(seed, bytes)) }
}

let t: TestTeam
let other: TestTeam
let bob: TestPeer
let carol: TestPeer
let bobCert: MemberCertificate

beforeAll(async () => {
  t = await makeTeam()
  other = await makeTeam('other')
  bob = await makePeer()
  carol = await makePeer()
  bobCert = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: bob.peerId, name: 'bob', role: 'member', now: T0 })
})

describe('createTeam', () => {
  it('derives the team id from the team key and makes a 32-byte psk', () => {
    const raw = Buffer.from(t.team.publicKey, 'base64url')
    expect(raw).toHaveLength(32)
    expect(t.team.teamId).toBe(createHash('sha256').update(raw).digest().subarray(0, 16).toString('hex'))
    expect(t.team.psk).toMatch(/^[0-9a-f]{64}$/)
    expect(t.team.psk).not.toBe(other.team.psk)
    expect(t.teamSeed).toHaveLength(32)
  })

  it('gives the founder an admin certificate signed by the team key', () => {
    expect(t.founderCert).toMatchObject({ v: 1, teamId: t.team.teamId, peerId: t.founder.peerId, role: 'admin', issuedAt: T0 })
    expect(t.founderCert.grant).toBeUndefined()
    verifyCertificate(t.founderCert, t.team, T0)
  })
})

describe('team-signed certificates', () => {
  it('verify', () => {
    verifyCertificate(bobCert, t.team, T0 + HOUR)
  })

  it('refuses to issue with a seed that is not the team key', () => {
    expect(() => issueCertificate({ team: t.team, teamSeed: other.teamSeed, peerId: bob.peerId, name: 'bob', role: 'member', now: T0 }))
      .toThrow(expect.objectContaining({ name: 'InvalidArgumentError' }))
  })

  it.each([
    ['role', (c: MemberCertificate) => { c.role = 'admin' }, /bad signature/],
    ['peerId', (c: MemberCertificate) => { c.peerId = carol.peerId }, /bad signature/],
    ['teamId', (c: MemberCertificate) => { c.teamId = other.team.teamId }, /is for team .* not /],
    ['name', (c: MemberCertificate) => { c.name = 'mallory' }, /bad signature/],
    ['issuedAt', (c: MemberCertificate) => { c.issuedAt += 1 }, /bad signature/],
    ['expiresAt', (c: MemberCertificate) => { c.expiresAt = T0 + 10 * HOUR }, /bad signature/],
    ['sig', (c: MemberCertificate) => { c.sig = t.founderCert.sig }, /bad signature/],
    ['extra field', (c: MemberCertificate) => { (c as unknown as Record<string, unknown>).admin = true }, /unexpected field/]
  ])('rejects a tampered %s', (_field, tamper, message) => {
    const cert = clone(bobCert)
    tamper(cert)
    expectInvalid(cert, t, T0 + 2000, message)
  })

  it('rejects a certificate of another team', () => {
    expectInvalid(other.founderCert, t, T0, /certificate of .* is for team .*, not /)
  })

  it('rejects an expired certificate, accepts it up to its expiry', () => {
    const cert = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: bob.peerId, name: 'bob', role: 'guest', now: T0, expiresAt: T0 + HOUR })
    verifyCertificate(cert, t.team, T0 + HOUR)
    expectInvalid(cert, t, T0 + HOUR + 1, /expired at 2025-01-01T01:00:00.000Z/)
  })

  it('rejects a certificate signed by a peer key instead of the team key', () => {
    const { sig: _sig, ...body } = bobCert
    expectInvalid(signCertWith(body, t.founder.seed), t, T0, /bad signature/)
  })

  it('treats malformed input as invalid, never crashing', () => {
    const bad: unknown[] = [
      null, undefined, 42, 'cert', [], [bobCert], {},
      { ...bobCert, v: 2 }, { ...bobCert, peerId: 'nope' }, { ...bobCert, peerId: 7 }, { ...bobCert, role: 'owner' },
      { ...bobCert, name: '' }, { ...bobCert, name: 'a\u001b[2J' }, { ...bobCert, name: 'x'.repeat(129) },
      { ...bobCert, issuedAt: '1' }, { ...bobCert, issuedAt: -1 }, { ...bobCert, issuedAt: 1.5 }, { ...bobCert, issuedAt: NaN },
      { ...bobCert, expiresAt: T0 - 1 }, { ...bobCert, expiresAt: null }, { ...bobCert, sig: 'AAAA' }, { ...bobCert, sig: 42 },
      { ...bobCert, sig: bobCert.sig + '=' }, { ...bobCert, teamId: t.team.teamId.toUpperCase() }, { ...bobCert, grant: null },
      { ...bobCert, grant: {} }, { ...bobCert, grant: 'x' }, Object.assign(Object.create(null), bobCert, { v: 3 })
    ]
    for (const cert of bad) expectInvalid(cert, t)
  })

  it('never throws anything but InvalidCertificateError on random values (1000 runs)', () => {
    const certLike = fc.record({
      v: fc.oneof(fc.constant(1), fc.anything()),
      teamId: fc.oneof(fc.constant(t.team.teamId), fc.string()),
      peerId: fc.oneof(fc.constant(bob.peerId), fc.string()),
      name: fc.string(),
      role: fc.oneof(fc.constantFrom('admin', 'member', 'guest'), fc.anything()),
      issuedAt: fc.oneof(fc.integer(), fc.double(), fc.anything()),
      sig: fc.oneof(fc.constant(bobCert.sig), fc.base64String()),
      grant: fc.anything()
    }, { requiredKeys: [] })
    fc.assert(fc.property(fc.oneof(fc.anything(), certLike), value => {
      try {
        verifyCertificate(value, t.team, T0)
        return false
      } catch (err) {
        return err instanceof InvalidCertificateError
      }
    }), { numRuns: 1000 })
  })
})

describe('invite-derived certificates', () => {
  it('verify, with the grant role and a chain to the founder', () => {
    const { cert } = invite(t, { cert: t.founderCert, signer: t.founder.signer }, bob, { role: 'guest' })
    expect(cert.role).toBe('guest')
    expect(cert.grant?.issuer).toEqual(t.founderCert)
    verifyCertificate(cert, t.team, T0 + 2000)
  })

  it.each([
    ['role', (c: MemberCertificate) => { c.role = 'admin' }, /claims role admin/],
    ['role and grant role', (c: MemberCertificate) => { c.role = 'admin'; c.grant!.role = 'admin' }, /bad signature/],
    ['peerId', (c: MemberCertificate) => { c.peerId = carol.peerId }, /bad signature/],
    ['teamId', (c: MemberCertificate) => { c.teamId = other.team.teamId }, /is for team/],
    ['expiresAt', (c: MemberCertificate) => { c.expiresAt = T0 + 5 * HOUR }, /bad signature/],
    ['grant maxUses', (c: MemberCertificate) => { c.grant!.maxUses = 99 }, /bad signature/],
    ['grant expiresAt', (c: MemberCertificate) => { c.grant!.expiresAt += 1 }, /bad signature/],
    ['issuer (another admin cert)', (c: MemberCertificate) => { c.grant!.issuer = other.founderCert }, /bad signature/],
    ['issuer role', (c: MemberCertificate) => { c.grant!.issuer.role = 'member' }, /not an admin/]
  ])('rejects a tampered %s', (_field, tamper, message) => {
    const { cert } = invite(t, { cert: t.founderCert, signer: t.founder.signer }, bob)
    const copy = clone(cert)
    tamper(copy)
    expectInvalid(copy, t, T0 + 2000, message)
  })

  it('rejects a certificate issued outside its invite window', () => {
    const { token } = invite(t, { cert: t.founderCert, signer: t.founder.signer }, bob)
    const late = signCertWith({ v: 1, teamId: t.team.teamId, peerId: bob.peerId, name: 'bob', role: 'member', issuedAt: token.grant.expiresAt + 1, grant: token.grant }, bob.seed)
    expectInvalid(late, t, T0 + 2000, /outside its invite's validity/)
    const early = signCertWith({ v: 1, teamId: t.team.teamId, peerId: bob.peerId, name: 'bob', role: 'member', issuedAt: T0 - 1, grant: token.grant }, bob.seed)
    expectInvalid(early, t, T0 + 2000, /outside its invite's validity/)
  })

  it('rejects a certificate signed by someone other than its peer', () => {
    const { token } = invite(t, { cert: t.founderCert, signer: t.founder.signer }, bob)
    const forged = signCertWith({ v: 1, teamId: t.team.teamId, peerId: carol.peerId, name: 'carol', role: 'member', issuedAt: T0 + 1, grant: token.grant }, bob.seed)
    expectInvalid(forged, t, T0 + 2000, /not by its own peer key/)
  })

  it('rejects a grant issued by a member (non-admin)', () => {
    const grant = signGrantWith({
      v: 1, teamId: t.team.teamId, inviteId: 'ab'.repeat(16), role: 'admin', issuedAt: T0, expiresAt: T0 + HOUR, maxUses: 1, issuer: bobCert
    }, bob.seed)
    const cert = signCertWith({ v: 1, teamId: t.team.teamId, peerId: carol.peerId, name: 'carol', role: 'admin', issuedAt: T0 + 1, grant }, carol.seed)
    expectInvalid(cert, t, T0 + 2, /is not an admin/)
  })

  it('rejects a grant by an admin key that is not the issuer certificate holder', () => {
    const grant = signGrantWith({
      v: 1, teamId: t.team.teamId, inviteId: 'cd'.repeat(16), role: 'member', issuedAt: T0, expiresAt: T0 + HOUR, maxUses: 1, issuer: t.founderCert
    }, bob.seed)
    const cert = signCertWith({ v: 1, teamId: t.team.teamId, peerId: carol.peerId, name: 'carol', role: 'member', issuedAt: T0 + 1, grant }, carol.seed)
    expectInvalid(cert, t, T0 + 2, /bad signature \(not by /)
  })

  it('refuses to let a member create an invite', () => {
    expect(() => createInvite({ team: t.team, issuerCert: bobCert, signer: bob.signer, role: 'member', ttlMs: HOUR, maxUses: 1, addrs: [], now: T0 }))
      .toThrow(expect.objectContaining({ name: 'PermissionDeniedError' }))
  })

  it('accepts a chain through an invited admin, and checks every link', async () => {
    const dave = await makePeer()
    const { cert: carolCert } = invite(t, { cert: t.founderCert, signer: t.founder.signer }, carol, { role: 'admin' })
    const { cert: daveCert } = invite(t, { cert: carolCert, signer: carol.signer }, dave, { now: T0 + 5000 })
    verifyCertificate(daveCert, t.team, T0 + 7000)
    expect(daveCert.grant?.issuer.grant?.issuer.peerId).toBe(t.founder.peerId)
    const tampered = clone(daveCert)
    tampered.grant!.issuer.grant!.issuer.role = 'member'
    expectInvalid(tampered, t, T0 + 7000, /bad signature/)
  })

  it('invalidates certificates whose issuer certificate expired', async () => {
    const erin = await makePeer()
    const shortAdmin = issueCertificate({ team: t.team, teamSeed: t.teamSeed, peerId: carol.peerId, name: 'carol', role: 'admin', now: T0, expiresAt: T0 + HOUR })
    const { cert } = invite(t, { cert: shortAdmin, signer: carol.signer }, erin)
    verifyCertificate(cert, t.team, T0 + HOUR)
    expectInvalid(cert, t, T0 + HOUR + 1, /invite issuer: certificate of .* expired/)
  })

  it('allows a chain of 8 grants and rejects 9', async () => {
    const peers = await Promise.all(Array.from({ length: 9 }, async () => makePeer()))
    let issuer = { cert: t.founderCert, signer: t.founder.signer }
    const certs: MemberCertificate[] = []
    for (const [i, peer] of peers.entries()) {
      if (i < 8) {
        const { cert } = invite(t, issuer, peer, { role: 'admin', now: T0 + i * 10_000 })
        certs.push(cert)
        issuer = { cert, signer: peer.signer }
      }
    }
    verifyCertificate(certs[7], t.team, T0 + HOUR)
    // the 9th link cannot be made through createInvite's own check, so sign it by hand
    const grant = signGrantWith({
      v: 1, teamId: t.team.teamId, inviteId: 'ef'.repeat(16), role: 'member', issuedAt: T0 + HOUR, expiresAt: T0 + 2 * HOUR, maxUses: 1, issuer: certs[7]
    }, peers[7].seed)
    const ninth = signCertWith({ v: 1, teamId: t.team.teamId, peerId: peers[8].peerId, name: 'deep', role: 'member', issuedAt: T0 + HOUR, grant }, peers[8].seed)
    expectInvalid(ninth, t, T0 + HOUR, /chain is deeper than 8/)
  })

  it('rejects a self-referencing (cyclic) chain without overflowing the stack', () => {
    const cert = clone(bobCert) as MemberCertificate
    const grant = { v: 1, teamId: t.team.teamId, inviteId: 'ab'.repeat(16), role: 'member', issuedAt: T0, expiresAt: T0 + HOUR, maxUses: 1, issuer: cert, sig: bobCert.sig } as Grant
    cert.grant = grant
    expectInvalid(cert, t, T0, /deeper than 8/)
  })
})
